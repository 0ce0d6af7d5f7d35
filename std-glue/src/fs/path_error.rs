//! Errors that say which path an operation failed on.
//!
//! `std::fs` errors read "No such file or directory (os error 2)" and
//! nothing more, which leaves a program that touches many files guessing.
//! Every `minirt::fs` function that takes a path wraps its error so the
//! message names the operation and the path, while `kind()` stays the
//! original one, so `match err.kind()` code keeps working. The original
//! error is the wrapper's [`source`](std::error::Error::source).

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// An `io::Error` from `operation` on `path`.
#[derive(Debug)]
struct PathError {
    operation: &'static str,
    path: PathBuf,
    source: io::Error,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} `{}`: {}",
            self.operation,
            self.path.display(),
            self.source
        )
    }
}

impl Error for PathError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// Wraps `source` so its message reads "`operation` `path`: `source`",
/// keeping its kind.
pub(crate) fn with_path(operation: &'static str, path: &Path, source: io::Error) -> io::Error {
    io::Error::new(
        source.kind(),
        PathError {
            operation,
            path: path.to_path_buf(),
            source,
        },
    )
}

/// Wraps the error of `result` with [`with_path`].
pub(crate) fn on_path<T>(
    operation: &'static str,
    path: &Path,
    result: io::Result<T>,
) -> io::Result<T> {
    result.map_err(|error| with_path(operation, path, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_kind_and_names_the_path() {
        let error = with_path(
            "reading",
            Path::new("/no/such"),
            io::Error::from(io::ErrorKind::NotFound),
        );
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        let message = error.to_string();
        assert!(message.starts_with("reading `/no/such`: "), "{message}");
        assert!(error.source().is_some());
    }
}
