#!/usr/bin/env python3
"""The soak (issue 16, item 4): does a server built on minirt stay flat under
sustained load?

Two phases, each against a release build of one of minirt's examples:

1. HTTP: `http_hello` (work-stealing runtime) under `wrk -c64` for DURATION
   seconds, cut into slices. After each slice: resident memory (VmRSS), open
   descriptors (/proc/PID/fd) and wrk's p99 latency for that slice.
2. Echo: `echo_server` through CYCLES connect / write / read back / close
   cycles from one client, sampling the same numbers every tenth of the way.

It fails (exit 1) if, after the warm-up slice, resident memory grows by more
than 5%, or the descriptor count is not back to its baseline once the load
stops. p99 latency is reported, not checked: on a noisy 2-core machine a
latency bound would be a timing assertion, which belongs in a benchmark
table, not a pass/fail gate.

    python3 benches/soak.py                  # 300 s of HTTP, 10 000 cycles
    python3 benches/soak.py --duration 30 --cycles 2000   # what CI runs
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
RSS_GROWTH_LIMIT = 1.05


def build(example):
    subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "minirt", "--example", example],
        cwd=ROOT,
        check=True,
    )
    return os.path.join(TARGET, "release", "examples", example)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Server:
    """A server process that prints `listening on ADDR` once it accepts."""

    def __init__(self, binary):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [binary, f"127.0.0.1:{self.port}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        line = self.proc.stdout.readline()
        if "listening on" not in line or time.monotonic() > deadline:
            self.stop()
            raise RuntimeError(f"{binary} did not start: {line!r}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def settle_fds(pid, baseline, timeout=5.0):
    """Descriptors close shortly after the peers do; wait up to `timeout`."""
    deadline = time.monotonic() + timeout
    now = fds(pid)
    while now != baseline and time.monotonic() < deadline:
        time.sleep(0.1)
        now = fds(pid)
    return now


def wrk_slice(port, seconds):
    out = subprocess.run(
        ["wrk", "-t1", "-c64", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{port}/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return rps, float(p99.group(1)) * scale, errors.group(0) if errors else ""


def http_phase(duration):
    server = Server(build("http_hello"))
    pid = server.proc.pid
    try:
        baseline_fds = fds(pid)
        slices = max(3, min(10, duration // 5))
        each = max(1, duration // slices)
        rows = []
        for i in range(slices):
            rps, p99, errors = wrk_slice(server.port, each)
            rows.append((i, rps, p99, rss_kib(pid), fds(pid), errors))
        after = settle_fds(pid, baseline_fds)
    finally:
        server.stop()
    print(f"\n## HTTP: http_hello under wrk -c64, {slices} slices of {each} s\n")
    print("| slice | requests/s | p99 (ms) | RSS (KiB) | fds |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for i, rps, p99, rss, nfds, errors in rows:
        note = f" ({errors})" if errors else ""
        print(f"| {i} | {rps:.0f} | {p99:.2f} | {rss} | {nfds}{note} |")
    warm = rows[0][3]
    peak = max(r[3] for r in rows[1:])
    p99s = sorted(r[2] for r in rows[1:])
    print(
        f"\nRSS after warm-up {warm} KiB, peak later {peak} KiB ({peak / warm:.3f}x); "
        f"fds {baseline_fds} before, {after} after; "
        f"p99 median {p99s[len(p99s) // 2]:.2f} ms, max {p99s[-1]:.2f} ms"
    )
    problems = []
    if peak > warm * RSS_GROWTH_LIMIT:
        problems.append(f"HTTP: RSS grew {peak / warm:.3f}x after warm-up")
    if after != baseline_fds:
        problems.append(f"HTTP: {after} descriptors open after the load, {baseline_fds} before")
    return problems


def echo_phase(cycles):
    server = Server(build("echo_server"))
    pid = server.proc.pid
    payload = b"x" * 512
    try:
        baseline_fds = fds(pid)
        samples = []
        step = max(1, cycles // 10)
        for i in range(cycles):
            with socket.create_connection(("127.0.0.1", server.port)) as s:
                s.sendall(payload)
                got = b""
                while len(got) < len(payload):
                    chunk = s.recv(4096)
                    if not chunk:
                        raise RuntimeError(f"echo: connection closed after {len(got)} bytes")
                    got += chunk
                if got != payload:
                    raise RuntimeError("echo: wrong bytes back")
            if (i + 1) % step == 0:
                samples.append((i + 1, rss_kib(pid), fds(pid)))
        after = settle_fds(pid, baseline_fds)
    finally:
        server.stop()
    print(f"\n## Echo: echo_server through {cycles} connect/echo/close cycles\n")
    print("| cycles | RSS (KiB) | fds |")
    print("| ---: | ---: | ---: |")
    for n, rss, nfds in samples:
        print(f"| {n} | {rss} | {nfds} |")
    warm = samples[0][1]
    peak = max(s[1] for s in samples[1:]) if len(samples) > 1 else warm
    print(
        f"\nRSS after warm-up {warm} KiB, peak later {peak} KiB ({peak / warm:.3f}x); "
        f"fds {baseline_fds} before, {after} after"
    )
    problems = []
    if peak > warm * RSS_GROWTH_LIMIT:
        problems.append(f"echo: RSS grew {peak / warm:.3f}x after warm-up")
    if after != baseline_fds:
        problems.append(f"echo: {after} descriptors open after the cycles, {baseline_fds} before")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=300, help="seconds of HTTP load")
    parser.add_argument("--cycles", type=int, default=10_000, help="echo connect/close cycles")
    args = parser.parse_args()
    problems = http_phase(args.duration) + echo_phase(args.cycles)
    if problems:
        print("\nsoak FAILED:\n- " + "\n- ".join(problems))
        sys.exit(1)
    print("\nsoak passed: memory flat, descriptors back to baseline")


if __name__ == "__main__":
    main()
