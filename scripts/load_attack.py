#!/usr/bin/env python3
"""Hostile and probing clients for scripts/load.sh. Each mode prints one JSON object.

  load_attack.py slowloris HOST PORT CONNECTIONS INTERVAL_S DURATION_S
      Keeps CONNECTIONS connections open (opened in steps, 0.1 s apart; one the server closes is
      opened again at once), each sending a request line and then one byte of a header every
      INTERVAL_S seconds, never ending the headers, for DURATION_S seconds. Reports connects and
      their failures, how many the server closed and after how long (the first close of each),
      and how many it never closed.

  load_attack.py huge HOST PORT fast|slow MB DURATION_S TOKEN [SLOW_PER_TARGET]
      Request bodies of MB megabytes (10^6 B) to four targets: POST /api/v1/ingest with a
      records officer's token (multipart, a file that is not an export), the same without a
      token, POST /login (form), and GET /health (a route that reads no body).
      fast: one connection per target, all at once, as fast as the socket takes it, for at most
          DURATION_S seconds. On an early answer the client keeps sending (up to 256 MB more) to
          see whether the server drains the rest or closes. Reports the status, the bytes sent
          before it and in all, seconds.
      slow: SLOW_PER_TARGET connections per target, each sending 1 KiB a second, for DURATION_S
          seconds. Reports answers and closes, and how many were still open at the end.

  load_attack.py probe HOST PORT TOKEN PATH RATE DURATION_S
      One user sending GET PATH RATE times a second over one keep-alive connection (a new one
      after a close); reports statuses and latency (p50/p99/max ms).
"""
import asyncio
import http.client
import json
import math
import resource
import select
import socket
import sys
import threading
import time

MB = 1_000_000


