#!/usr/bin/env python3
"""Runs commands one after another and prints a table: seconds, MB/s over the
bytes each one reads, peak RSS, and each one's speed as a ratio to replay's.

usage: measure.py NAME BYTES -- CMD ... [;; NAME BYTES -- CMD ...]
Each command's stdout goes to /dev/null; a failing command fails the run.
"""
import os
import subprocess
import sys
import time

runs = []
args = sys.argv[1:]
while args:
    end = args.index(";;") if ";;" in args else len(args)
    spec, args = args[:end], args[end + 1:]
    name, size, sep, *cmd = spec
    assert sep == "--", spec
    runs.append((name, int(size), cmd))

rows = []
for name, size, cmd in runs:
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    stderr = proc.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{name} failed: {' '.join(cmd)}\n{stderr}")
    rows.append((name, size, seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime))

replay = next((r for r in rows if r[0].startswith("replay")), rows[-1])
replay_rate = replay[1] / replay[2]
print(f"{'tool':<28} {'MB read':>8} {'seconds':>8} {'MB/s':>8} {'CPU s':>7} {'peak RSS MB':>12} {'speed vs replay':>16}")
for name, size, seconds, rss, cpu in rows:
    rate = size / seconds
    print(f"{name:<28} {size / 1e6:>8.0f} {seconds:>8.2f} {rate / 1e6:>8.0f} {cpu:>7.2f} {rss:>12.1f} {rate / replay_rate:>15.3f}x")
