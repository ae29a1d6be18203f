#!/usr/bin/env python3
"""Writes a seeded, realistic Combined log of about SIZE bytes to stdout.

usage: gen_combined.py SIZE_MB [SEED]

Clients, endpoints with ids, a status mix, referers and user agents drawn from
fixed pools; about 2,000 requests a second with jitter and a few lines written
out of order, as several workers do. The same SIZE and SEED give the same bytes.
"""
import random
import sys
import time

size = int(sys.argv[1]) * 1_000_000
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)

clients = [f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(20000)]
clients += [f"2001:db8:{rng.randint(0, 65535):x}::{rng.randint(1, 65535):x}" for _ in range(2000)]
agents = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "okhttp/4.12.0",
    "curl/8.5.0",
]
referers = ["-", "-", "-", "https://www.example.com/", "https://www.google.com/", "https://shop.example.com/cart"]
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def endpoint():
    r = rng.random()
    if r < 0.30:
        return "GET", f"/users/{rng.randint(1, 500000)}"
    if r < 0.50:
        return "GET", f"/products/{rng.randint(1, 90000)}?ref=home&page={rng.randint(1, 20)}"
    if r < 0.70:
        return "GET", rng.choice(["/", "/static/app.js", "/static/site.css", "/favicon.ico", "/images/logo.png"])
    if r < 0.80:
        return "GET", f"/api/v1/orders/{rng.getrandbits(64):016x}/items"
    if r < 0.88:
        return "POST", "/api/v1/cart"
    if r < 0.93:
        return "POST", "/login"
    if r < 0.97:
        return "GET", f"/search?q=item{rng.randint(1, 5000)}&sort=price"
    return rng.choice(["PUT", "DELETE", "HEAD"]), f"/api/v1/items/{rng.randint(1, 10000)}"


statuses = [200] * 80 + [304] * 8 + [302] * 4 + [404] * 5 + [500] * 2 + [503]
start = 1764288000  # 2025-11-28T00:00:00Z
out = sys.stdout
written = 0
t = float(start)
batch = []
while written < size:
    t += rng.expovariate(2000.0)
    # A few lines land out of order, as when several workers share a log.
    stamp = int(t) - (rng.randint(1, 30) if rng.random() < 0.002 else 0)
    tm = time.gmtime(stamp)
    method, path = endpoint()
    line = (
        f'{rng.choice(clients)} - - [{tm.tm_mday:02d}/{months[tm.tm_mon - 1]}/{tm.tm_year}:'
        f'{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} +0000] "{method} {path} HTTP/1.1" '
        f'{rng.choice(statuses)} {rng.randint(0, 60000)} "{rng.choice(referers)}" "{rng.choice(agents)}"\n'
    )
    batch.append(line)
    written += len(line)
    if len(batch) >= 10000:
        out.write("".join(batch))
        batch.clear()
out.write("".join(batch))
