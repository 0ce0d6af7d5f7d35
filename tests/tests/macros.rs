//! `#[minirt::test]` in every flavour and option (and, through the same
//! expansion, `#[minirt::main]`; see also `std-glue/examples/hello_main.rs`).
//! The compile errors are `compile_fail` doc tests on `minirt::main` and
//! `minirt::test`.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use minirt::time::{sleep, Instant};
use minirt::Handle;
use minirt_tests::watchdog;

const LIMIT: Duration = Duration::from_secs(60);

fn flavor_of(handle: &Handle) -> String {
    format!("{handle:?}")
}

#[minirt::test]
async fn default_is_current_thread() {
    let _watchdog = watchdog(LIMIT);
    let handle = Handle::current();
    assert!(flavor_of(&handle).contains("current_thread"), "{handle:?}");
    // Tasks run on the test's own thread.
    let test_thread = std::thread::current().id();
    let task_thread = minirt::spawn(async { std::thread::current().id() })
        .await
        .unwrap();
    assert_eq!(task_thread, test_thread);
}

#[minirt::test(flavor = "current_thread")]
async fn explicit_current_thread() {
    let _watchdog = watchdog(LIMIT);
    assert!(flavor_of(&Handle::current()).contains("current_thread"));
}

#[minirt::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_with_two_workers() {
    let _watchdog = watchdog(LIMIT);
    let handle = Handle::current();
    assert!(flavor_of(&handle).contains("multi_thread"), "{handle:?}");
    assert_eq!(handle.metrics().workers, 2);
    let name = minirt::spawn(async { std::thread::current().name().map(str::to_owned) })
        .await
        .unwrap();
    assert!(
        name.as_deref()
            .is_some_and(|n| n.starts_with("minirt-worker")),
        "spawned task ran on {name:?}"
    );
}

#[minirt::test(flavor = "multi_thread")]
async fn multi_thread_default_workers() {
    let _watchdog = watchdog(LIMIT);
    assert!(Handle::current().metrics().workers >= 1);
}

#[minirt::test(start_paused = true)]
async fn start_paused_gives_a_mock_clock() {
    let _watchdog = watchdog(LIMIT);
    let real = std::time::Instant::now();
    let start = Instant::now();
    sleep(Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
    // An hour of virtual time; the bound only catches a real hour.
    assert!(real.elapsed() < Duration::from_secs(600));
}

#[minirt::test(flavor = "current_thread", start_paused = false)]
async fn start_paused_false_is_the_real_clock() {
    let _watchdog = watchdog(LIMIT);
    let start = Instant::now();
    sleep(Duration::from_millis(5)).await;
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(5), "{waited:?}");
    assert!(
        waited < Duration::from_secs(3000),
        "a real clock: {waited:?}"
    );
}

thread_local! {
    /// The order `seeded_order` saw its tasks run in, on this thread.
    static ORDER: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// Spawns 16 tasks and records the order they ran in.
#[minirt::test(seed = 7, start_paused = true)]
async fn seeded_order() {
    let _watchdog = watchdog(LIMIT);
    let log = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let log = log.clone();
            minirt::spawn(async move { log.lock().unwrap().push(i) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let order = log.lock().unwrap().clone();
    ORDER.with(|o| *o.borrow_mut() = order);
}

#[test]
fn seed_replays_the_same_order() {
    seeded_order();
    let first = ORDER.with(|o| o.take());
    seeded_order();
    let second = ORDER.with(|o| o.take());
    assert_eq!(first.len(), 16);
    assert_eq!(first, second, "the same seed must give the same order");
    assert_ne!(
        first,
        (0..16).collect::<Vec<_>>(),
        "seed 7 should not happen to give FIFO order"
    );
}

#[minirt::test]
async fn returns_a_result() -> Result<(), std::num::ParseIntError> {
    let _watchdog = watchdog(LIMIT);
    let n: u32 = "41".parse()?;
    assert_eq!(minirt::spawn(async move { n + 1 }).await.unwrap(), 42);
    Ok(())
}

/// A `Result`-returning test fails on `Err`: the harness sees the `Err`
/// (checked by calling it from the test below).
#[minirt::test]
#[ignore = "fails by design; an_err_is_returned_to_the_harness runs it"]
async fn returns_an_err() -> Result<(), String> {
    Err("returned error".to_owned())
}

#[test]
fn an_err_is_returned_to_the_harness() {
    assert_eq!(returns_an_err(), Err("returned error".to_owned()));
}

#[minirt::test]
#[should_panic(expected = "boom inside the test")]
async fn should_panic_works() {
    minirt::yield_now().await;
    panic!("boom inside the test");
}

#[minirt::test(flavor = "multi_thread", worker_threads = 1)]
#[should_panic(expected = "boom on multi_thread")]
async fn should_panic_works_on_multi_thread() {
    let _watchdog = watchdog(LIMIT);
    minirt::yield_now().await;
    panic!("boom on multi_thread");
}

#[minirt::test]
#[ignore = "checks that #[ignore] is kept: it must never run"]
async fn ignore_is_kept() {
    panic!("an #[ignore]d test ran");
}

/// Doc comments and other attributes are kept.
#[minirt::test]
#[allow(clippy::bool_assert_comparison)]
async fn other_attributes_are_kept() {
    assert_eq!(true, true);
}

mod renamed {
    use minirt as my_runtime;

    #[my_runtime::test(crate = "my_runtime")]
    async fn crate_option_finds_a_renamed_path() {
        assert_eq!(my_runtime::spawn(async { 3 }).await.unwrap(), 3);
    }
}

#[minirt::test]
async fn return_in_the_body_returns_from_the_test() {
    let _watchdog = watchdog(LIMIT);
    if minirt::spawn(async { true }).await.unwrap() {
        return;
    }
    panic!("return did not leave the test body");
}
