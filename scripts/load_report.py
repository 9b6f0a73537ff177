#!/usr/bin/env python3
"""The report of scripts/load.sh: a table of every measurement and OK/MISS against issue 17's
load targets. Usage: load_report.py RESULTS_DIR (the JSON files load.sh wrote there)."""
import json
import os
import sys

res = sys.argv[1]


def load(name):
    p = f"{res}/{name}.json"
    return json.load(open(p)) if os.path.exists(p) else None


meta = load("meta")
# Every half second: time, server RSS (KiB), its open files, its CPU ticks, machine ticks (all,
# idle), the archive's WAL size (bytes).
rss = []
for line in open(f"{res}/server-rss.txt") if os.path.exists(f"{res}/server-rss.txt") else []:
    parts = line.split()
    if len(parts) == 7 and all(p.isdigit() for p in parts[1:]):
        rss.append((float(parts[0]), *map(int, parts[1:])))


def window(t0, t1):
    return [r for r in rss if t0 <= r[0] <= t1]


def max_rss_mb(t0, t1):
    xs = [r[1] for r in window(t0, t1)]
    return max(xs) * 1024 / 1e6 if xs else float("nan")


def max_fds(t0, t1):
    xs = [r[2] for r in window(t0, t1)]
    return max(xs) if xs else 0


def max_wal_mb(t0, t1):
    xs = [r[6] for r in window(t0, t1)]
    return max(xs) / 1e6 if xs else float("nan")


def cpu(t0, t1):
    """(server CPU in % of one core, machine busy in %) over the window; a server restart inside
    it (its ticks falling) leaves the server's share unknown."""
    w = window(t0, t1)
    if len(w) < 2:
        return float("nan"), float("nan")
    a, b = w[0], w[-1]
    srv = (b[3] - a[3]) / meta.get("clk_tck", 100) / (b[0] - a[0]) * 100 if b[3] >= a[3] else float("nan")
    total, idle = b[4] - a[4], b[5] - a[5]
    return srv, (1 - idle / total) * 100 if total else float("nan")


def attack_result(name):
    """The attacker's JSON for a phase, or None (missing, or cut short)."""
    try:
        return json.load(open(f"{res}/{name}.attack.json"))
    except (OSError, ValueError):
        return None


def non2xx(d):
    return sum(v for k, v in d["statuses"].items() if not k.startswith("2"))


def sock(d):
    return sum(v for k, v in d["errors"].items() if k != "status")


def rps(d):
    return d["requests"] / d["duration_s"] if d["duration_s"] else 0.0


def when(t):
    """A summarize_times dict from load_attack.py as words."""
    return "never" if not t["n"] else f"{t['n']} after {t['min_s']}–{t['max_s']} s (median {t['p50_s']} s)"


def statuses(d):
    return " ".join(f"{k}×{v}" for k, v in sorted(d["statuses"].items()))


print()
print(f"Load test of recordkeeper serve — {meta['date']}")
print(f"  binary   {meta['binary']} ({meta['build']} build; HEAD when run: {meta['commit']})")
print(f"  tool     {meta['wrk']} (one thread and one user per connection, --timeout 60s); {meta['cpus']} CPUs;"
      f" server open-file limit {meta['server_nofile']}")
print(f"  archive  {meta['messages']:,} messages (bench.sh's export) plus what the concurrent ingest added")
print(f"  serve    limits-off: {meta['serve_limits_off']}; defaults: {meta['serve_defaults'] or '(no options)'}")
print()
rows = ["floor", "search-idle", "mixed-idle-search", "mixed-idle-browse-api", "mixed-idle-browse-html", "mixed-idle-export", "search", "browse-api", "browse-html", "export", "mixed-search", "mixed-browse-api",
        "mixed-browse-html", "mixed-export", "searchers", "paced-search", "paced-browse-api", "paced-browse-html", "paced-export",
        "normal", "slowloris", "huge-fast", "huge-slow", "slowloris-flood", "ratelimit-hammer"]
