#!/usr/bin/env python3
"""Helpers for scripts/load.sh: request lists for wrk, and browser sessions.

  load_setup.py paths URL TOKEN BENCH_SH OUT_DIR SEED
      Writes OUT_DIR/{search,browse_api,browse_html,export,floor,expensive}.paths: GET paths
      built from what the archive holds (its conversations, message ids sampled from their
      transcripts, their date range) and from the query set of scripts/bench.sh (its QUERIES
      array, read from the file so that both measure the same searches). Deterministic for a
      seed and an archive.
  load_setup.py profile URL bearer|cookie SECRET PATHS_FILE N OUT_FILE
      GETs the first N paths of PATHS_FILE one after another (one client, one connection) and
      writes their median, maximum and slowest six: what each costs when nothing else runs.
  load_setup.py login URL CREDENTIALS_TSV OUT_FILE
      Signs every user of CREDENTIALS_TSV (name<TAB>password<TAB>token per line) in through
      POST /login and writes one rk_session value per line, in the same order.
"""
import datetime
import http.client
import json
import random
import re
import sys
import time
import urllib.parse

FLAGS = {"--from": "from", "--to": "to", "--custodian": "custodian", "--participant": "participant",
         "--conversation": "conversation", "--platform": "platform"}


def connect(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)


def get_json(conn, path, token):
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        sys.exit(f"GET {path}: HTTP {resp.status}: {body[:300]!r}")
    return json.loads(body)


def bench_queries(bench_sh):
    """The QUERIES=( … ) array of scripts/bench.sh: one single-quoted entry per line."""
    text = open(bench_sh).read()
    m = re.search(r"^QUERIES=\(\n(.*?)^\)", text, re.S | re.M)
    if not m:
        sys.exit(f"no QUERIES=( … ) array in {bench_sh}")
    queries = [q for q in re.findall(r"^\s*'([^']*)'", m.group(1), re.M)]
    if len(queries) < 5:
        sys.exit(f"read only {len(queries)} queries from {bench_sh}")
    return [q.split("|") for q in queries]


def search_params(parts):
    params = {"q": parts[0]}
    for flag, value in zip(parts[1::2], parts[2::2]):
        params[FLAGS[flag]] = value
    return params


