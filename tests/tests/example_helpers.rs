//! The helper-translation examples as real processes. All but one run on
//! the mock clock, so their output — virtual timestamps included — is exact
//! and is checked line by line here; `miniasync_requests` makes real HTTP
//! requests to its own local server, so its ports are masked.
//!
//! `cargo test --workspace` builds the examples alongside the tests (same
//! profile), or build them with `cargo build --workspace --examples`. When one of the
//! examples is missing its test prints why and passes without checking
//! anything.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use minirt_tests::bounded;

/// The stdout of example `name`, or `None` if it was not built.
fn run_example(name: &str) -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let binary: PathBuf = exe
        .parent()?
        .parent()?
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !binary.is_file() {
        eprintln!(
            "SKIPPED: {} not found; run `cargo build --workspace --examples` first",
            binary.display()
        );
        return None;
    }
    let output = Command::new(&binary).output().expect("run the example");
    assert!(
        output.status.success(),
        "{name} exited with {}",
        output.status
    );
    Some(String::from_utf8(output.stdout).expect("UTF-8 output"))
}

#[test]
fn ayo_schedule_prints_each_call_at_its_virtual_second() {
    bounded(Duration::from_secs(60), || {
        let Some(out) = run_example("ayo_schedule") else {
            return;
        };
        assert_eq!(out, AYO_SCHEDULE);
    });
}

#[test]
fn aiotools_timer_shows_each_overrun_policy() {
    bounded(Duration::from_secs(60), || {
        let Some(out) = run_example("aiotools_timer") else {
            return;
        };
        assert_eq!(out, AIOTOOLS_TIMER);
    });
}

#[test]
fn ayo_scope_times_out_at_12_virtual_seconds() {
    bounded(Duration::from_secs(60), || {
        let Some(out) = run_example("ayo_scope") else {
            return;
        };
        assert_eq!(out.lines().count(), 18, "17 jobs, then the summary:\n{out}");
        assert_eq!(
            out.lines().last(),
            Some(
                "timed out: true at t=12s; 17 of 20 completed: \
                 [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 18]"
            )
        );
    });
}

#[test]
fn miniasync_run_returns_results_in_argument_order() {
    bounded(Duration::from_secs(60), || {
        let Some(out) = run_example("miniasync_run") else {
            return;
        };
        assert_eq!(out, MINIASYNC_RUN);
    });
}

#[test]
fn aioutils_group_pool_nesting_and_yielders() {
    bounded(Duration::from_secs(60), || {
        let Some(out) = run_example("aioutils_group") else {
            return;
        };
        assert_eq!(out, AIOUTILS_GROUP);
    });
}

#[test]
fn asyncio_tutorial_examples_print_their_virtual_times() {
    bounded(Duration::from_secs(60), || {
        let Some(out) = run_example("asyncio_tutorial") else {
            return;
        };
        assert_eq!(out, ASYNCIO_TUTORIAL);
    });
}

/// Unlike the others this one makes real HTTP requests (a 200, a 404, a
/// refused connection) against the server the example starts on
/// `127.0.0.1:0`, so the ports in its output are masked. A missing binary
/// (`cargo test -p minirt-tests` alone builds no examples; CI's Windows
/// build under Wine builds a subset) skips it like the others.
#[test]
fn miniasync_requests_returns_the_404_as_a_value_and_stops_at_the_refusal() {
    bounded(Duration::from_secs(60), || {
        // `built_example` prints why when it is missing.
        let Some(binary) = minirt_tests::built_example("miniasync_requests") else {
            return;
        };
        let output = Command::new(&binary)
            .output()
            .expect("run miniasync_requests");
        assert!(
            output.status.success(),
            "miniasync_requests exited with {}; stderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let out = String::from_utf8(output.stdout).expect("UTF-8 output");
        assert_eq!(
            mask_ports(&out),
            MINIASYNC_REQUESTS,
            "the output was:\n{out}"
        );
    });
}

/// `out` with every `127.0.0.1:<port>` as `127.0.0.1:PORT`.
fn mask_ports(out: &str) -> String {
    let mut masked = String::new();
    let mut rest = out;
    while let Some(at) = rest.find("127.0.0.1:") {
        let (before, after) = rest.split_at(at + "127.0.0.1:".len());
        masked.push_str(before);
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            masked.push_str("PORT");
        }
        rest = &after[digits..];
    }
    masked.push_str(rest);
    masked
}