notes = {"floor": "GET /health, no ingest", "search-idle": "no ingest", "mixed-idle-search": "no ingest, 4 wrk at once", "search": "during ingest", "browse-api": "during ingest",
         "browse-html": "during ingest", "export": "during ingest", "mixed-search": "during ingest, 4 wrk at once",
         "mixed-browse-api": "", "mixed-browse-html": "", "mixed-export": "",
         "searchers": f"during ingest, think {meta['think_ms']} ms, defaults",
         "paced-search": f"during ingest, 4 wrk at once, think {meta['think_ms']} ms", "paced-browse-api": "", "paced-browse-html": "",
         "paced-export": "",
         "normal": f"search, think {meta['think_ms']} ms, no ingest: baseline for the attacks", "slowloris": "search beside slowloris",
         "huge-fast": f"search beside fast {meta['huge_mb'] / 1000:g} GB bodies", "huge-slow": "search beside slow bodies",
         "slowloris-flood": f"search beside {meta['slowloris_flood']} slowloris connections",
         "ratelimit-hammer": "one user, one expensive search"}
hdr = f"{'scenario':<18} {'server':<10} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'non-2xx':>8} {'sock err':>8} {'RSS MB':>7} {'fds':>6} {'srv CPU':>7} {'busy':>5} {'WAL MB':>7}  load start → end        note"
print(hdr)
print("─" * len(hdr))
for name in rows:
    d = load(name)
    if not d:
        continue
    print(f"{name:<18} {d.get('server', ''):<10} {d['connections']:>5} {rps(d):>8.1f} {d['p50_ms']:>8.1f} {d['p99_ms']:>8.1f} {d['max_ms']:>8.0f} {non2xx(d):>8} {sock(d):>8}"
          f" {max_rss_mb(d['t_start'], d['t_end']):>7.0f} {max_fds(d['t_start'], d['t_end']):>6} {cpu(d['t_start'], d['t_end'])[0]:>6.0f}%"
          f" {cpu(d['t_start'], d['t_end'])[1]:>4.0f}% {max_wal_mb(d['t_start'], d['t_end']):>7.0f}  {d['load_start']} → {d['load_end']}   {notes.get(name, '')}")
print()
for name in rows:
    d = load(name)
    if d and (non2xx(d) or sock(d)):
        print(f"  {name}: statuses {statuses(d)}; socket errors {d['errors']}")

results = []


def verdict(ok, target, detail):
    results.append((ok, target, detail))


# Errors and search latency under load, while the ingest runs.
during = ["search", "browse-api", "browse-html", "export", "mixed-search", "mixed-browse-api", "mixed-browse-html", "mixed-export",
          "searchers", "paced-search", "paced-browse-api", "paced-browse-html", "paced-export"]
for name in during:
    d = load(name)
    if d:
        verdict(non2xx(d) == 0 and sock(d) == 0, f"zero errors: {name} (during ingest)",
                f"{d['requests']:,} requests, non-2xx {non2xx(d)}, socket errors {sock(d)}" + (f" ({statuses(d)})" if non2xx(d) else "")
                + f" [{d.get('server', '?')}]")
for name, label in (("search", f"search p99 < 100 ms, {meta['connections']} users searching back to back, limits off, during ingest"),
                    ("mixed-search", f"search p99 < 100 ms, mixed {meta['connections']} users back to back (search share), limits off, during ingest"),
                    ("searchers", f"search p99 < 100 ms, {meta['connections']} users searching with think time, defaults, during ingest"),
                    ("paced-search", f"search p99 < 100 ms, mixed {meta['connections']} users with think time (search share), defaults, during ingest")):
    d = load(name)
    if d:
        verdict(d["p99_ms"] < 100, label, f"p99 {d['p99_ms']:.1f} ms (p50 {d['p50_ms']:.1f}, max {d['max_ms']:.0f}) at {rps(d):.0f} req/s")
