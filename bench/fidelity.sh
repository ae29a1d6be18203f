#!/usr/bin/env bash
# Fidelity as the target sees it: derive a log, replay it against a real nginx
# on loopback at a high speed, parse nginx's own access log, and compare it
# with the original: total, per-bin shape (correlation) and mix by endpoint
# template (total variation distance).
# Usage: bench/fidelity.sh LOG [DURATION=40s]. Installs nginx when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
log=${1:?usage: bench/fidelity.sh LOG [DURATION]}
duration=${2:-40s}
. bench/nginx_target.sh
deploy/build-release.sh
replay=target/release/replay
out=bench/out/fidelity
rm -rf "$out" && mkdir -p "$out"
start_nginx "$out/nginx" 18095 "log_format replay '\$msec \"\$request\" \$status'; access_log access.log replay;"
: > "$out/nginx/access.log"   # the readiness probe is no part of the replay
$replay derive "$log" -o "$out/original.json" 2>/dev/null
$replay run "$out/original.json" --host http://127.0.0.1:18095 --duration "$duration" --connections 256 --out "$out/run" >/dev/null 2>&1 || true
kill $nginx_pid; wait $nginx_pid 2>/dev/null || true
$replay parse --format 'nginx:$msec "$request" $status' "$out/nginx/access.log" > "$out/received.jsonl" 2>/dev/null
python3 - "$out/original.json" "$out/run/results.json" "$out/received.jsonl" <<'PY'
import datetime, json, re, sys, urllib.parse
a, run = (json.load(open(p)) for p in sys.argv[1:3])
received = [json.loads(line) for line in open(sys.argv[3])]
# The mix by the original's templates: each received request is matched to the first template it fills.
def pattern(path):
    parts = re.split(r"(\{[A-Za-z0-9_-]+\})", path.replace("{{", "\x00").replace("}}", "\x01"))
    rx = "".join("[^/]*" if re.fullmatch(r"\{[A-Za-z0-9_-]+\}", p) else re.escape(p.replace("\x00", "{").replace("\x01", "}")) for p in parts)
    return re.compile(rx + "$")
# The most specific template wins: the one with the most literal characters.
literal = lambda path: len(re.sub(r"\{[A-Za-z0-9_-]+\}", "", path))
templates = sorted(((e["method"], pattern(e["path"]), f"{e['method']} {e['path']}") for e in a["endpoints"] if not e.get("tail")), key=lambda t: -literal(t[2]))
tail = next((f"{e['method']} {e['path']}" for e in a["endpoints"] if e.get("tail")), "* *")
ma = {f"{e['method']} {e['path']}": e["count"] for e in a["endpoints"]}
mb = {}
for r in received:
    # Templates hold literals as logged (percent-encoded or not): match the path as received and decoded.
    raw = r.get("path") or ""
    paths = (raw, urllib.parse.unquote(raw))
    method = r.get("method") or ""
    key = next((name for m, rx, name in templates if (m == method or m == "OTHER") and any(rx.match(p) for p in paths)), tail)
    mb[key] = mb.get(key, 0) + 1
ta, tb = sum(ma.values()), sum(mb.values())
keys = set(ma) | set(mb)
tvd = sum(abs(ma.get(k, 0) / ta - mb.get(k, 0) / tb) for k in keys) / 2
# Both curves on 50 stretches of the original's bins: each received time (ms, from $msec) is mapped
# back through the run's speed to the original's bin, then bins are summed into stretches alike.
ca = a['arrival']['counts']
bin_s = a['arrival']['bin_s']
n = 50
speed = run['plan']['speed']
times = sorted(datetime.datetime.fromisoformat(r['time'].replace('Z', '+00:00')).timestamp() for r in received if r.get('time'))
origin = times[0]
cb = [0] * len(ca)
for t in times:
    cb[min(len(ca) - 1, int((t - origin) * speed / bin_s))] += 1
stretch = lambda c, i: sum(c[i * len(c) // n:(i + 1) * len(c) // n])
sa = [stretch(ca, i) for i in range(n)]
sb = [stretch(cb, i) for i in range(n)]
ma_, mb_ = sum(sa) / len(sa), sum(sb) / len(sb)
cov = sum((x - ma_) * (y - mb_) for x, y in zip(sa, sb))
var = (sum((x - ma_) ** 2 for x in sa) * sum((y - mb_) ** 2 for y in sb)) ** 0.5
corr = cov / var if var else 1.0
print(f"log {sys.argv[1]}: {ta} requests; nginx received {tb} ({tb / ta * 100:.2f}%)")
print(f"shape correlation {corr:.3f} over 50 stretches (target >= 0.99); mix distance {tvd:.3f} by the original's templates (target <= 0.01)")
worst = sorted(keys, key=lambda k: -abs(ma.get(k, 0) / ta - mb.get(k, 0) / tb))[:5]
print("largest mix differences: " + "; ".join(f"{k} {ma.get(k, 0)} logged, {mb.get(k, 0)} received" for k in worst))
print("original: " + " ".join(map(str, sa)))
print("received: " + " ".join(map(str, sb)))
PY
