#!/usr/bin/env bash
# The reliability checks that need more than `cargo test`: loom models, Miri,
# the fuzz targets (60 s each) and a valgrind stress run. They are checks 4
# (loom), 5 (Miri), 6 (fuzz targets with reference models) and 7 (stress) of
# "The checks" in the shared design doc ../shared/design/RELIABILITY.md, which
# lives beside the repository, not in it (the path is relative to the
# repository's root).
# Prints each step's duration: 7.6 minutes on a 2-core machine with warm
# build caches (measured), roughly 12-15 minutes cold.
#
# Usage: .ci/reliability.sh            (from anywhere inside the repository)
# Env:   FUZZ_SECONDS (default 60), LOOM_MAX_PREEMPTIONS (default 2)
set -euo pipefail
# Each step deletes its own target dir when it is done: CI disk is limited.

cd "$(git rev-parse --show-toplevel)"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
MIRI_TESTS=(rt_block_on rt_local task_abort task_panic task_memory combinators task_matrix rt_multi_thread scope_nesting scope_sync scope_sync_runtimes scope_daemon blocking)
FUZZ_TARGETS=(timer_wheel semaphore scheduler mpsc scope)
# Both sanitizers run these; each adds the tests below that only it needs.
SANITIZER_TESTS=(stress rt_multi_thread task_memory fault_panics
    sync_mpsc sync_channels sync_locks
    net_lookup net_tcp net_timeout net_udp net_unix
    scope_async scope_daemon scope_nesting scope_schedule scope_sync scope_sync_clock scope_sync_runtimes)
ASAN_TESTS=("${SANITIZER_TESTS[@]}" fault_net)
TSAN_TESTS=("${SANITIZER_TESTS[@]}" rt_unhandled_panic)

total_start=$(date +%s)
step() {
    local name="$1"
    shift
    echo "=== ${name} ($(df -h --output=avail . | tail -n 1 | tr -d ' ') free)"
    local start
    start=$(date +%s)
    "$@"
    echo "=== ${name}: $(($(date +%s) - start)) s"
}

install_tools() {
    rustup toolchain install nightly --profile minimal
    rustup component add miri rust-src --toolchain nightly
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
    if ! command -v valgrind >/dev/null; then
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq && $sudo apt-get install -y -qq valgrind
    fi
}

# loom builds use their own target dirs so they do not evict the normal build.
loom_core() {
    RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
        cargo test -p minirt-core --release --test loom_task --test loom_sync --test loom_sync_channels --test loom_sync_locks
    rm -rf target/loom
}

# std-glue uses `cfg(minirt_loom)`: `--cfg loom` alone would also switch the
# `parking` crate to its loom build, which the runtime does not compile with.
# The models run the real worker loop (see runtime/multi_thread/worker_loom.rs):
# first with minirt-core on std atomics, then with `--cfg loom` too, so that
# core's task and join-waker atomics are loom's (needed by the mock-clock model).
loom_std_glue() {
    RUSTFLAGS="--cfg minirt_loom" CARGO_TARGET_DIR=target/loom-std \
        cargo test -p minirt --release --lib worker_loom
    RUSTFLAGS="--cfg minirt_loom --cfg loom" CARGO_TARGET_DIR=target/loom-std-core \
        cargo test -p minirt --release --lib -- \
        worker_loom::remote_spawn worker_loom::wake_races worker_loom::mock_clock
    rm -rf target/loom-std target/loom-std-core
}

miri_core() {
    MIRIFLAGS="-Zmiri-strict-provenance" cargo +nightly miri test -p minirt-core
}

# Both runtimes. Under Miri the multi-thread runtime's run queues are a
# mutex stand-in for crossbeam's deques, whose epoch GC cannot pass strict
# provenance with leak checks (why, measured: runtime/multi_thread/queue.rs).
# Not listed: scope_async (9 min under Miri on a loaded 2-core machine) and
# scope_schedule (its `at_system_time` test reads the wall clock, which Miri's
# isolation refuses). scope_sync is listed since `minirt::scope` owns its
# runtime under Miri (see `default_runtime` in scope/sync_scope.rs).
miri_runtime() {
    for t in "${MIRI_TESTS[@]}"; do
        MIRIFLAGS="-Zmiri-strict-provenance" \
            cargo +nightly miri test -p minirt-tests --test "$t"
    done
    rm -rf target/miri
}

fuzz_all() {
    local scratch
    scratch=$(mktemp -d)
    for t in "${FUZZ_TARGETS[@]}"; do
        mkdir -p "$scratch/$t"
        cp fuzz/corpus/"$t"/* "$scratch/$t/" 2>/dev/null || true
        step "fuzz $t (${FUZZ_SECONDS} s)" bash -o pipefail -c \
            "cd fuzz && cargo +nightly fuzz run $t '$scratch/$t' corpus/$t -- -max_total_time=$FUZZ_SECONDS -print_final_stats=1 2>&1 | tail -n 15"
    done
    rm -rf "$scratch" fuzz/target
}

# ThreadSanitizer over the multi-threaded tests, with std rebuilt
# instrumented (-Zbuild-std) in its own target dir. One suppression, argued
# in .ci/tsan.supp (crossbeam-deque's speculative steal read); none for
# minirt's own code. A report makes the test binary exit 66, which fails
# the step. Cold: ~2.5 min to build std and the tests on a loaded 2-core
# machine, then ~3 min of tests.
tsan_tests() {
    local args=()
    for t in "${TSAN_TESTS[@]}"; do args+=(--test "$t"); done
    TSAN_OPTIONS="suppressions=$PWD/.ci/tsan.supp" \
        CARGO_TARGET_DIR=target/tsan RUSTFLAGS="-Zsanitizer=thread" \
        RUSTDOCFLAGS="-Zsanitizer=thread" \
        cargo +nightly test -Zbuild-std --target x86_64-unknown-linux-gnu \
        -p minirt-tests "${args[@]}"
    rm -rf target/tsan
}

# AddressSanitizer (with LeakSanitizer, on by default on Linux) in the same
# way: zero reports, no suppressions when added (2026-12-02); ~90 s to build
# after the TSan step, ~20 s of tests.
asan_tests() {
    local args=()
    for t in "${ASAN_TESTS[@]}"; do args+=(--test "$t"); done
    CARGO_TARGET_DIR=target/asan RUSTFLAGS="-Zsanitizer=address" \
        RUSTDOCFLAGS="-Zsanitizer=address" \
        cargo +nightly test -Zbuild-std --target x86_64-unknown-linux-gnu \
        -p minirt-tests "${args[@]}"
    rm -rf target/asan
}

# "possibly lost" is not an error: crossbeam-epoch's global collector keeps
# one per-thread record alive until process exit by design.
valgrind_stress() {
    cargo build -p minirt-tests --bin stress
    valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=1 target/debug/stress
}

step "install tools" install_tools
step "loom: minirt-core (task core, sync)" loom_core
step "loom: minirt worker loop (real code)" loom_std_glue
step "miri: minirt-core" miri_core
step "miri: runtime tests (both runtimes)" miri_runtime
fuzz_all
step "valgrind: stress binary" valgrind_stress
step "tsan: multi-threaded tests" tsan_tests
step "asan: runtime, fault and net tests" asan_tests
echo "=== total: $(($(date +%s) - total_start)) s"
