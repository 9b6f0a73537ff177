"""The SQLite engine floor for a target-list import (used by scripts/bench_custody.sh, P1).

Usage: python3 bench_custody_floor.py TARGETS.csv WORK_DIR

Reads the target CSV (before the clock starts), then inserts every row into a fresh database file
in ONE transaction, through Python's built-in sqlite3 (executemany, one prepared statement):
WAL, synchronous=FULL, cache_size=-65536 (the archive's pragmas), a table with the canonical
columns (times as integer milliseconds, as the archive keeps them) and
UNIQUE(s10, rule_code, rule_version), the dedupe key of an import. No validation, no hashing, no
audit entry: what SQLite alone costs for the same rows.

Prints one JSON object: sqlite version, rows, seconds (the insert and its commit), rows/s,
database bytes, and the parse time (csv module + ISO times, informational).
"""
import csv
import datetime as dt
import json
import os
import sqlite3
import sys
import time

SCHEMA = """
CREATE TABLE target (
  id INTEGER PRIMARY KEY, s10 TEXT NOT NULL, rule_code TEXT NOT NULL, rule_version INTEGER NOT NULL,
  reason_code TEXT NOT NULL, targeted_at INTEGER NOT NULL, targeted_by TEXT NOT NULL, expected_arrival_at INTEGER,
  priority INTEGER, origin_country TEXT, mail_class TEXT, declared_desc TEXT, hold_requested_at INTEGER,
  import_id INTEGER NOT NULL, line INTEGER NOT NULL,
  UNIQUE (s10, rule_code, rule_version))
"""


def ms(text):
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000) if text else None


def main():
    src, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    p0 = time.perf_counter()
    rows = []
    with open(src, newline="") as f:
        r = csv.reader(f)
        next(r)
        for line, x in enumerate(r, start=2):
            rows.append((x[0], x[1], int(x[2]), x[3], ms(x[4]), x[5], ms(x[6]), int(x[7]) if x[7] else None,
                         x[8] or None, x[9] or None, x[10] or None, ms(x[11]), 1, line))
    parse_s = time.perf_counter() - p0
    path = os.path.join(work, "floor.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA cache_size=-65536")
    db.executescript(SCHEMA)
    start = time.perf_counter()
    db.execute("BEGIN")
    db.executemany("INSERT INTO target (s10, rule_code, rule_version, reason_code, targeted_at, targeted_by, "
                   "expected_arrival_at, priority, origin_country, mail_class, declared_desc, hold_requested_at, "
                   "import_id, line) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    count = db.execute("SELECT count(*) FROM target").fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    size = os.path.getsize(path)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    if count != len(rows):
        sys.exit(f"inserted {count} rows, expected {len(rows)}")
    print(json.dumps({"sqlite_version": sqlite3.sqlite_version, "driver": f"python {sys.version.split()[0]} sqlite3 executemany",
                      "rows": len(rows), "seconds": elapsed, "rows_per_s": len(rows) / elapsed, "db_bytes": size,
                      "parse_seconds": parse_s}))


if __name__ == "__main__":
    main()
