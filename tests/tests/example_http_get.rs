//! The `http_get` example as a real process: two real HTTP requests at once
//! against the hyper server it starts itself.
//!
//! The example binary is not built by `cargo test`; build it first with
//! `cargo build --workspace --examples`. When missing, the test says so and
//! passes without checking anything.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use minirt_tests::bounded;

#[test]
fn http_get_prints_both_responses() {
    bounded(Duration::from_secs(60), || {
        let exe = std::env::current_exe().unwrap();
        let binary: PathBuf = exe
            .parent()
            .and_then(|p| p.parent())
            .unwrap()
            .join("examples")
            .join(format!("http_get{}", std::env::consts::EXE_SUFFIX));
        if !binary.is_file() {
            eprintln!(
                "SKIPPED: {} not found; run `cargo build --workspace --examples` first",
                binary.display()
            );
            return;
        }
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
