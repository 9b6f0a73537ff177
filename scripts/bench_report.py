"""The summary table of scripts/bench.sh, from the JSON files it leaves in RESULTS_DIR.

Usage: python3 bench_report.py RESULTS_DIR
Prints to stdout; exits 0 whatever the verdicts (a missed target is a MISS, not a failure).
"""
import json
import os
import sys

RES = sys.argv[1]
LINE = "─" * 100
# The sizes' message counts, for labels ("10m" → "10M").
LABEL = {"100k": "100k", "1m": "1M", "10m": "10M"}


def load(name):
    path = os.path.join(RES, name)
    return json.load(open(path)) if os.path.exists(path) else None


meta = load("meta.json")
sizes = meta["sizes"].split()
floor = load("floor.json")
ssl = load("openssl.json")
S = {}
for s in sizes:
    d = {k: load(f"{s}.{k}.json") for k in ("export", "whatstk", "capture", "search", "search_api", "verify", "verify_floor", "e2e")}
    d.update({f"{k}_t": load(f"{s}.{k}.time.json") for k in ("whatstk", "capture", "catchup", "e2e")})
    wk = d["whatstk"]
    d["wk_rate"] = wk["msg_per_s"] if wk and "msg_per_s" in wk else None
    d["cap_rate"] = d["capture"]["messages"] / d["capture_t"]["wall"]
    d["searchable"] = d["capture_t"]["wall"] + d["catchup_t"]["wall"]
    d["e2e_rate"] = d["e2e"]["messages"] / d["e2e_t"]["wall"] if d["e2e"] else None
    S[s] = d


def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def ratio(a, b):
    return None if a is None or b is None else a / b


def fx(x, fmt="{:.2f}×"):
    return "—" if x is None else fmt.format(x)


def load_pair(t):
    return f"{t['load_start'].split()[0]}→{t['load_end'].split()[0]}" if t else "—"


print()
print(LINE)
print("recordkeeper benchmark")
print(f"  date     {meta['date']}      commit {meta['commit']}      sizes {' '.join(LABEL[s] for s in sizes)}")
print(f"  machine  {meta['cpus']} CPUs, {meta['model']}   (load avg at end: {meta['load_end']})")
print(f"  baseline {meta['baseline_versions']}")
print(f"  sqlite   recordkeeper: {meta['rk_sqlite']}; floor: {floor['sqlite_version']} via {floor['driver']}")
print(f"  openssl  {meta['openssl_version']}")
print("  load     1-min load average at the start→end of each measurement (2 CPUs: above ~0.5 someone else is busy)")
print(LINE)
print("Capture: ingest --no-wait-index into a fresh archive (androidTxt; wall time of the whole process)")
print(f"  {'size':<5} {'export MB':>9} {'whatstk msg/s':>13} {'wk RSS MB':>9} {'wk load':>11} │ {'messages':>10} {'capture s':>9} "
      f"{'msg/s':>8} {'×whatstk':>8} {'RSS MB':>7} {'load':>11}")
for s in sizes:
    d = S[s]
    wk = d["whatstk"]
    wk_rate = f"{d['wk_rate']:,.0f}" if d["wk_rate"] else "skipped"
    wk_rss = f"{d['whatstk_t']['rss_mb']:,.0f}" if d["whatstk_t"] else "—"
    print(f"  {LABEL[s]:<5} {d['export']['bytes'] / 1e6:>9.1f} {wk_rate:>13} {wk_rss:>9} {load_pair(d['whatstk_t']):>11} │ "
          f"{d['capture']['messages']:>10,} {d['capture_t']['wall']:>9.2f} {d['cap_rate']:>8,.0f} "
          f"{fx(ratio(d['cap_rate'], d['wk_rate'])):>8} {d['capture_t']['rss_mb']:>7.1f} {load_pair(d['capture_t']):>11}")
    if wk and "skipped" in wk:
        print(f"        whatstk skipped: {wk['skipped']}")
print(LINE)
print("Fully searchable: capture + index catch-up (same archive), vs. old-style ingest (waits for the index, fresh archive)")
print(f"  {'size':<5} {'capture s':>9} {'catch-up s':>10} {'searchable s':>12} {'ratio':>6} {'c-u RSS':>7} {'c-u load':>11} │ "
      f"{'ingest s':>8} {'msg/s':>8} {'×whatstk':>8} {'RSS MB':>7} {'load':>11}")
