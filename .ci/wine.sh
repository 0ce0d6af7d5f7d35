#!/usr/bin/env bash
# Runs minirt's Windows test binaries (x86_64-pc-windows-gnu, linked with
# MinGW) under Wine. Called by .ci/run; also usable by hand:
#   bash .ci/wine.sh            # the CI subset (see below)
#   bash .ci/wine.sh --test net_tcp -p minirt-tests   # extra cargo test args
#
# What runs: the unit and integration tests of minirt-core, minirt-reactor,
# minirt and minirt-tests, built for Windows — the Windows code paths
# (mio's IOCP/AFD readiness, the console Ctrl-C handler, Winsock errors).
# What does not, and why:
# - doc tests: each one is its own executable, ~2 s apiece to start under
#   Wine (about 4 minutes in all); they are target-independent and run
#   natively in the Linux step.
# - `tcp_echo_storm` (tests/tests/stress.rs): 64 000 loopback round trips.
#   Under Wine every readiness wake-up through AFD takes ~4.5 ms (tokio
#   measures the same, 9 ms per round trip, vs 0.5 ms for blocking std
#   sockets), so it cannot finish inside its 60 s watchdog. Not a hang.
# - the two "reset peer reads ConnectionReset" tests: Wine's recv returns
#   0 (EOF) after an RST where Windows returns WSAECONNRESET; std's blocking
#   TcpStream under Wine shows the same.
# - `copy_returns_the_bytes_copied` (tests/tests/fs.rs): Wine's CopyFileExW
#   copies the file but reports no byte count, so `std::fs::copy` returns 0.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-pc-windows-gnu
WINE=/usr/lib/wine/wine64
if [ ! -x "$WINE" ] || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
    echo "wine.sh: installing Wine and the MinGW linker (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        wine64 gcc-mingw-w64-x86-64
fi
rustup target add "$TARGET"

export WINEPREFIX="$PWD/target/wine-prefix"
export WINEDEBUG=-all
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$WINE"

wineserver=$(dirname "$WINE")/wineserver
system32="$WINEPREFIX/drive_c/windows/system32"
if [ ! -f "$system32/bcryptprimitives.dll" ]; then
    echo "wine.sh: creating the Wine prefix $WINEPREFIX"
    # wineboot exits non-zero on a 64-bit-only Wine (no syswow64/rundll32.exe)
    # although the prefix is fine; check the prefix instead.
    "$WINE" wineboot --init || true
    [ -d "$system32" ] || { echo "wine.sh: wineboot did not create $system32" >&2; exit 1; }
    x86_64-w64-mingw32-gcc -O2 -shared -o "$system32/bcryptprimitives.dll" \
        .ci/wine/bcryptprimitives.c .ci/wine/bcryptprimitives.def -ladvapi32
    # Let wineboot's server exit, so that the persistent one below can start.
    "$wineserver" --wait
fi

# One wineserver for the whole run: otherwise each test binary may start
# just as the previous one's server is exiting, and fail with
# "wine client error: recvmsg: Connection reset by peer".
"$wineserver" --persistent
trap '"$wineserver" --kill || true' EXIT

packages=(-p minirt-core -p minirt-reactor -p minirt -p minirt-tests)
if [ "$#" -gt 0 ]; then
    cargo test --target "$TARGET" "$@"
else
    cargo test --target "$TARGET" "${packages[@]}" --lib --bins --tests -- \
        --skip tcp_echo_storm \
        --skip peer_reset_mid_read_is_connection_reset \
        --skip a_reset_peer_is_connection_reset \
        --skip copy_returns_the_bytes_copied
fi
