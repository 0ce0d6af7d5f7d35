//! The error of [`OnceCell::set`](super::OnceCell::set).

use core::fmt;

/// Why [`OnceCell::set`](super::OnceCell::set) did not store its value,
/// which it gives back.
///
/// ```
/// use minirt_core::sync::{OnceCell, SetError};
///
/// let cell = OnceCell::new();
/// cell.set(1).unwrap();
/// let err = cell.set(2).unwrap_err();
/// assert!(err.is_already_init_err());
/// assert!(matches!(err, SetError::AlreadyInitializedError(2)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell already holds a value.
    AlreadyInitializedError(T),
    /// Another task is initialising the cell right now (inside
    /// [`get_or_init`](super::OnceCell::get_or_init), say).
    InitializingError(T),
}

impl<T> SetError<T> {
    /// Whether this is [`SetError::AlreadyInitializedError`].
    ///
    /// ```
    /// use minirt_core::sync::SetError;
    ///
    /// assert!(SetError::AlreadyInitializedError(()).is_already_init_err());
    /// ```
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// Whether this is [`SetError::InitializingError`].
    ///
    /// ```
    /// use minirt_core::sync::SetError;
    ///
    /// assert!(SetError::InitializingError(()).is_initializing_err());
    /// ```
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SetError::AlreadyInitializedError(_) => {
                "AlreadyInitializedError: the OnceCell already holds a value"
            }
            SetError::InitializingError(_) => {
                "InitializingError: another task is initialising the OnceCell"
            }
        })
    }
}

impl<T: fmt::Debug> core::error::Error for SetError<T> {}