def paths(url, token, bench_sh, out_dir, seed):
    rnd = random.Random(seed)
    conn = connect(url)
    convs = get_json(conn, "/api/v1/conversations", token)["conversations"]
    convs = [c for c in convs if c.get("message_count", 0) > 0]
    if not convs:
        sys.exit("the archive has no conversations")
    # Message ids sampled from the transcripts (offsets spread over each conversation).
    ids = []
    for c in convs:
        for _ in range(max(20, 200 // len(convs))):
            off = rnd.randrange(c["message_count"])
            page = get_json(conn, f"/api/v1/conversations/{c['id']}/messages?offset={off}&limit=1", token)
            ids += [m["id"] for m in page["messages"]]
    if not ids:
        sys.exit("could not sample any message ids")
    day = lambda s: datetime.date.fromisoformat(s[:10])
    first = min(day(c["first_sent"]) for c in convs if c.get("first_sent"))
    last = max(day(c["last_sent"]) for c in convs if c.get("last_sent"))
    custodians = sorted({c["custodian_email"] for c in convs})
    queries = bench_queries(bench_sh)
    q = lambda params: urllib.parse.urlencode(params)

    def conv():
        return rnd.choice(convs)

    def week():
        start = first + datetime.timedelta(days=rnd.randrange(max(1, (last - first).days - 6)))
        return start.isoformat(), (start + datetime.timedelta(days=6)).isoformat()

    out = {}
    # Search (JSON API): every bench query, both orders, the first three pages of 20.
    out["search"] = [f"/api/v1/search?{q(search_params(p) | {'sort': order, 'limit': 20, 'page': page})}"
                     for p in queries for order in ("date", "relevance") for page in (1, 2, 3)]
    # Browsing through the API: conversation list, transcript pages, records, participants.
    api = []
    for _ in range(400):
        r = rnd.random()
        c = conv()
        if r < 0.05:
            api.append("/api/v1/conversations")
        elif r < 0.10:
            api.append(f"/api/v1/conversations/{c['id']}/participants")
        elif r < 0.55:
            api.append(f"/api/v1/conversations/{c['id']}/messages?offset={rnd.randrange(c['message_count'])}&limit=200")
        else:
            api.append(f"/api/v1/messages/{rnd.choice(ids)}")
    out["browse_api"] = api
    # Browsing the HTML pages (session cookie): search page, conversations, a transcript page,
    # a transcript opened at a message (as a search hit links it), a record's page.
    html = []
    for _ in range(400):
        r = rnd.random()
        c = conv()
        if r < 0.15:
            html.append(f"/search?{q(search_params(rnd.choice(queries)))}")
        elif r < 0.20:
            html.append("/conversations")
        elif r < 0.45:
            html.append(f"/conversations/{c['id']}?page={rnd.randrange(1, c['message_count'] // 100 + 2)}")
        elif r < 0.65:
            html.append(f"/conversations/{c['id']}?at={rnd.choice(ids)}")
        else:
            html.append(f"/messages/{rnd.choice(ids)}")
    out["browse_html"] = html
    # Exports: what an eDiscovery script pulls in bulk through the API (there is no export
    # endpoint for reviewers: transfer packages and certificates belong to records officers).
    # Whole transcript pages of 1,000, a week of a custodian's records collected by filters
    # (200 a page), and full pages of 200 search hits.
    exp = []
    for _ in range(300):
        r = rnd.random()
        c = conv()
        if r < 0.4:
            exp.append(f"/api/v1/conversations/{c['id']}/messages?offset={rnd.randrange(c['message_count'])}&limit=1000")
        elif r < 0.7:
            f, t = week()
            exp.append(f"/api/v1/search?{q({'custodian': rnd.choice(custodians), 'from': f, 'to': t, 'limit': 200, 'page': rnd.randrange(1, 4)})}")
        else:
            exp.append(f"/api/v1/search?{q(search_params(rnd.choice(queries)) | {'limit': 200, 'page': rnd.randrange(1, 4)})}")
    out["export"] = exp
    # The HTTP floor: the cheapest route (no sign-in; it asks the record store one question).
    out["floor"] = ["/health"]
    # One expensive request for the rate-limit probe: a broad prefix ranked by relevance, a full page.
    out["expensive"] = [f"/api/v1/search?{q({'q': 'sec*', 'sort': 'relevance', 'limit': 200})}"]
    for name, lst in out.items():
        with open(f"{out_dir}/{name}.paths", "w") as f:
            f.write("\n".join(lst) + "\n")
    print(json.dumps({"conversations": len(convs), "sampled_ids": len(ids), "first": str(first), "last": str(last),
                      "queries": len(queries)} | {k: len(v) for k, v in out.items()}))


def login(url, creds_tsv, out_file):
    sessions = []
    for line in open(creds_tsv):
        if not line.strip():
            continue
        name, password = line.rstrip("\n").split("\t")[:2]
        conn = connect(url)
        body = urllib.parse.urlencode({"username": name, "password": password})
        conn.request("POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        resp.read()
        cookie = None
        for k, v in resp.getheaders():
            if k.lower() == "set-cookie" and v.startswith("rk_session="):
                cookie = v.split(";", 1)[0].split("=", 1)[1]
        if resp.status not in (302, 303) or not cookie:
            sys.exit(f"sign-in of {name} failed: HTTP {resp.status}")
        sessions.append(cookie)
        conn.close()
    with open(out_file, "w") as f:
        f.write("\n".join(sessions) + "\n")
    print(len(sessions))


def profile(url, auth, secret, paths_file, n, out_file):
    """GET the first n paths of a list one at a time on an idle server: the unloaded cost of each."""
    conn = connect(url)
    headers = {"Authorization": f"Bearer {secret}"} if auth == "bearer" else {"Cookie": f"rk_session={secret}"}
    rows = []
    for path in [l.strip() for l in open(paths_file) if l.strip()][:n]:
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        rows.append({"path": path, "ms": round((time.perf_counter() - t0) * 1000, 1), "status": resp.status, "bytes": len(body)})
    ms = sorted(r["ms"] for r in rows)
    out = {"n": len(rows), "p50_ms": ms[len(ms) // 2], "max_ms": ms[-1], "sum_s": round(sum(ms) / 1000, 2),
           "slowest": sorted(rows, key=lambda r: -r["ms"])[:6]}
    json.dump(out, open(out_file, "w"))
    print(f"p50 {out['p50_ms']} ms, max {out['max_ms']} ms over {out['n']}")


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "paths" and len(sys.argv) == 7:
        paths(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif cmd == "profile" and len(sys.argv) == 8:
        profile(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]), sys.argv[7])
    elif cmd == "login" and len(sys.argv) == 5:
        login(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
