//! Two "requests" run concurrently from plain synchronous code, with the
//! errors you expect returned as values — Python miniasync's
//! `run(c1, c2, return_exceptions=(NotFound,))`.
//!
//! ```text
//! cargo run -p minirt --example miniasync_requests
//! ```
//!
//! `minirt::scope` blocks `main` while both requests run on a worker pool;
//! they borrow `base_url` from `main`'s stack. Each request returns a
//! `Result`, so the caller decides which errors are values (`NotFound`: show
//! it) and which are fatal (anything else: `?`).

use std::fmt;
use std::time::Duration;

#[derive(Debug)]
enum FetchError {
    NotFound(String),
    Refused,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::NotFound(path) => write!(f, "404 not found: {path}"),
            FetchError::Refused => f.write_str("connection refused"),
        }
    }
}

impl std::error::Error for FetchError {}

/// A stand-in for an HTTP client call: waits a little, then answers.
async fn fetch(base: &str, path: &str) -> Result<String, FetchError> {
    minirt::time::sleep(Duration::from_millis(20)).await;
    match path {
        "/users" => Ok(format!("{base}{path}: [\"ada\", \"grace\"]")),
        "/admin" => Err(FetchError::Refused),
        _ => Err(FetchError::NotFound(path.to_owned())),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url = String::from("https://api.example");

    // Both requests run at once; results come back in spawn order.
    let responses = minirt::scope(|s| {
        s.spawn(fetch(&base_url, "/users"));
        s.spawn(fetch(&base_url, "/missing"));
    })?;

    for response in responses {
        match response {
            Ok(body) => println!("ok:       {body}"),
            // The selected error is just a value...
            Err(FetchError::NotFound(path)) => println!("skipped:  {path} (not found)"),
            // ...every other error ends the program.
            Err(other) => return Err(other.into()),
        }
    }

    // The fail-fast form: the first `Err` cancels the other request.
    let first_error = minirt::scope::try_scope(|s| {
        s.spawn(fetch(&base_url, "/users"));
        s.spawn(fetch(&base_url, "/admin"));
    });
    if let Err(minirt::scope::TryJoinError::Failed(e)) = first_error {
        println!("try_scope stopped at the first error: {e}");
    }
    Ok(())
}
