"""Deterministic S10 identifiers and target lists for the custody benchmark (scripts/bench_custody.sh).

Usage:
  python3 bench_custody_gen.py targets OUT.csv ROWS [--seed N] [--day YYYY-MM-DD] [--start I]
      A canonical target list (docs/custody/targets.md) of ROWS rows, every row valid and every
      S10 distinct: item numbers START … START+ROWS-1 (see s10_for), rules BENCH-1…BENCH-4
      version 1, targeted during DAY (UTC), expected the next day, a hold requested an hour later.
  python3 bench_custody_gen.py s10 I [COUNT]
      Print the S10 identifiers of item numbers I … I+COUNT-1 (one a line).

The same item number always gives the same S10 (a bijection of 0 … 10^8-1 onto the serials, so
distinct numbers give distinct identifiers); the seed only changes the other columns. Import as
a module for s10_for() and check_digit().
"""
import argparse
import datetime as dt
import random
import sys

WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
# First letters J, K, S, T, W are reserved (refused as S10 items).
PREFIXES = ("LX", "EE", "CP", "RR", "UA", "LM", "EZ", "CX", "RB", "VV")
COUNTRIES = ("CN", "HK", "GB", "DE", "FR", "NL", "SG", "CA", "MX", "IN", "TR", "JP")
MULT = 48_271_049          # odd and not a multiple of 5: a bijection modulo 10^8
OFFSET = 17_348_911
SERIALS = 100_000_000

RULES = (("BENCH-1", "narcotics"), ("BENCH-2", "agriculture"), ("BENCH-3", "ipr"), ("BENCH-4", "random"))
MAIL_CLASSES = ("letter_post", "registered", "ems", "parcel", "other")
DESCS = ("gift", "documents", "clothing", "phone accessories", "cosmetics", "books", "toys",
         "auto parts", "supplements", "\"sample\", no value", "electronics", "shoes")


def check_digit(serial: str) -> int:
    c = 11 - sum(int(d) * w for d, w in zip(serial, WEIGHTS)) % 11
    return 0 if c == 10 else 5 if c == 11 else c


def s10_for(i: int) -> str:
    """The S10 identifier of item number i (0 ≤ i < 10^8 × len(PREFIXES)); distinct for distinct i."""
    block, k = divmod(i, SERIALS)
    serial = f"{(k * MULT + OFFSET) % SERIALS:08d}"
    return f"{PREFIXES[block % len(PREFIXES)]}{serial}{check_digit(serial)}{COUNTRIES[i % len(COUNTRIES)]}"


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_targets(out: str, rows: int, seed: int, day: str, start: int) -> None:
    rng = random.Random(seed)
    d0 = dt.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
    with open(out, "w", newline="") as f:
        f.write("s10,rule_code,rule_version,reason_code,targeted_at,targeted_by,expected_arrival_at,priority,"
                "origin_country,mail_class,declared_desc,hold_requested_at\n")
        buf = []
        for n in range(rows):
            i = start + n
            code, reason = RULES[rng.randrange(len(RULES))]
            t = d0 + dt.timedelta(seconds=rng.randrange(86_400))
            desc = DESCS[rng.randrange(len(DESCS))]
            if "," in desc or '"' in desc:
                desc = '"' + desc.replace('"', '""') + '"'
            buf.append(f"{s10_for(i)},{code},1,{reason},{iso(t)},ATS,{iso(t + dt.timedelta(days=1))},"
                       f"{rng.randrange(1, 6)},{COUNTRIES[i % len(COUNTRIES)]},{MAIL_CLASSES[rng.randrange(5)]},"
                       f"{desc},{iso(t + dt.timedelta(hours=1))}\n")
            if len(buf) == 10_000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("targets")
    t.add_argument("out")
    t.add_argument("rows", type=int)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--day", default="2019-06-17")
    t.add_argument("--start", type=int, default=0)
    s = sub.add_parser("s10")
    s.add_argument("first", type=int)
    s.add_argument("count", type=int, nargs="?", default=1)
    a = ap.parse_args()
    if a.cmd == "targets":
        write_targets(a.out, a.rows, a.seed, a.day, a.start)
    else:
        sys.stdout.write("".join(s10_for(i) + "\n" for i in range(a.first, a.first + a.count)))


if __name__ == "__main__":
    main()
