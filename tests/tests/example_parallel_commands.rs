//! The `parallel_commands` example as a real process: its outputs come in
//! the order the commands were given, not the order they finished.
//!
//! The example binary is not built by `cargo test`; build it first with
//! `cargo build --workspace --examples` (same profile as the tests). When it
//! is missing the test prints why and passes without checking anything.
#![cfg(unix)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use minirt_tests::bounded;

const EXPECTED: &str = "\
slow: slow done
slow: exit Some(0)
count: 3
count: exit Some(0)
fails (stderr): oops
fails: exit Some(3)
";

#[test]
fn parallel_commands_prints_outputs_in_input_order() {
    bounded(Duration::from_secs(60), || {
        let exe = std::env::current_exe().unwrap();
        let binary: PathBuf = exe
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("examples")
            .join("parallel_commands");
        if !binary.is_file() {
            eprintln!(
                "SKIPPED: {} not found; run `cargo build --workspace --examples` first",
                binary.display()
            );
            return;
        }
        let output = Command::new(&binary).output().expect("run the example");
        assert!(output.status.success(), "exited with {}", output.status);
        assert_eq!(String::from_utf8(output.stdout).unwrap(), EXPECTED);
    });
}
