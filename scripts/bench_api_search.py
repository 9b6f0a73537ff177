#!/usr/bin/env python3
"""Search latency through the JSON API of a running `recordkeeper serve` (part of scripts/bench.sh).

Issue 13 states its search baseline "server-side through the API": a server whose SQLite page
cache is warm, as records staff meet it, rather than a fresh CLI process per query. This helper
adds a reviewer and an API token to the archive, starts `serve --port 0` on it, sends every query
of the fixed set (1 warm-up + N timed runs, each order) over one keep-alive connection, and stops
the server. The time is the client's wall time per request on localhost (HTTP, JSON and the
audit entry every search writes included).

Usage: bench_api_search.py BINARY DATA_DIR RUNS QUERY_FILE ORDER...
QUERY_FILE holds one query per line, CLI style: words first, then `|--from|…|--custodian|…`.
Prints one JSON object in the shape of the CLI search results (orders.<order>.p50/p99/max/rows).
"""
import http.client
import json
import math
import re
import subprocess
import sys
import time
import urllib.parse

binary, data, runs, query_file, orders = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
FLAGS = {"--from": "from", "--to": "to", "--custodian": "custodian", "--participant": "participant",
         "--conversation": "conversation", "--platform": "platform"}


def rk(*args, stdin=None):
    return subprocess.run([binary, *args, "--data-dir", data], input=stdin, text=True,
                          capture_output=True, check=True).stdout


def nearest_rank(xs, p):
    xs = sorted(xs)
    return xs[max(1, math.ceil(p / 100 * len(xs))) - 1]


users = json.loads(rk("user", "list", "--json"))
if not any(u.get("name") == "bench-search" for u in users):
    rk("user", "add", "bench-search", "--role", "reviewer")
secret = re.search(r"\brk_[A-Za-z0-9_\-]+", rk("user", "token", "create", "bench-search", "--label", "scripts/bench.sh search latency"))
if not secret:
    sys.exit("could not read the token's secret from `user token create`")
token = secret.group(0)

server = subprocess.Popen([binary, "serve", "--data-dir", data, "--port", "0"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)
try:
    line = server.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not m:
        sys.exit(f"the server did not start: {line!r}")
    conn = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=60)
    queries = [l.rstrip("\n").split("|") for l in open(query_file) if l.strip()]
    out = {"runs": runs, "orders": {}}
    for order in orders:
        samples, rows = [], []
        for parts in queries:
            params = {"q": parts[0], "sort": order, "limit": "20"}
            for flag, value in zip(parts[1::2], parts[2::2]):
                params[FLAGS[flag]] = value
            path = "/api/v1/search?" + urllib.parse.urlencode(params)
            ms = []
            for run in range(runs + 1):                      # run 0 is the warm-up
                t0 = time.perf_counter()
                conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
                resp = conn.getresponse()
                body = resp.read()
                elapsed = (time.perf_counter() - t0) * 1000
                if resp.status != 200:
                    sys.exit(f"GET {path}: HTTP {resp.status}: {body[:300]!r}")
                j = json.loads(body)
                if (j.get("coverage") or {}).get("not_yet_searchable", 0):
                    sys.exit(f"search {parts[0]!r} ({order}) saw messages not yet searchable")
                if run > 0:
                    ms.append(elapsed)
            samples += ms
            rows.append({"query": " ".join(parts), "total": j["total"], "p50": nearest_rank(ms, 50), "max": max(ms)})
        out["orders"][order] = {"p50": nearest_rank(samples, 50), "p99": nearest_rank(samples, 99), "max": max(samples),
                                "n": len(samples), "worst": max(rows, key=lambda r: r["max"]), "rows": rows}
    print(json.dumps(out))
finally:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
