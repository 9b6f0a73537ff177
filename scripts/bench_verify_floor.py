"""The storage engine's floor for `verify` (used by scripts/bench.sh).

Usage: python3 bench_verify_floor.py ARCHIVE.sqlite

`verify` recomputes every message's content hash from its stored fields, so it must at least
read every field it hashes out of SQLite once. This measures that alone, in SQLite's own C code on
one core, with no hashing and no serialising: one `SELECT sum(length(...))` over the 19 hashed
columns of every message row (plus id and content_hash, which verify also reads), with the
archive's cache size, after one warm-up pass so the file is in the OS page cache as it is for
verify. Divide verify's "bytes hashed" by this time for the rate a verify that did nothing but
read its rows would reach; compare that with openssl's single-core SHA-256 to see whether the
0.5× target is reachable on this storage at all.

Prints one JSON object: sqlite version, messages, column bytes, best-of-2 seconds.
"""
import json
import sqlite3
import sys
import time

COLUMNS = ("identity_key platform conversation_key source_ordinal dup_ordinal sent_local time_zone sent_at captured_at "
           "sender sender_raw body raw kind flags source_hash source_member source_line line_count id content_hash").split()

db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
db.execute("PRAGMA cache_size = -65536")
expr = " + ".join(f"coalesce(length(CAST({c} AS BLOB)), 0)" for c in COLUMNS)
sql = f"SELECT count(*), sum({expr}) FROM message"
db.execute(sql).fetchone()                      # warm-up: the OS page cache, as verify finds it
best = None
for _ in range(2):
    t0 = time.perf_counter()
    messages, column_bytes = db.execute(sql).fetchone()
    elapsed = time.perf_counter() - t0
    best = elapsed if best is None else min(best, elapsed)
print(json.dumps({"sqlite": sqlite3.sqlite_version, "messages": messages, "column_bytes": column_bytes or 0,
                  "seconds": best}))
