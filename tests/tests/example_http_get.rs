//! The `http_get` example as a real process: two real HTTP requests at once
//! against the hyper server it starts itself.
//!
//! The example binary is not built by `cargo test`; build it first with
//! `cargo build --workspace --examples`. When missing, the test says so and
//! passes without checking anything.

use std::process::Command;
use std::time::Duration;

use minirt_tests::bounded;

#[test]
fn http_get_prints_both_responses() {
    bounded(Duration::from_secs(60), || {
        let Some(binary) = minirt_tests::built_example("http_get") else {
            return;
        };
        let output = Command::new(&binary).output().expect("run http_get");
        assert!(
            output.status.success(),
            "http_get exited with {}",
            output.status
        );
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            "/first: 200 OK hello from /first\n/second: 200 OK hello from /second\n"
        );
    });
}
