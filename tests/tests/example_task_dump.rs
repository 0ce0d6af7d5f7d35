//! `examples/task_dump.rs` as a real process: its dump names both
//! deadlocked tasks, idle after two polls, at the lines that spawned them,
//! and the long-poll detector reports the task that sleeps inside `async`
//! on stderr, in one line.
//!
//! Built by `cargo build --workspace --examples`; when the binary is
//! missing the test says so and checks nothing (as the other example tests).

use std::process::Command;
use std::time::Duration;

use minirt_tests::bounded;

const SOURCE: &str = include_str!("../../std-glue/examples/task_dump.rs");

#[test]
fn the_dump_shows_the_two_deadlocked_tasks_and_the_detector_the_sleeper() {
    bounded(Duration::from_secs(60), || {
        let Some(binary) = minirt_tests::built_example("task_dump") else {
            return;
        };
        let out = Command::new(&binary).output().expect("run the example");
        assert!(out.status.success(), "exited with {}", out.status);
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        let ids = stdout.lines().next().expect("a first line");
        // "transfer is task N, audit is task M"
        let numbers: Vec<&str> = ids
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(numbers.len(), 2, "{stdout}");
        assert!(stdout.contains("2 live tasks"), "{stdout}");
        let at = |needle: &str| {
            let n = SOURCE
                .lines()
                .position(|l| l.contains(needle))
                .expect(needle)
                + 1;
            format!("task_dump.rs:{n}:")
        };
        let sites = [
            at("let transfer = minirt::spawn"),
            at("let audit = minirt::spawn"),
        ];
        for (id, line) in numbers.iter().zip(&sites) {
            let row = stdout
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("task {id} ")))
                .unwrap_or_else(|| panic!("no row for task {id}:\n{stdout}"));
            assert!(row.contains("idle") && row.contains("polls 2"), "{row}");
            assert!(row.contains("waits on Mutex::lock"), "{row}");
            assert!(row.contains(line.as_str()), "{row}");
        }
        let report: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("minirt: task"))
            .collect();
        assert_eq!(report.len(), 1, "{stderr}");
        let sleeper = SOURCE
            .lines()
            .position(|l| l.contains("std::thread::sleep(Duration"))
            .expect("the sleeping task");
        // The `minirt::spawn(async {` line just above the sleep.
        assert!(
            report[0].contains(&format!("task_dump.rs:{sleeper}:")),
            "{stderr}"
        );
        assert!(report[0].contains("spawn_blocking"), "{stderr}");
    });
}
