#!/usr/bin/env python3
"""Runs commands one after another and prints a table: seconds, MB/s over the
bytes each one reads, peak RSS, and each one's speed as a ratio to replay's.

usage: measure.py NAME BYTES -- CMD ... [;; NAME BYTES -- CMD ...]
Each command's stdout goes to /dev/null; a failing command fails the run.
Times and peak RSS come from GNU time (/usr/bin/time), so they are the
command's own, not this script's.
"""
import subprocess
import sys
import tempfile

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
    with tempfile.NamedTemporaryFile("r") as stats:
        timed = ["/usr/bin/time", "-f", "%e %M %U %S", "-o", stats.name, *cmd]
        proc = subprocess.run(timed, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            sys.exit(f"{name} failed: {' '.join(cmd)}\n{proc.stderr.decode(errors='replace')}")
        seconds, rss_kb, user, system = stats.read().split()[-4:]
    rows.append((name, size, float(seconds), int(rss_kb) / 1024, float(user) + float(system)))

replay = [r for r in rows if r[0].startswith("replay")][-1] if any(r[0].startswith("replay") for r in rows) else rows[-1]
replay_rate = replay[1] / replay[2]
print(f"{'tool':<34} {'MB read':>8} {'seconds':>8} {'MB/s':>8} {'CPU s':>7} {'CPU s/GB':>9} {'peak RSS MB':>12} {'speed vs replay':>16}")
for name, size, seconds, rss, cpu in rows:
    rate = size / seconds
    print(f"{name:<34} {size / 1e6:>8.0f} {seconds:>8.2f} {rate / 1e6:>8.0f} {cpu:>7.2f} {cpu / (size / 1e9):>9.2f} {rss:>12.1f} {rate / replay_rate:>15.3f}x")