def raise_nofile(want=0):
    """Raises the open-file limit to the hard limit, or (as root, up to fs.nr_open) to `want`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if want > hard:
        try:
            cap = int(open("/proc/sys/fs/nr_open").read())
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, cap), min(want, cap)))
            return
        except (OSError, ValueError):
            pass
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def nearest_rank(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[max(1, math.ceil(p / 100 * len(xs))) - 1]


def status_of(data):
    """The status code of the first response line in data, or None."""
    try:
        line = data.split(b"\r\n", 1)[0].decode("latin-1")
        return int(line.split()[1]) if line.startswith("HTTP/") else None
    except (IndexError, ValueError):
        return None


def summarize_times(xs):
    return {"n": len(xs), "min_s": round(min(xs), 2) if xs else None, "p50_s": round(nearest_rank(xs, 50), 2) if xs else None,
            "max_s": round(max(xs), 2) if xs else None}


SLOW_HEADER = b"a"

# ── slowloris ────────────────────────────────────────────────────────────────────────────────
async def slowloris(host, port, n, interval, duration):
    """n slots, each a connection trickling its headers; a slot whose connection the server
    closes connects again at once (a real attacker keeps its pool full)."""
    slots = []
    stop_at = time.monotonic() + duration
    header_start = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"

    async def one(i):
        r = {"connects": 0, "connect_errors": {}, "closes": [], "answers": {}, "open_at_end": False}
        slots.append(r)
        prefix = f"X-Slow-{i}: ".encode()

        def byte(pos):
            return prefix[pos:pos + 1] if pos < len(prefix) else SLOW_HEADER[:1]

        while time.monotonic() < stop_at:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
            except (OSError, asyncio.TimeoutError) as e:
                k = type(e).__name__ if not isinstance(e, OSError) or not e.errno else f"{type(e).__name__}/{e.errno}"
                r["connect_errors"][k] = r["connect_errors"].get(k, 0) + 1
                await asyncio.sleep(1)
                continue
            r["connects"] += 1
            t0 = time.monotonic()
            pos = 0
            closed = False
            try:
                writer.write(header_start)
                await writer.drain()
                while time.monotonic() < stop_at:
                    try:
                        data = await asyncio.wait_for(reader.read(4096), timeout=max(0.01, min(interval, stop_at - time.monotonic())))
                    except asyncio.TimeoutError:
                        data = None
                    if data == b"":
                        closed = True
                        break
                    if data:
                        k = str(status_of(data))
                        r["answers"][k] = r["answers"].get(k, 0) + 1
                        continue
                    writer.write(byte(pos))
                    pos += 1
                    await writer.drain()
            except (ConnectionError, OSError):
                closed = True
            finally:
                writer.close()
            if closed:
                r["closes"].append(time.monotonic() - t0)
            else:
                r["open_at_end"] = True

    tasks = []
    step = 50 if n <= 1000 else 500
    for i in range(n):
        tasks.append(asyncio.create_task(one(i)))
        if i % step == step - 1:
            await asyncio.sleep(0.1)
    await asyncio.gather(*tasks)
    first_close = [r["closes"][0] for r in slots if r["closes"]]
    errors, answers = {}, {}
    for r in slots:
        for k, v in r["connect_errors"].items():
            errors[k] = errors.get(k, 0) + v
        for k, v in r["answers"].items():
            answers[k] = answers.get(k, 0) + v
    return {"connections": n, "opened": sum(1 for r in slots if r["connects"]), "connects": sum(r["connects"] for r in slots),
            "connect_errors": errors, "answers": answers, "closed_by_server": sum(len(r["closes"]) for r in slots),
            "first_close_after": summarize_times(first_close), "never_closed": sum(1 for r in slots if r["connects"] and not r["closes"]),
            "open_at_end": sum(1 for r in slots if r["open_at_end"]), "interval_s": interval, "duration_s": duration}


# ── huge bodies ──────────────────────────────────────────────────────────────────────────────
BOUNDARY = "loadtestboundary7d1c"


def targets(token, total):
    """(name, request head, body prefix, body suffix) for each target, the body totalling `total` bytes."""
    out = []
    pre = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"custodian\"\r\n\r\nbench@agency.example.gov\r\n"
           f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.txt\"\r\n"
           "Content-Type: text/plain\r\n\r\n").encode()
    post = f"\r\n--{BOUNDARY}--\r\n".encode()
    for name, auth in (("ingest (officer token)", True), ("ingest (no token)", False)):
        head = (f"POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                f"Content-Length: {total}\r\n" + (f"Authorization: Bearer {token}\r\n" if auth else "") + "\r\n")
        out.append((name, head.encode(), pre, post))
    out.append(("login (form)", (f"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                                 f"Content-Length: {total}\r\n\r\n").encode(), b"username=load-u01&password=", b""))
    out.append(("GET /health (reads no body)", (f"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                                                f"Content-Length: {total}\r\n\r\n").encode(), b"", b""))
    return out


def huge_fast_one(host, port, name, head, pre, post, total, deadline, result):
    chunk = memoryview((b"x" * 1023 + b"\n") * 1024)          # 1 MiB of lines
    after_limit = 256 * MB
    r = {"target": name, "status": None, "sent_before_answer": None, "sent": 0, "seconds": None, "answer_after_s": None,
         "outcome": None}
    result.append(r)
    t0 = time.monotonic()
    s = socket.create_connection((host, port), timeout=600)
    answer = b""
    try:
        s.sendall(head + pre)
        body_left = total - len(pre) - len(post)
        sent = len(pre)
        while True:
            if r["status"] is None and select.select([s], [], [], 0)[0]:
                answer = s.recv(65536)
                if not answer:
                    r["outcome"] = "closed without an answer"
                    break
                r["status"], r["sent_before_answer"], r["answer_after_s"] = status_of(answer), sent, round(time.monotonic() - t0, 2)
            if r["status"] is not None and sent - r["sent_before_answer"] >= after_limit:
                r["outcome"] = f"answered, then the server still read {after_limit // MB} MB more (drains the body)"
                break
            if body_left <= 0:
                s.sendall(post)
                sent += len(post)
                if r["status"] is None:
                    s.settimeout(max(1, deadline - time.monotonic()))
                    answer = s.recv(65536)
                    r["status"], r["sent_before_answer"], r["answer_after_s"] = status_of(answer), sent, round(time.monotonic() - t0, 2)
                    r["outcome"] = "whole body read before the answer"
                else:
                    r["outcome"] = (f"answered, then the server still read the rest of the body "
                                    f"({(sent - r['sent_before_answer']) / MB:,.0f} MB after answering)")
                break
            if time.monotonic() > deadline:
                r["outcome"] = f"gave up: the server was still reading after {time.monotonic() - t0:.0f} s"
                break
            n = min(len(chunk), body_left)
            s.sendall(chunk[:n])
            sent += n
            body_left -= n
    except (ConnectionError, OSError) as e:
        r["outcome"] = f"server closed/reset after {sent / MB:.0f} MB ({type(e).__name__})"
        if r["status"] is None:          # an answer may still wait in the socket
            try:
                s.settimeout(1)
                answer = s.recv(65536)
                if answer:
                    r["status"], r["sent_before_answer"] = status_of(answer), sent
            except OSError:
                pass
    finally:
        r["sent"] = sent
        r["seconds"] = round(time.monotonic() - t0, 2)
        if answer:
            r["answer_head"] = answer.split(b"\r\n", 1)[0].decode("latin-1")
        s.close()


async def huge_slow(host, port, token, total, duration, per_target):
    results = []
    stop_at = time.monotonic() + duration

    async def one(name, head, pre):
        r = {"target": name, "opened": False, "answered": None, "status": None, "closed": None, "sent": 0}
        results.append(r)
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        except (OSError, asyncio.TimeoutError):
            return
        r["opened"] = True
        t0 = time.monotonic()
        try:
            writer.write(head + pre)
            await writer.drain()
            while time.monotonic() < stop_at:
                try:
                    data = await asyncio.wait_for(reader.read(4096), timeout=max(0.01, min(1.0, stop_at - time.monotonic())))
                except asyncio.TimeoutError:
                    data = None
                if data == b"":
                    r["closed"] = time.monotonic() - t0
                    return
                if data and r["answered"] is None:
                    r["answered"], r["status"] = time.monotonic() - t0, status_of(data)
                if data is None:
                    writer.write(b"x" * 1023 + b"\n")
                    r["sent"] += 1024
                    await writer.drain()
        except (ConnectionError, OSError):
            r["closed"] = time.monotonic() - t0
        finally:
            writer.close()

    tasks = []
    for name, head, pre, _ in targets(token, total):
        for _ in range(per_target):
            tasks.append(asyncio.create_task(one(name, head, pre)))
    await asyncio.gather(*tasks)
    out = {}
    for name, *_ in targets(token, total):
        rs = [r for r in results if r["target"] == name]
        opened = [r for r in rs if r["opened"]]
        closed = [r["closed"] for r in opened if r["closed"] is not None]
        statuses = {}
        for r in opened:
            if r["answered"] is not None:
                statuses[str(r["status"])] = statuses.get(str(r["status"]), 0) + 1
        out[name] = {"connections": len(rs), "opened": len(opened), "answer_statuses": statuses,
                     "answer_after": summarize_times([r["answered"] for r in opened if r["answered"] is not None]),
                     "closed_by_server": len(closed), "close_after": summarize_times(closed),
                     "still_open_at_end": len(opened) - len(closed)}
    return {"per_target": per_target, "duration_s": duration, "rate": "1 KiB/s per connection", "targets": out}


# ── probe: one user at a steady rate ─────────────────────────────────────────────────────────
def probe(host, port, token, path, rate, duration):
    statuses, ms = {}, []
    conn = http.client.HTTPConnection(host, port, timeout=60)
    t_end = time.monotonic() + duration
    next_t = time.monotonic()
    while time.monotonic() < t_end:
        t0 = time.perf_counter()
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            resp = conn.getresponse()
            resp.read()
            k = str(resp.status)
        except (OSError, http.client.HTTPException) as e:
            k = type(e).__name__
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=60)
        ms.append((time.perf_counter() - t0) * 1000)
        statuses[k] = statuses.get(k, 0) + 1
        next_t += 1 / rate
        time.sleep(max(0, next_t - time.monotonic()))
    return {"requests": len(ms), "statuses": statuses, "p50_ms": nearest_rank(ms, 50), "p99_ms": nearest_rank(ms, 99),
            "max_ms": max(ms) if ms else None, "rate": rate, "duration_s": duration}


def main():
    a = sys.argv[1:]
    raise_nofile(int(a[3]) + 1000 if a[:1] == ["slowloris"] and len(a) > 3 and a[3].isdigit() else 0)
    if a[:1] == ["slowloris"] and len(a) == 6:
        out = asyncio.run(slowloris(a[1], int(a[2]), int(a[3]), float(a[4]), float(a[5])))
    elif a[:1] == ["huge"] and len(a) in (7, 8):
        host, port, mode, total, duration, token = a[1], int(a[2]), a[3], int(float(a[4]) * MB), float(a[5]), a[6]
        if mode == "fast":
            results, threads = [], []
            for name, head, pre, post in targets(token, total):
                t = threading.Thread(target=huge_fast_one, args=(host, port, name, head, pre, post, total,
                                                                  time.monotonic() + duration, results))
                t.start()
                threads.append(t)
            for t in threads:
                t.join()
            out = {"mb": total / MB, "targets": {r.pop("target"): r for r in results}}
        elif mode == "slow":
            out = asyncio.run(huge_slow(host, port, token, total, duration, int(a[7]) if len(a) == 8 else 25))
            out["mb_declared"] = total / MB
        else:
            sys.exit(__doc__)
    elif a[:1] == ["probe"] and len(a) == 7:
        out = probe(a[1], int(a[2]), a[3], a[4], float(a[5]), float(a[6]))
    else:
        sys.exit(__doc__)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out["attacker_cpu_s"] = round(ru.ru_utime + ru.ru_stime, 1)     # on the same 2 cores as the server
    print(json.dumps(out))


if __name__ == "__main__":
    main()