ing = load("ingest")
if ing:
    runs = ing["runs"]
    bad = [r for r in runs if r["rc"] != 0]
    added = sum(r["added"] for r in runs)
    span = (max(r["t_end"] for r in runs) - min(r["t_start"] for r in runs)) if runs else 0
    verdict(not bad and added > 0, "the concurrent ingest completes",
            f"{len(runs)} exports, {added:,} messages in {span:.0f} s ({added / span if span else 0:,.0f} msg/s)"
            + (f"; FAILED: " + "; ".join(f"#{r['i']} exit {r['rc']}: {' / '.join(r['stderr_tail'])[:300]}" for r in bad) if bad else ""))
floor, s_idle, s_ing = load("floor"), load("search-idle"), load("search")
if floor and s_idle:
    print()
    print(f"Floor ratio: GET /health {rps(floor):.0f} req/s, p99 {floor['p99_ms']:.1f} ms; search without ingest "
          f"{rps(s_idle):.0f} req/s ({rps(s_idle) / rps(floor):.3f}× the floor), p99 {s_idle['p99_ms']:.1f} ms "
          f"({s_idle['p99_ms'] / max(floor['p99_ms'], 0.001):.1f}× the floor's)"
          + (f"; during ingest {rps(s_ing):.0f} req/s, p99 {s_ing['p99_ms']:.1f} ms" if s_ing else ""))

# Hostile clients: the normal clients against their baseline.
base = load("normal")


def starved(d):
    """Why the normal clients beside an attack fared worse than the baseline, or None."""
    why = []
    if non2xx(d) or sock(d):
        why.append(f"{non2xx(d)} non-2xx, {sock(d)} socket errors")
    if rps(d) < 0.5 * rps(base):
        why.append(f"throughput {rps(d):.0f} req/s vs {rps(base):.0f}")
    if d["p99_ms"] > max(2 * base["p99_ms"], base["p99_ms"] + 50):
        why.append(f"p99 {d['p99_ms']:.0f} ms vs {base['p99_ms']:.0f}")
    return "; ".join(why) or None