for s in sizes:
    d = S[s]
    r = d["searchable"] / d["capture_t"]["wall"]
    e2e = (f"{d['e2e_t']['wall']:>8.2f} {d['e2e_rate']:>8,.0f} {fx(ratio(d['e2e_rate'], d['wk_rate'])):>8} "
           f"{d['e2e_t']['rss_mb']:>7.1f} {load_pair(d['e2e_t']):>11}") if d["e2e"] else "skipped (BENCH_SKIP_E2E)"
    print(f"  {LABEL[s]:<5} {d['capture_t']['wall']:>9.2f} {d['catchup_t']['wall']:>10.2f} {d['searchable']:>12.2f} "
          f"{r:>5.2f}× {d['catchup_t']['rss_mb']:>7.1f} {load_pair(d['catchup_t']):>11} │ {e2e}")
    c = d["capture"]
    print(f"        not yet searchable after capture: {c['pending_after_capture']:,}; catch-up indexed {c['indexed']:,} "
          f"({c['indexed'] / d['catchup_t']['wall']:,.0f} msg/s); after catch-up: {c['pending_after_catchup']}")
print(LINE)
fv = floor["variants"]
print(f"SQLite engine floor: {floor['rows']:,} bare inserts, {floor['txn_rows']:,} rows/txn, WAL, synchronous=FULL, cache 64 MiB, "
      f"body {floor['mean_body_bytes']:.0f} B avg + 4 integer columns")
print(f"  ({floor['driver']}; {floor['key']}; load {floor['load_start'].split()[0]}→{floor['load_end'].split()[0]})")
desc = {"plain": "rowid table only", "unique": "+ UNIQUE 32-byte key (64 hex chars)",
        "message": "+ UNIQUE int search key + (conv, sent_local, id) index (info)"}
print(f"  {'variant':<8} {'what':<58} {'rows/s':>9}  " + "  ".join(f"{'capture ' + LABEL[s]:>12}" for s in sizes))
for v in ("plain", "unique", "message"):
    print(f"  {v:<8} {desc[v]:<58} {fv[v]['rows_per_s']:>9,.0f}  "
          + "  ".join(f"{S[s]['cap_rate'] / fv[v]['rows_per_s']:>11.0%} " for s in sizes))
print(LINE)
print("Search (capture + catch-up archive; 18 queries, 1 warm-up + N timed runs each, top 20)")
print("  API: a running `serve`, one keep-alive connection, client wall time per request (HTTP, JSON and audit entry included)")
print("  CLI: elapsed_ms reported by a fresh `recordkeeper search` process per query (cold page cache)")
print(f"  {'size':<5} {'via':<3} {'runs':>4} │ {'newest-first p50':>16} {'p99':>8} {'max':>8} │ {'relevance p50':>13} {'p99':>9} {'max':>9} │ {'load':>11}")
for s in sizes:
    for via, key in (("API", "search_api"), ("CLI", "search")):
        st = S[s][key]
        o, r = st["orders"]["date"], st["orders"]["relevance"]
        print(f"  {LABEL[s]:<5} {via:<3} {st['runs']:>4} │ {o['p50']:>13.2f} ms {o['p99']:>8.2f} {o['max']:>8.2f} │ "
              f"{r['p50']:>10.2f} ms {r['p99']:>9.2f} {r['max']:>9.2f} │ {load_pair(st):>11}")
big = sizes[-1]
st, sa = S[big]["search"], S[big]["search_api"]
print(f"  per query at {LABEL[big]} (p50 / max, ms):")
print(f"    {'query':<44} {'total':>9}  {'API newest':>10} {'max':>7} {'API relev.':>10} {'max':>7}  {'CLI newest':>10} {'CLI relev.':>10}")
for o, r, ao, ar in zip(st["orders"]["date"]["rows"], st["orders"]["relevance"]["rows"],
                        sa["orders"]["date"]["rows"], sa["orders"]["relevance"]["rows"]):
    print(f"    {o['query']:<44} {o['total']:>9,}  {ao['p50']:>10.2f} {ao['max']:>7.2f} {ar['p50']:>10.2f} {ar['max']:>7.2f}  "
          f"{o['p50']:>10.2f} {r['p50']:>10.2f}")
print(f"  process wall time per CLI search (spawn + open + search), p50 at {LABEL[big]}: "
      f"newest-first {st['orders']['date']['wall_p50']:.1f} ms, relevance {st['orders']['relevance']['wall_p50']:.1f} ms")
print(LINE)
print(f"Verify vs. openssl speed -evp sha256 (16384-byte blocks): one core (pinned {ssl['pin']}) {ssl['single_mbs']:,.1f} MB/s; "
      f"-multi {ssl['multi_procs']} {ssl['multi_mbs']:,.1f} MB/s  (load {load_pair(ssl)})")
