"""The SQLite engine floor for capture (used by scripts/bench.sh).

Usage: python3 bench_sqlite_floor.py WORK_DIR [ROWS]      (ROWS default 1,000,000)

Bare inserts of message-like rows into a fresh database file, measured the way the archive
writes: WAL, synchronous=FULL, cache_size=-65536 (the archive's own pragmas), one transaction
per 10,000 rows, through Python's built-in sqlite3 module with executemany and a prepared
statement. The rows are generated before the clock starts, so the timed part is SQLite plus the
small per-row cost of executemany binding 6–7 Python values (no per-row Python code runs).

Each row: a body of 60–100 bytes of ASCII text (words from a fixed vocabulary), four integer
columns (conversation id, sent instant in ms, captured instant in ms, source line).

Variants (each into its own fresh file, in this order):
  plain   INTEGER PRIMARY KEY (rowid) table, no other index
  unique  the same plus identity_key TEXT NOT NULL UNIQUE: 32 random bytes as 64 lowercase hex
          characters, like the archive's message.identity_key
  message the "unique" table plus the archive's two other message indexes: search_key INTEGER
          NOT NULL UNIQUE (sent instant << 24 | 24 random bits) and an index on
          (conversation_id, sent_local TEXT, id); informational, not a target

Prints one JSON object: sqlite version, rows, per-variant seconds and rows/s, database bytes.
"""
import json
import os
import random
import sqlite3
import sys
import time

TXN_ROWS = 10_000

WORDS = (
    "lane vehicle inspection queue wait bridge lunch shift change port director evidence locker "
    "seizure turnstiles secondary primary officer cargo manifest truck trailer scan x-ray canine "
    "referral tecs sentri nexus pedestrian booth supervisor radio backup minutes hours traffic "
    "north south east west gate fence report log entry exit the a to of and in on for with at is "
    "are was be we you they it this that please copy thanks ok confirm send update status"
).split()

SCHEMAS = {
    "plain": (
        "CREATE TABLE message (id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL, "
        "sent_at INTEGER NOT NULL, captured_at INTEGER NOT NULL, source_line INTEGER NOT NULL, "
        "body TEXT NOT NULL)",
        "INSERT INTO message (conversation_id, sent_at, captured_at, source_line, body) VALUES (?, ?, ?, ?, ?)",
    ),
    "unique": (
        "CREATE TABLE message (id INTEGER PRIMARY KEY, identity_key TEXT NOT NULL UNIQUE, "
        "conversation_id INTEGER NOT NULL, sent_at INTEGER NOT NULL, captured_at INTEGER NOT NULL, "
        "source_line INTEGER NOT NULL, body TEXT NOT NULL)",
        "INSERT INTO message (identity_key, conversation_id, sent_at, captured_at, source_line, body) "
        "VALUES (?, ?, ?, ?, ?, ?)",
    ),
    "message": (
        "CREATE TABLE message (id INTEGER PRIMARY KEY, identity_key TEXT NOT NULL UNIQUE, "
        "conversation_id INTEGER NOT NULL, sent_local TEXT NOT NULL, sent_at INTEGER NOT NULL, "
        "captured_at INTEGER NOT NULL, source_line INTEGER NOT NULL, body TEXT NOT NULL, "
        "search_key INTEGER NOT NULL UNIQUE); "
        "CREATE INDEX message_conversation_sent ON message(conversation_id, sent_local, id)",
        "INSERT INTO message (identity_key, conversation_id, sent_local, sent_at, captured_at, source_line, body, search_key) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ),
}


def make_rows(n: int, rng: random.Random):
    """Rows in capture order: times ascending (as an export is read), keys random."""
    base_ms = 1_609_459_200_000  # 2021-01-01
    captured = 1_790_000_000_000
    rows = []
    for i in range(n):
        target = rng.randint(60, 100)
        words = []
        length = -1
        while length < target:
            w = rng.choice(WORDS)
            words.append(w)
            length += len(w) + 1
        body = " ".join(words)[:target]
        sent = base_ms + i * 30_000 + rng.randint(0, 29_999)
        key = rng.getrandbits(256).to_bytes(32, "big").hex()
        conv = 1 + (i // 50_000)            # one conversation per 50k messages, as a large export
        sent_local = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sent / 1000))
        search_key = ((sent // 1000) << 24) | rng.getrandbits(24)
        rows.append((key, conv, sent_local, sent, captured, i + 1, body, search_key))
    return rows


def run(path: str, variant: str, rows) -> dict:
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass
    db = sqlite3.connect(path, isolation_level=None)  # autocommit: BEGIN/COMMIT by hand
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA cache_size = -65536")
    create, insert = SCHEMAS[variant]
    db.executescript(create)
    if variant == "plain":
        data = [(r[1], r[3], r[4], r[5], r[6]) for r in rows]
    elif variant == "unique":
        data = [(r[0], r[1], r[3], r[4], r[5], r[6]) for r in rows]
    else:
        data = rows
    chunks = [data[i:i + TXN_ROWS] for i in range(0, len(data), TXN_ROWS)]
    start = time.perf_counter()
    for chunk in chunks:
        db.execute("BEGIN")
        db.executemany(insert, chunk)
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    count = db.execute("SELECT count(*) FROM message").fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    size = os.path.getsize(path)
    if count != len(rows):
        sys.exit(f"{variant}: inserted {count} rows, expected {len(rows)}")
    return {"seconds": elapsed, "rows_per_s": len(rows) / elapsed, "db_bytes": size}


def main() -> None:
    work = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    os.makedirs(work, exist_ok=True)
    rows = make_rows(n, random.Random(1))
    body_bytes = sum(len(r[6]) for r in rows) / n
    out = {
        "sqlite_version": sqlite3.sqlite_version,
        "driver": f"python {sys.version.split()[0]} sqlite3 executemany",
        "rows": n,
        "txn_rows": TXN_ROWS,
        "mean_body_bytes": round(body_bytes, 1),
        "key": "identity_key TEXT: 32 random bytes as 64 hex chars",
        "variants": {},
    }
    path = os.path.join(work, "floor.sqlite")
    for variant in ("plain", "unique", "message"):
        out["variants"][variant] = run(path, variant, rows)
        print(f"  sqlite floor {variant}: {out['variants'][variant]['rows_per_s']:,.0f} rows/s", file=sys.stderr)
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass
    print(json.dumps(out))


if __name__ == "__main__":
    main()