const AYO_SCHEDULE: &str = "\
[ 0s] every 4 s
[ 3s] daemon: still working
[ 4s] every 4 s
[ 5s] after 5 s
[ 6s] daemon: still working
[ 8s] every 4 s
[ 9s] daemon: still working
[12s] the work is done
[12s] daemon: still working
[12s] every 4 s
[15s] at +15 s
[15s] daemon: still working
[15s] scope ended
";

const AIOTOOLS_TIMER: &str = "\
every 10 s, run 1 takes 25 s, the others 2 s; policy Keep:
  [ 0s] run 0 starts
  [ 2s] run 0 ends
  [10s] run 1 starts
  [20s] run 2 starts
  [22s] run 2 ends
  [30s] run 3 starts
  [32s] run 3 ends
  [35s] run 1 ends
  [40s] run 4 starts
  [42s] run 4 ends
  [45s] scope done
every 10 s, run 1 takes 25 s, the others 2 s; policy Skip:
  [ 0s] run 0 starts
  [ 2s] run 0 ends
  [10s] run 1 starts
  [35s] run 1 ends
  [40s] run 2 starts
  [42s] run 2 ends
  [45s] scope done
every 10 s, run 1 takes 25 s, the others 2 s; policy Cancel:
  [ 0s] run 0 starts
  [ 2s] run 0 ends
  [10s] run 1 starts
  [20s] run 1 cancelled
  [20s] run 2 starts
  [22s] run 2 ends
  [30s] run 3 starts
  [32s] run 3 ends
  [40s] run 4 starts
  [42s] run 4 ends
  [45s] scope done
";

const MINIASYNC_RUN: &str = "\
1. run(get_some_data()) = \"some data\"
2. run(get_a(), get_b()) = [\"a\", \"b\"] after 300ms (not 400ms)
3. loop.run(...) = [\"x\", \"y\"], then loop.run(...) = [\"z\"]; t=360ms
";

const MINIASYNC_REQUESTS: &str = "\
ok:       http://127.0.0.1:PORT/users: [\"ada\", \"grace\"]
skipped:  /missing (not found)
try_scope stopped at the first error: connection refused: http://127.0.0.1:PORT/admin
";

const AIOUTILS_GROUP: &str = "\
1. Group: joined 7 after 93ms
2. Pool(2): joined after 169ms
3. nested: 110 calls (10 f1 + 100 f2) after 200ms
4. Yielder: fbdcgae
5. OrderedYielder: abcdefg
";

const ASYNCIO_TUTORIAL: &str = "\
1. awaiting one after the other
[t=1s] hello
[t=3s] world
[t=3s] finished
2. create_task
[t=1s] hello
[t=2s] world
[t=2s] finished
3. TaskGroup
[t=1s] hello
[t=2s] world
[t=2s] finished
4. gather
Task A: Compute factorial(2), currently i=2...
Task B: Compute factorial(3), currently i=2...
Task C: Compute factorial(4), currently i=2...
Task A: factorial(2) = 2
Task B: Compute factorial(3), currently i=3...
Task C: Compute factorial(4), currently i=3...
Task B: factorial(3) = 6
Task C: Compute factorial(4), currently i=4...
Task C: factorial(4) = 24
[t=3s] (2, 6, 24)
5. wait_for
[t=1s] timeout!
6. Queue
worker-1 has slept for 0.08 seconds
worker-1 has slept for 0.33 seconds
worker-0 has slept for 0.52 seconds
worker-0 has slept for 0.15 seconds
worker-2 has slept for 0.91 seconds
worker-1 has slept for 0.64 seconds
worker-2 has slept for 0.26 seconds
worker-0 has slept for 0.77 seconds
worker-0 has slept for 0.06 seconds
worker-2 has slept for 0.41 seconds
worker-1 has slept for 0.99 seconds
worker-0 has slept for 0.58 seconds
worker-1 has slept for 0.19 seconds
worker-2 has slept for 0.72 seconds
worker-1 has slept for 0.30 seconds
worker-1 has slept for 0.11 seconds
worker-2 has slept for 0.47 seconds
worker-0 has slept for 0.85 seconds
worker-2 has slept for 0.24 seconds
worker-1 has slept for 0.68 seconds
====
3 workers slept in parallel for 3.32 seconds
total expected sleep time: 9.26 seconds
";