print(f"  {'size':<5} {'messages':>10} {'MB hashed':>9} {'seconds':>8} {'MB/s':>7} {'msg/s':>8} {'ok':>5} │ "
      f"{'×openssl 1 core':>15} {'×openssl -multi':>15} │ {'read floor s':>12} {'floor MB/s':>10} {'floor×ssl':>9} │ {'load':>11}")
for s in sizes:
    v = S[s]["verify"]
    mbs = v["bytes_hashed"] / v["seconds"] / 1e6
    S[s]["verify_mbs"] = mbs
    fl = S[s].get("verify_floor") or {}
    fmbs = v["bytes_hashed"] / fl["seconds"] / 1e6 if fl.get("seconds") else None
    S[s]["verify_floor_mbs"] = fmbs
    print(f"  {LABEL[s]:<5} {v['messages_checked']:>10,} {v['bytes_hashed'] / 1e6:>9.1f} {v['seconds']:>8.2f} {mbs:>7.1f} "
          f"{v['messages_checked'] / v['seconds']:>8,.0f} {str(v['ok']):>5} │ {mbs / ssl['single_mbs']:>14.2f}× "
          f"{mbs / ssl['multi_mbs']:>14.2f}× │ {fl.get('seconds', float('nan')):>12.2f} {fmbs or float('nan'):>10.1f} "
          f"{(fmbs or float('nan')) / ssl['single_mbs']:>8.2f}× │ {load_pair(v):>11}")
print("  read floor: SQLite reading every hashed column of every message once, in C, one core, no hashing (scripts/bench_verify_floor.py);")
print("  floor MB/s = verify's bytes hashed ÷ that time: the rate a verify that only read its rows would reach.")
print(LINE)

# ── targets (issue 13) ───────────────────────────────────────────────────────────────────────
rows = []
def target(name, value, ok):
    rows.append((name, value, ok))

for s, label in (("1m", "1M"), ("10m", "10M")):
    if s in S:
        r = ratio(S[s]["cap_rate"], S[s]["wk_rate"])
        target(f"capture ≥ 2× whatstk parse-only at {label}", fx(r) if r else "whatstk skipped", None if r is None else r >= 2)
    else:
        target(f"capture ≥ 2× whatstk parse-only at {label}", f"{s} not run", None)
if "1m" in S and "10m" in S:
    r = S["10m"]["cap_rate"] / S["1m"]["cap_rate"]
    target("capture rate at 10M ≥ 80% of 1M", f"{r:.0%}", r >= 0.8)
else:
    target("capture rate at 10M ≥ 80% of 1M", "10m not run", None)
for s in sizes:
    r = S[s]["searchable"] / S[s]["capture_t"]["wall"]
    target(f"fully searchable ≤ 2× capture time at {LABEL[s]}", f"{r:.2f}×", r <= 2)
for s in [x for x in ("1m", "10m") if x in S] or sizes[-1:]:
    note = "" if s == "10m" else " (target is at 10M)"
    for order, name in (("date", "newest-first"), ("relevance", "relevance")):
        p99 = S[s]["search_api"]["orders"][order]["p99"]
        cli = S[s]["search"]["orders"][order]["p99"]
        target(f"search p99 < 50 ms (API), {name}, at {LABEL[s]}{note}", f"{p99:.2f} ms (CLI {cli:.1f})", p99 < 50)
if "10m" not in S:
    target("search p99 < 50 ms at 10M", "10m not run", None)
r = S[big]["verify_mbs"] / ssl["single_mbs"]
target(f"verify ≥ 0.5× openssl single-core (at {LABEL[big]})", f"{r:.2f}×", r >= 0.5)
for s in [x for x in ("1m", "10m") if x in S] or sizes[-1:]:
    rss = S[s]["capture_t"]["rss_mb"]
    note = "" if s == "10m" else " (target is at 10M)"
    target(f"peak RSS of capture < 300 MB at {LABEL[s]}{note}", f"{rss:.1f} MB", rss < 300)
if "10m" not in S:
    target("peak RSS of capture < 300 MB at 10M", "10m not run", None)

print("Targets (issue 13)")
for name, value, ok in rows:
    print(f"  {verdict(ok):<5} {name:<66} {value:>16}")
print(LINE)