if base:
    sl = load("slowloris")
    a = attack_result("slowloris")
    if sl and a:
        why = starved(sl)
        verdict(why is None, f"{meta['slowloris']} slowloris connections do not starve others",
                why or f"p99 {sl['p99_ms']:.1f} ms vs {base['p99_ms']:.1f}, {rps(sl):.0f} vs {rps(base):.0f} req/s, no errors")
        verdict(a["never_closed"] == 0, "slow headers are timed out",
                f"{a['opened']} of {a['connections']} slots connected ({a['connects']:,} connects in all, failures {a['connect_errors'] or 'none'});"
                f" first close by the server: {when(a['first_close_after'])}; {a['never_closed']} never closed in {a['duration_s']:.0f} s"
                f" of a byte every {a['interval_s']:.0f} s; answers {a['answers'] or 'none'}")
    hf = load("huge-fast")
    a = attack_result("huge-fast")
    if hf and a:
        why = starved(hf)
        verdict(why is None, f"fast {meta['huge_mb']} MB bodies do not starve others",
                why or f"p99 {hf['p99_ms']:.1f} ms vs {base['p99_ms']:.1f}, {rps(hf):.0f} vs {rps(base):.0f} req/s, no errors;"
                       f" server RSS max {max_rss_mb(a['t_start'], a['t_end']):.0f} MB")
        for target, r in a["targets"].items():
            before = r["sent_before_answer"]
            desc = (f"answered {r['status']} after {before / 1e6:,.1f} MB sent ({r['answer_after_s']} s)" if r["status"] is not None
                    else "no answer") + f"; {r['outcome']}; {r['sent'] / 1e6:,.0f} MB sent in {r['seconds']} s"
            if target.startswith("ingest (officer"):
                # The upload limit (--max-upload-mb, 4096 by default) is the designed bound here.
                ok = r["status"] is not None and 400 <= r["status"] < 500
                verdict(ok, f"huge body, {target}: refused with a 4xx (body ≤ --max-upload-mb is read by design)", desc)
            else:
                ok = (r["status"] is not None and 400 <= r["status"] < 500 and before is not None and before < 64e6
                      and "still read" not in (r["outcome"] or ""))
                verdict(ok, f"huge body, {target}: refused early (< 64 MB read), not drained", desc)
    hs = load("huge-slow")
    a = attack_result("huge-slow")
    if hs and a:
        why = starved(hs)
        verdict(why is None, f"{4 * meta['slow_bodies']} slow bodies do not starve others",
                why or f"p99 {hs['p99_ms']:.1f} ms vs {base['p99_ms']:.1f}, {rps(hs):.0f} vs {rps(base):.0f} req/s, no errors")
        for target, r in a["targets"].items():
            verdict(r["still_open_at_end"] == 0, f"slow body, {target}: timed out",
                    f"{r['opened']} opened; answered {r['answer_statuses'] or ''}: {when(r['answer_after'])}; closed by the server:"
                    f" {when(r['close_after'])}; {r['still_open_at_end']} still open after {a['duration_s']:.0f} s at {a['rate']}")

    fl = load("slowloris-flood")
    a = attack_result("slowloris-flood")
    if fl and a:
        why = starved(fl)
        verdict(why is None, f"{a['connections']:,} slowloris slots (the server's open-file limit is {meta['server_nofile']}) do not starve others",
                (why or f"p99 {fl['p99_ms']:.1f} ms vs {base['p99_ms']:.1f}, {rps(fl):.0f} vs {rps(base):.0f} req/s, no errors")
                + f"; normal clients: {fl['requests']:,} requests, socket errors {fl['errors']}, statuses {statuses(fl) or '-'};"
                  f" attacker: {a['opened']:,} slots connected, {a['connects']:,} connects, failures {a['connect_errors'] or 'none'},"
                  f" {a['closed_by_server']:,} closed by the server (first closes: {when(a['first_close_after'])});"
                  f" server open files max {max_fds(a['t_start'], a['t_end']):,}; the attacker used {a.get('attacker_cpu_s', '?')} CPU s")
    for name in ("slowloris", "huge-fast", "huge-slow", "slowloris-flood"):
        h = load(f"{name}.health")
        if h:
            verdict(h["status"] == 200, f"GET /health answers after {name}", f"{h['status']} in {h['seconds']} s")

rl, other = load("ratelimit-hammer"), load("ratelimit-other")
if rl and other:
    limited = rl["statuses"].get("429", 0)
    verdict(limited > 0 and other["statuses"].get("429", 0) == 0, "per-user rate limit on an expensive endpoint",
            f"user 1 (10 connections): {rl['requests']:,} requests at {rps(rl):.1f} req/s, statuses {statuses(rl)}, p99 {rl['p99_ms']:.0f} ms;"
            f" user 2 ({other['rate']:g}/s): statuses {other['statuses']}, p50 {other['p50_ms']:.0f} ms, p99 {other['p99_ms']:.0f} ms")

# The server's own view: per route, the time it logged for each request (queueing inside the
# server included, the network and wrk excluded), per scenario window (the log has whole seconds).
import calendar
import math
import re
import time as _time

