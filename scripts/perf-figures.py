#!/usr/bin/env python3
"""Measures the figures of docs/performance.md and prints them as Markdown.

Usage: cargo build --release && scripts/perf-figures.py [--runs 3] [--seconds 5]

Every figure comes from the real binary (target/release/callcenter): `bench`
for throughput and latency (the median of --runs runs), /proc for memory,
and wall-clock time to the `Listening on` line for start-up. Servers listen
on 127.0.0.1:0 and are stopped with SIGTERM. Nothing here is a test: the
numbers depend on the machine and on whatever else it is doing.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Cargo puts the build under $CARGO_TARGET_DIR when it is set.
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
BIN = os.path.join(os.path.abspath(TARGET), "release", "callcenter")


class Server:
    """A `callcenter server` on a free port, stopped on exit."""

    def __init__(self, *args):
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [BIN, "server", "--listen", "127.0.0.1:0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline()
        self.startup = time.monotonic() - self.started
        if not line.startswith("Listening on "):
            raise SystemExit(f"server did not start: {line!r}")
        self.addr = line.split()[-1]

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        if self.proc.poll() is None:
            self.stop()


def bench(server, *args):
    """One bench run; returns its JSON report (exits if any reply was wrong)."""
    out = subprocess.run(
        [BIN, "bench", "--connect", server.addr, "--json", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    report = json.loads(out.stdout)
    bad = report["errors"] + report["unexpected"] + report["connection_failures"]
    if bad:
        raise SystemExit(f"bench {args} had {bad} errors: {report}")
    return report


def baseline(seconds):
    out = subprocess.run(
        [BIN, "bench", "--baseline", "--duration", str(seconds), "--json"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def median_report(reports):
    """The run with the median rate (its latencies belong to that run)."""
    ordered = sorted(reports, key=lambda r: r["rate"])
    return ordered[len(ordered) // 2]


def row(name, report, note=""):
    lat = report["latency_us"]
    return (
        f"| {name} | {report['rate']:,.0f} | {lat['p50']:.1f} | {lat['p90']:.1f} | "
        f"{lat['p99']:.1f} | {lat['p99_9']:.1f} | {lat['max']:.0f} | {note} |"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    options = parser.parse_args()
    runs, seconds = options.runs, str(options.seconds)

    print(f"Machine: {os.cpu_count()} cores; {runs} runs of {seconds} s each, median shown.")
    print()
    print("| load | commands/s | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | note |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    floor = median_report([baseline(options.seconds) for _ in range(runs)])
    print(row("loopback ping-pong (floor)", floor, "blocking, 32-byte messages"))
    loads = [
        ("sync, 1 client", ["--clients", "1", "--pipeline", "1"]),
        ("sync, 50 clients", ["--clients", "50", "--pipeline", "1"]),
        ("pipelined, 1 client, window 32", ["--clients", "1", "--pipeline", "32"]),
        ("pipelined, 10 clients, window 32", ["--clients", "10", "--pipeline", "32"]),
    ]
    for name, args in loads:
        reports = []
        for _ in range(runs):
            # A fresh server per run, default ring timeout (10 s), enough
            # operators for every call in flight to ring at once.
            with Server("--operators", "1000") as server:
                reports.append(bench(server, "--duration", seconds, *args))
        report = median_report(reports)
        note = ""
        if name == "sync, 1 client":
            note = f"{report['rate'] / floor['rate']:.0%} of the floor"
        print(row(name, report, note))
    print()

    # Scale: a million waiting calls.
    empty, full = [], []
    for _ in range(runs):
        with Server("--operators", "1") as server:
            bench(server, "--commands", "1", "--pattern", "call")  # the operator rings
            empty.append(bench(server, "--duration", seconds, "--pattern", "call-hangup"))
            bench(server, "--commands", "1000000", "--pattern", "call", "--pipeline", "64")
            full.append(bench(server, "--duration", seconds, "--pattern", "call-hangup"))
            rss_million = server.rss_kib()
    empty, full = median_report(empty), median_report(full)
    print("Call/hangup with the only operator ringing, so every call waits in the queue:")
    print()
    print("| queue | commands/s | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | note |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    print(row("empty", empty))
    ratio = full["latency_us"]["p99"] / empty["latency_us"]["p99"]
    print(row("1,000,000 waiting calls", full, f"p99 {ratio:.2f}× the empty queue's"))
    print()

    # Memory.
    with Server() as server:
        idle = server.rss_kib()
    with Server("--max-clients", "20000") as server:
        before = server.rss_kib()
        holder = subprocess.Popen(
            [BIN, "bench", "--connect", server.addr, "--idle", "10000",
             "--duration", "3", "--json"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True,
        )
        time.sleep(2)  # sampling window: the idle connections are up and held
        with_idle = server.rss_kib()
        held = json.loads(holder.communicate(timeout=60)[0])
        if held["connection_failures"]:
            raise SystemExit(f"idle connections failed: {held}")
    with Server("--operators", "1") as server:
        before_calls = server.rss_kib()
        bench(server, "--commands", "100000", "--pattern", "call", "--pipeline", "64")
        with_calls = server.rss_kib()
    print("| memory | figure |")
    print("| --- | ---: |")
    print(f"| idle server RSS | {idle / 1024:.1f} MiB |")
    print(f"| per 1,000 idle connections (10,000 held) | {(with_idle - before) / 10:.0f} KiB |")
    print(f"| per idle connection | {(with_idle - before) * 1024 / 10000:.0f} bytes |")
    print(f"| server RSS with 10,000 idle connections | {with_idle / 1024:.1f} MiB |")
    print(f"| per queued call (100,000 queued) | {(with_calls - before_calls) * 1024 / 100000:.0f} bytes |")
    print(f"| server RSS with 1,000,000 queued calls | {rss_million / 1024:.1f} MiB |")
    print()

    startups = []
    for _ in range(20):
        with Server() as server:
            startups.append(server.startup)
    print(f"Start-up to `Listening on` (median of 20): {statistics.median(startups) * 1000:.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