# ── PostgreSQL (issue 14), when the run measured it (BENCH_POSTGRES=1) ──────────────────────────
pg = {s: {w: load(f"{s}.pg{w}.json") for w in (1, 2)} for s in sizes}
if any(v[1] for v in pg.values()):
    print("PostgreSQL capture (ingest --no-wait-index, blobs in a local directory; N workers = N ingest processes at once,")
    print("the same export for N custodians) against whatstk's parse-only rate in the same run")
    print(f"  {'size':<5} {'workers':>7} {'messages':>10} {'wall s':>8} {'msg/s':>9} {'×whatstk':>8} {'×SQLite':>8} {'catch-up s':>10} {'bytes/msg':>9} "
          f"{'client µs':>9} {'server µs':>9} {'load':>16}")
    for s in sizes:
        for w in (1, 2):
            d = pg[s][w]
            if not d:
                continue
            rate = d["messages"] / d["wall"]
            cu = load(f"{s}.pg{w}.catchup.time.json")
            print(f"  {LABEL[s]:<5} {w:>7} {d['messages']:>10,} {d['wall']:>8.2f} {rate:>9,.0f} {fx(ratio(rate, S[s]['wk_rate'])):>8} "
                  f"{fx(ratio(rate, S[s]['cap_rate'])):>8} {cu['wall'] if cu else float('nan'):>10.2f} {d['db_bytes'] / d['messages']:>9,.0f} "
                  f"{1e6 * d.get('client_cpu', float('nan')) / d['messages']:>9.1f} {1e6 * d.get('server_cpu', float('nan')) / d['messages']:>9.1f} "
                  f"{d['load_start'] + ' → ' + d['load_end']:>16}")
    cpus = [(d["client_cpu"], d["server_cpu"], d["messages"]) for v in pg.values() for d in v.values()
            if d and d.get("server_cpu") == d.get("server_cpu") and d.get("server_cpu")]
    if cpus:
        c = sum(x[0] for x in cpus) / sum(x[2] for x in cpus)
        srv = sum(x[1] for x in cpus) / sum(x[2] for x in cpus)
        wk = max((S[s]["wk_rate"] for s in sizes if S[s].get("wk_rate")), default=float("nan"))
        print(f"  CPU per message (all runs above): workers {1e6 * c:.1f} µs, database server {1e6 * srv:.1f} µs. On this machine workers and")
        print(f"  server share {os.cpu_count()} cores, so capture is bounded by {os.cpu_count() / (c + srv):,.0f} msg/s whatever the workers. With workers on")
        print(f"  their own machines each adds {1 / c:,.0f} msg/s until the server's cores are busy: {1 / srv:,.0f} msg/s per server core")
        print(f"  ({fx(ratio(1 / srv, wk))} whatstk's fastest rate in this run; 2× that needs {2 * wk * srv:.1f} server cores).")
    server = next((d["server"] for v in pg.values() for d in v.values() if d), "?")
    print(f"  PostgreSQL {server}; target (issue 14): ≥ 2× whatstk with two workers")
    print("PostgreSQL search through the API of a warm server (same queries as on SQLite), and migrate of the SQLite archive")
    print(f"  {'size':<5} {'when':<22} {'order':<10} {'p50 ms':>8} {'p99 ms':>8} {'SQLite p99':>10} {'n':>5}")
    for s in sizes:
        lite = load(f"{s}.search_api.json")
        for when, name in (("right after catch-up", f"{s}.pg.search_api.json"), ("after VACUUM (ANALYZE)", f"{s}.pg.search_api_vacuumed.json")):
            d = load(name)
            for order in (d or {}).get("orders", {}):
                o = d["orders"][order]
                lp = ((lite or {}).get("orders", {}).get(order) or {}).get("p99", float("nan"))
                print(f"  {LABEL[s]:<5} {when:<22} {order:<10} {o['p50']:>8.1f} {o['p99']:>8.1f} {lp:>10.1f} {o['n']:>5}")
            if d and "vacuum_seconds" in d:
                print(f"  {LABEL[s]:<5} VACUUM (ANALYZE) of the database took {d['vacuum_seconds']:.1f} s")
    print("  target (issue 14): search p99 < 50 ms at 10M on PostgreSQL")
    for s in sizes:
        t = load(f"{s}.pg.migrate.time.json")
        m = load(f"{s}.pg.migrate.json")
        if t and m:
            rows_ = sum(x["target_rows"] for x in m["tables"])
            msgs = next((x["target_rows"] for x in m["tables"] if x["table"] == "message"), 0)
            print(f"  migrate {LABEL[s]}: {msgs:,} messages ({rows_:,} rows, {m['indexed']:,} indexed) in {t['wall']:.1f} s "
                  f"= {msgs / t['wall']:,.0f} msg/s end to end (verify both sides, copy, index, compare)")
    print(LINE)