reqs = []        # (epoch second, method route, ms, status)
for f in sorted(os.listdir(res)):
    if f.startswith("server-") and f.endswith(".log"):
        for line in open(f"{res}/{f}", errors="replace"):
            m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\+0000 .* ms=([\d.]+) .*\] (GET|POST|PUT|PATCH|DELETE|HEAD) (\S+) (\d{3})$", line)
            if m:
                t = calendar.timegm(_time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
                route = re.sub(r"/\d+(?=/|$)", "/{id}", m.group(4))
                reqs.append((t, f"{m.group(3)} {route}", float(m.group(2)), m.group(5)))


def nearest_rank(xs, p):
    xs = sorted(xs)
    return xs[max(1, math.ceil(p / 100 * len(xs))) - 1]


print()
print("Server-side time per route (ms, from the server's log: p50 / p99 / max, count), per scenario (requests a")
print("scenario left queued finish in the next one: the server goes on with a request whose client has gone):")
groups = [("floor", ["floor"]), ("search-idle", ["search-idle"]), ("mixed-idle", ["mixed-idle-search"]), ("search", ["search"]),
          ("browse-api", ["browse-api"]), ("browse-html", ["browse-html"]), ("export", ["export"]), ("mixed", ["mixed-search"]),
          ("searchers", ["searchers"]), ("paced", ["paced-search"]), ("normal", ["normal"])]
for label, names in groups:
    d = load(names[0])
    if not d:
        continue
    lo, hi = math.ceil(d["t_start"]), math.floor(d["t_end"])      # whole seconds inside the scenario
    by = {}
    for t, route, ms, status in reqs:
        if lo <= t <= hi:
            by.setdefault(route, []).append(ms)
    cells = [f"{route} {nearest_rank(v, 50):.0f}/{nearest_rank(v, 99):.0f}/{max(v):.0f} ({len(v)})"
             for route, v in sorted(by.items(), key=lambda kv: -len(kv[1]))]
    print(f"  {label:<12} " + "; ".join(cells))

print()
print("Unloaded cost (one client, idle server, before the ingest; the first 40 requests of each list):")
for kind in ("search", "browse_api", "browse_html", "export"):
    pr = load(f"profile-{kind}")
    if pr:
        slow = "; ".join(f"{r['path'][:90]} {r['ms']:.0f} ms" for r in pr["slowest"][:3])
        print(f"  {kind:<12} p50 {pr['p50_ms']:.0f} ms, max {pr['max_ms']:.0f} ms; slowest: {slow}")

crashes = [json.load(open(f"{res}/{f}")) for f in sorted(os.listdir(res)) if f.startswith("crash-")]
phases = [r for r in rows if load(r)] + ["ratelimit"]
for c in crashes:
    verdict(False, f"the server survives {c['phase']}",
            f"it died: exit status {c['exit_status']}" + (f" ({c['signal_name']})" if c["signal_name"] else "")
            + f", last logged at {c.get('last_logged')}; its last words: " + " | ".join(l[:160] for l in c["log_tail"][-2:]))
if not crashes:
    verdict(True, "the server survives every phase", "no crash")

print()
print("Targets (issue 17, item 4):")
for ok, target, detail in results:
    print(f"  {'OK  ' if ok else 'MISS'}  {target}: {detail}")
print()
# What the server logged: answers other than 2xx/3xx by method, route and status; failures.
counts, failures, lines = {}, {}, 0
for line in (l for f in sorted(os.listdir(res)) if f.startswith("server-") and f.endswith(".log")
             for l in open(f"{res}/{f}", errors="replace")):
    lines += 1
    parts = line.split()
    if len(parts) >= 3 and parts[-1].isdigit() and len(parts[-1]) == 3 and parts[-3] in ("GET", "POST", "HEAD", "PUT", "PATCH", "DELETE"):
        if parts[-1][0] in "45":
            k = " ".join(parts[-3:])
            counts[k] = counts.get(k, 0) + 1
    elif "request failed" in line:
        err = next((p.split("=", 1)[1] for p in parts if p.startswith("error=")), "?")
        failures[err] = failures.get(err, 0) + 1
print(f"Server log: {lines:,} lines. 4xx/5xx answers: " + (", ".join(f"{k} ×{v}" for k, v in sorted(counts.items())) or "none")
      + ". Failed requests: " + (", ".join(f"{k} ×{v}" for k, v in sorted(failures.items())) or "none") + ".")
print(f"Results in {res}")
