#!/usr/bin/env python3
"""Runs commands one after another and prints a table: seconds, MB/s over the
bytes each one reads, peak RSS, and each one's speed as a ratio to replay's.

usage: [ROUNDS=3] measure.py NAME BYTES -- CMD ... [;; NAME BYTES -- CMD ...]
Each command's stdout goes to /dev/null; a failing command fails the run.
Peak RSS comes from GNU time (/usr/bin/time), so it is the command's own, not
this script's. CPU time is read to the microsecond from wait4 (the command's,
and GNU time's own, under a millisecond), and wall time around the run on
the monotonic clock: GNU time gives both in hundredths of a second, which
reads a third of a second's run only to 3%.

The commands run in ROUNDS rounds, each round all of them in turn, and each
figure is the median of its rounds (peak RSS: the largest): on a shared
machine one run moves by 10-20%, and interleaving makes two commands meet the
same moments. Just before each run, the files its arguments name are read
once, so it reads from memory: this machine's page cache drops files within
minutes, and a run that read part of its log from disk measured the disk.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

runs = []
args = sys.argv[1:]
while args:
    end = args.index(";;") if ";;" in args else len(args)
    spec, args = args[:end], args[end + 1:]
    name, size, sep, *cmd = spec
    assert sep == "--", spec
    runs.append((name, int(size), cmd))

ROUNDS = max(1, int(os.environ.get("ROUNDS", "3")))


def warm(cmd):
    """Reads each file the command names, so that its run finds them in the page cache."""
    for arg in cmd:
        if os.path.isfile(arg):
            with open(arg, "rb") as f:
                while f.read(1 << 20):
                    pass


def timed_run(name, cmd):
    """Wall seconds, peak RSS in MB and CPU seconds of one run of `cmd`."""
    with tempfile.NamedTemporaryFile("r") as stats:
        start = time.perf_counter()
        proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", stats.name, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # stderr is read to its end before the wait (a chatty command never blocks on a full pipe).
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stderr.close()
        if proc.returncode != 0:
            sys.exit(f"{name} failed: {' '.join(cmd)}\n{err.decode(errors='replace')}")
        rss_kb = stats.read().split()[-1]
    return seconds, int(rss_kb) / 1024, usage.ru_utime + usage.ru_stime


measured = [[] for _ in runs]
for _ in range(ROUNDS):
    for (name, _, cmd), got in zip(runs, measured):
        warm(cmd)
        got.append(timed_run(name, cmd))
rows = []
for (name, size, _), got in zip(runs, measured):
    rows.append((name, size, statistics.median(g[0] for g in got), max(g[1] for g in got), statistics.median(g[2] for g in got)))
print(f"medians of {ROUNDS} interleaved rounds (peak RSS: the largest)")

replay = [r for r in rows if r[0].startswith("replay")][-1] if any(r[0].startswith("replay") for r in rows) else rows[-1]
replay_rate = replay[1] / replay[2]
print(f"{'tool':<34} {'MB read':>8} {'seconds':>8} {'MB/s':>8} {'CPU s':>7} {'CPU s/GB':>9} {'peak RSS MB':>12} {'speed vs replay':>16}")
for name, size, seconds, rss, cpu in rows:
    rate = size / seconds
    print(f"{name:<34} {size / 1e6:>8.0f} {seconds:>8.3f} {rate / 1e6:>8.0f} {cpu:>7.3f} {cpu / (size / 1e9):>9.2f} {rss:>12.1f} {rate / replay_rate:>15.3f}x")
