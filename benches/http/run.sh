#!/usr/bin/env bash
# Drives the minirt and tokio "hello" servers with wrk on loopback and prints
# requests/s for each and the minirt/tokio ratios (above 1: minirt is faster).
# minirt runs in two shapes: work stealing (`http_hello`, one listener, a
# 2-worker multi-thread runtime, as tokio's) and thread-per-core
# (`http_hello_per_core`, `minirt::server`: 2 current-thread workers, each
# with its own SO_REUSEPORT listener — glommio's and monoio's model).
# Then it runs the same answer through hyper 1.x's HTTP/1 server on each
# runtime (`http_hyper_minirt`, `http_hyper_tokio`: 2 workers, one task per
# connection, the same `http1::Builder` settings), alternating the two
# (minirt, tokio, minirt, tokio, ...) so machine drift hits both alike, and
# prints every run, the median of each and the hyper-minirt/hyper-tokio
# ratio of the medians (above 1: hyper on minirt is faster).
#
#   benches/http/run.sh                          # 10 s per server run
#   DURATION=3 benches/http/run.sh
#   HYPER_RUNS=5 benches/http/run.sh             # runs per hyper server (odd; default 3)
#
# The tokio server is the `http_hello_tokio` binary of minirt-benches; the
# minirt ones are `std-glue/examples/http_hello.rs` and
# `http_hello_per_core.rs`; the hyper ones are minirt-benches'
# `http/hyper_minirt.rs` and `http/hyper_tokio.rs`. One that does not build
# is n/a.
set -euo pipefail

DURATION=${DURATION:-10}
HYPER_RUNS=${HYPER_RUNS:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk not found; installing it" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
    $SUDO apt-get install -y wrk || { $SUDO apt-get update && $SUDO apt-get install -y wrk; }
fi

cargo build --release -p minirt-benches --bin http_hello_tokio
TOKIO_BIN=$TARGET_DIR/release/http_hello_tokio
MINIRT_BIN=""
if cargo build --release -p minirt --example http_hello; then
    MINIRT_BIN=$TARGET_DIR/release/examples/http_hello
else
    echo "minirt's http_hello example does not build yet: minirt is n/a" >&2
fi
PER_CORE_BIN=""
if cargo build --release -p minirt --example http_hello_per_core; then
    PER_CORE_BIN=$TARGET_DIR/release/examples/http_hello_per_core
else
    echo "minirt's http_hello_per_core example does not build: per-core is n/a" >&2
fi
cargo build --release -p minirt-benches --bin http_hyper_tokio
HYPER_TOKIO_BIN=$TARGET_DIR/release/http_hyper_tokio
HYPER_MINIRT_BIN=""
if cargo build --release -p minirt-benches --bin http_hyper_minirt; then
    HYPER_MINIRT_BIN=$TARGET_DIR/release/http_hyper_minirt
else
    echo "http_hyper_minirt does not build: hyper on minirt is n/a" >&2
fi

# A loopback port nobody listens on right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

SERVER_PID=""
SERVER_LOG=$(mktemp)
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
trap 'stop_server; rm -f "$SERVER_LOG"' EXIT

# run_server BINARY -> prints requests/s
run_server() {
    local binary=$1 port
    port=$(free_port)
    "$binary" "127.0.0.1:$port" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        grep -q "listening on" "$SERVER_LOG" && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG" >&2; echo "server exited" >&2; return 1; }
        sleep 0.1
    done
    # run_server runs in $(...), so the EXIT trap cannot see SERVER_PID:
    # stop the server here on every way out.
    grep -q "listening on" "$SERVER_LOG" || { echo "server did not start" >&2; stop_server; return 1; }
    # Fail loudly rather than report a fast error page.
    check_body "$port" || { stop_server; return 1; }
    wrk -t1 -c64 -d"${DURATION}s" "http://127.0.0.1:$port/" >"$SERVER_LOG.wrk"
    cat "$SERVER_LOG.wrk" >&2
    stop_server
    awk '/^Requests\/sec:/ { print $2 }' "$SERVER_LOG.wrk"
    rm -f "$SERVER_LOG.wrk"
}

# One request by hand: the body must be exactly "Hello, world!".
check_body() {
    local body
    body=$(python3 - "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
data = b""
while b"Hello, world!" not in data and len(data) < 4096:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.split(b"\r\n\r\n", 1)[-1].decode())
PY
)
    [ "$body" = "Hello, world!" ] || { echo "unexpected body: $body" >&2; return 1; }
}

echo "== tokio ==" >&2
TOKIO_RPS=$(run_server "$TOKIO_BIN")
MINIRT_RPS=n/a
if [ -n "$MINIRT_BIN" ]; then
    echo "== minirt ==" >&2
    MINIRT_RPS=$(run_server "$MINIRT_BIN")
fi

PER_CORE_RPS=n/a
if [ -n "$PER_CORE_BIN" ]; then
    echo "== minirt thread-per-core ==" >&2
    PER_CORE_RPS=$(run_server "$PER_CORE_BIN")
fi

ratio() {
    if [ "$1" = n/a ]; then echo n/a; else python3 -c "print(f'{$1 / $TOKIO_RPS:.2f}')"; fi
}
echo "| server | requests/s |"
echo "| --- | ---: |"
echo "| minirt (work stealing) | $MINIRT_RPS |"
echo "| minirt (thread-per-core) | $PER_CORE_RPS |"
echo "| tokio | $TOKIO_RPS |"
echo "| minirt/tokio | $(ratio "$MINIRT_RPS") |"
echo "| minirt per-core/tokio | $(ratio "$PER_CORE_RPS") |"

# hyper on minirt against hyper on tokio: HYPER_RUNS alternating runs each.
HYPER_MINIRT_RUNS=()
HYPER_TOKIO_RUNS=()
for run in $(seq "$HYPER_RUNS"); do
    if [ -n "$HYPER_MINIRT_BIN" ]; then
        echo "== hyper on minirt (run $run/$HYPER_RUNS) ==" >&2
        rps=$(run_server "$HYPER_MINIRT_BIN")
        HYPER_MINIRT_RUNS+=("$rps")
    fi
    echo "== hyper on tokio (run $run/$HYPER_RUNS) ==" >&2
    rps=$(run_server "$HYPER_TOKIO_BIN")
    HYPER_TOKIO_RUNS+=("$rps")
done

# median VALUE... -> the median (n/a for none)
median() {
    if [ $# -eq 0 ]; then echo n/a; return; fi
    python3 -c 'import statistics, sys; print(f"{statistics.median(map(float, sys.argv[1:])):.2f}")' "$@"
}
HYPER_MINIRT_RPS=$(median "${HYPER_MINIRT_RUNS[@]}")
HYPER_TOKIO_RPS=$(median "${HYPER_TOKIO_RUNS[@]}")
HYPER_RATIO=n/a
if [ "$HYPER_MINIRT_RPS" != n/a ]; then
    HYPER_RATIO=$(python3 -c "print(f'{$HYPER_MINIRT_RPS / $HYPER_TOKIO_RPS:.2f}')")
fi
echo
echo "| hyper server | runs requests/s (in order) | median requests/s |"
echo "| --- | --- | ---: |"
echo "| hyper on minirt | ${HYPER_MINIRT_RUNS[*]:-n/a} | $HYPER_MINIRT_RPS |"
echo "| hyper on tokio | ${HYPER_TOKIO_RUNS[*]} | $HYPER_TOKIO_RPS |"
echo "| hyper-minirt/hyper-tokio (medians of $HYPER_RUNS) | | $HYPER_RATIO |"
