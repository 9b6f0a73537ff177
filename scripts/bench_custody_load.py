"""Open-loop load for POST /api/v1/custody/scans (used by scripts/bench_custody.sh, P2).

Usage: python3 bench_custody_load.py --url URL --token TOKEN --rate SCANS_PER_S --duration S
           [--batch 1] [--stations 50] [--first ITEM] [--targeted-every K --targeted-first ITEM]
           [--server-log FILE] [--ids-out FILE] [--name NAME]

Each of --stations keep-alive HTTP/1.1 connections (raw asyncio streams, no client library) is a
station ("BENCH-01"…) that sends one request at a time, as a station does. Request k is due at
start + k × batch / rate (open loop: requests are not held back by slow answers); a station takes
the next due request when it is free. Every scan receives a distinct item (bench_custody_gen.s10_for
of item numbers FIRST, FIRST+1, …; with --targeted-every K every K-th scan is instead an item of
the imported target list, numbers TARGETED_FIRST, TARGETED_FIRST+1, …) and a distinct
client_scan_id.

Prints one JSON object: scans and requests sent, answers by status, the achieved rate
(scans recorded ÷ seconds from the first request due to the last answer), client-side latency per
request (p50/p95/p99/max in ms, from the moment the request was written; and "from_due", from the
moment it was due, which includes waiting for a free station), how late requests were sent, and,
with --server-log, the server's own per-request time for this phase (the request log's ms=… of
each POST /api/v1/custody/scans line written during the phase).
"""
import argparse
import asyncio
import json
import math
import os
import re
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_custody_gen import s10_for  # noqa: E402

PATH = "/api/v1/custody/scans"


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[max(1, math.ceil(p / 100 * len(xs))) - 1]


def summary(xs):
    return {"n": len(xs), "p50": pct(xs, 50), "p95": pct(xs, 95), "p99": pct(xs, 99), "max": max(xs) if xs else None,
            "mean": sum(xs) / len(xs) if xs else None}


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    else:
        body = await reader.read()
    return status, headers, body


def server_times(log, start, end):
    """ms=… of the scan requests logged between byte offsets start and end of the server log."""
    out = []
    with open(log, "rb") as f:
        f.seek(start)
        chunk = f.read(end - start).decode("utf-8", "replace")
    for line in chunk.splitlines():
        if "POST " + PATH in line:
            m = re.search(r"\bms=([0-9.]+)", line)
            if m:
                out.append(float(m.group(1)))
    return out


async def run(a):
    host, port = re.match(r"http://([^:/]+):(\d+)", a.url).groups()
    n_scans = int(round(a.rate * a.duration))
    n_req = max(1, n_scans // a.batch)
    n_scans = n_req * a.batch
    interval = a.batch / a.rate
    ids_out = open(a.ids_out, "w") if a.ids_out else None

    def item(j):  # the j-th scan of this phase
        if a.targeted_every and j % a.targeted_every == a.targeted_every - 1:
            return s10_for(a.targeted_first + j // a.targeted_every)
        return s10_for(a.first + j - (j // a.targeted_every if a.targeted_every else 0))

    # Bodies are built before the clock starts, so the load generator's own work while timing is
    # writing bytes and reading answers.
    requests = []
    for k in range(n_req):
        scans = []
        for b in range(a.batch):
            j = k * a.batch + b
            sid = str(uuid.UUID(int=(a.id_seed << 64) | j))
            s = item(j)
            scans.append({"s10": s, "action": "receive", "location": a.location, "client_scan_id": sid})
            if ids_out:
                ids_out.write(f"{s}\t{sid}\n")
        station = f"BENCH-{k % a.stations + 1:02d}"
        body = json.dumps({"station": station, "scans": scans}).encode()
        head = (f"POST {PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {a.token}\r\n"
                f"Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        requests.append(head + body)
    if ids_out:
        ids_out.close()

    log_start = os.path.getsize(a.server_log) if a.server_log else 0
    statuses, codes, http = {}, {}, {}
    lat, lat_due, late = [], [], []
    errors = []
    next_k = 0
    last_done = 0.0
    t0 = time.perf_counter() + 0.5

    async def station():
        nonlocal next_k, last_done
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while True:
                k = next_k
                if k >= n_req:
                    return
                next_k += 1
                due = t0 + k * interval
                now = time.perf_counter()
                if due > now:
                    await asyncio.sleep(due - now)
                sent = time.perf_counter()
                late.append((sent - due) * 1000)
                writer.write(requests[k])
                try:
                    status, _, body = await read_response(reader)
                except (asyncio.IncompleteReadError, ConnectionError) as e:
                    errors.append(f"request {k}: {type(e).__name__}")
                    reader, writer = await asyncio.open_connection(host, int(port))
                    continue
                done = time.perf_counter()
                last_done = max(last_done, done)
                lat.append((done - sent) * 1000)
                lat_due.append((done - due) * 1000)
                http[status] = http.get(status, 0) + 1
                if status != 200:
                    if len(errors) < 20:
                        errors.append(f"request {k}: HTTP {status} {body[:200]!r}")
                    continue
                for r in json.loads(body)["results"]:
                    statuses[r["status"]] = statuses.get(r["status"], 0) + 1
                    if r.get("code"):
                        codes[r["code"]] = codes.get(r["code"], 0) + 1
        finally:
            writer.close()

    cpu0 = time.process_time()
    await asyncio.gather(*(station() for _ in range(min(a.stations, n_req))))
    cpu1 = time.process_time()
    elapsed = last_done - t0
    out = {
        "name": a.name, "target_rate": a.rate, "duration_planned": a.duration, "batch": a.batch, "stations": a.stations,
        "scans_sent": n_scans, "requests": n_req, "http": {str(k): v for k, v in http.items()}, "statuses": statuses,
        "codes": codes, "errors": errors[:20], "error_count": len(errors),
        "seconds": elapsed, "achieved_scans_per_s": statuses.get("recorded", 0) / elapsed if elapsed > 0 else None,
        "latency_ms": summary(lat), "latency_from_due_ms": summary(lat_due), "send_late_ms": summary(late),
        "loadgen_cpu_s": cpu1 - cpu0,
    }
    if a.server_log:
        await asyncio.sleep(0.5)
        out["server_ms"] = summary(server_times(a.server_log, log_start, os.path.getsize(a.server_log)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--stations", type=int, default=50)
    ap.add_argument("--location", default="RCV-1")
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--targeted-every", type=int, default=0)
    ap.add_argument("--targeted-first", type=int, default=0)
    ap.add_argument("--id-seed", type=int, default=1, help="distinguishes the client_scan_ids of phases")
    ap.add_argument("--server-log")
    ap.add_argument("--ids-out")
    ap.add_argument("--name", default="scans")
    a = ap.parse_args()
    print(json.dumps(asyncio.run(run(a))))


if __name__ == "__main__":
    main()
