"""A facility's history at the OIG's volume, written straight into an archive's custody tables,
for timing the reports over the OIG's nine-month window (CUSTODY.md §7 P3: R-EFF over >= 50 M
custody events in <= 60 s, daily reports <= 2 s).

Building that many events through the scan API would take days on this machine (about 2.5 ms of
server CPU a scan), so this writes the rows the services would write, in the archive's own
schema, without their audit entries: an archive built this way is for timing reads only and
`recordkeeper verify` rightly refuses it (every row is unanchored). The real write path is timed
by the other phases of scripts/bench_custody.sh (P1, P2, and P3's small history built through
the API).

Usage: python3 bench_custody_history.py DATA_DIR [--days 273] [--items 90000] [--targets 3000]
                                        [--first-day 2018-10-01] [--seed 1]
The archive must exist (`recordkeeper init`) with the rules BENCH-1..4 (version 1) and the
locations RCV-1 (receiving), EXAM-1 (exam_station), VAULT (seized_property, where seized items
stay for months: give it a longest dwell of a year or more) and RET-1 (return_dock), as
scripts/bench_custody_scale.sh makes them.

Each day: ITEMS receipts (in containers of 500, 06:00-18:00), TARGETS of them targeted the day
before (every rule), about 85% of the targets presented (the rest never arrive: R-NP), 60% of the
presented targets moved to the exam station and inspected, 4% of those seized (entered in SEACATS
2 to 20 hours later); the next day every other item of the day goes back to the carrier (the
untargeted ones released uninspected). About 2.1 events an item. Prints a JSON summary.
"""
import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_custody_gen import RULES, s10_for  # noqa: E402

BASE = 300_000_000          # item numbers of the history (apart from P1's and P2's)
HASH = "0" * 64             # not a hash: these rows are not anchored (see above)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir")
    ap.add_argument("--days", type=int, default=273)
    ap.add_argument("--items", type=int, default=90_000)
    ap.add_argument("--targets", type=int, default=3_000)
    ap.add_argument("--first-day", default="2018-10-01")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    db = sqlite3.connect(os.path.join(a.data_dir, "archive.sqlite"), isolation_level=None)
    db.execute("PRAGMA cache_size = -1000000")
    db.execute("PRAGMA synchronous = OFF")
    for code, _ in RULES:
        if not db.execute("SELECT 1 FROM custody_target_rule WHERE code = ? AND version = 1", (code,)).fetchone():
            sys.exit(f"rule {code} v1 is not in the archive (scripts/bench_custody.sh makes it)")
    for loc in ("RCV-1", "EXAM-1", "VAULT", "RET-1"):
        if not db.execute("SELECT 1 FROM custody_location WHERE code = ?", (loc,)).fetchone():
            sys.exit(f"location {loc} is not in the archive")
    item_id = (db.execute("SELECT coalesce(max(id), 0) FROM custody_item").fetchone()[0]) + 1
    event_id = (db.execute("SELECT coalesce(max(id), 0) FROM custody_event").fetchone()[0]) + 1
    pres_id = (db.execute("SELECT coalesce(max(id), 0) FROM custody_presentation").fetchone()[0]) + 1
    insp_id = (db.execute("SELECT coalesce(max(id), 0) FROM custody_inspection").fetchone()[0]) + 1
    seiz_id = (db.execute("SELECT coalesce(max(id), 0) FROM custody_seizure").fetchone()[0]) + 1
    d0 = dt.datetime.fromisoformat(a.first_day).replace(tzinfo=dt.timezone.utc)
    totals = {"items": 0, "events": 0, "targets": 0, "inspections": 0, "seizures": 0, "presentations": 0}
    started = time.time()
    pending_returns = []          # (item_id, s10, inspected?) of the day before
    for n in range(a.days):
        day = d0 + dt.timedelta(days=n)
        ms0 = int(day.timestamp() * 1000)
        items, events, targets, inspections, seizures, presentations, closes, seacats = [], [], [], [], [], [], [], []

        def event(iid, typ, at, actor, to_loc=None, detail=None, station="HIST-1", witness=None, from_loc=None):
            nonlocal event_id
            events.append((event_id, iid, typ, at, None, actor, witness, from_loc, to_loc, station,
                           f"{at:013d}-{event_id:012d}", 0, detail, None, HASH))
            event_id += 1
            return event_id - 1

        # Yesterday's items back to the carrier at 05:00-06:00.
        for k, (iid, s10, inspected) in enumerate(pending_returns):
            at = ms0 + 5 * 3_600_000 + k * 3_600_000 // max(1, len(pending_returns))
            detail = "carrier=USPS" if inspected else "uninspected supervisor=bench.supervisor carrier=USPS reason=not targeted"
            event(iid, "RETURNED_TO_CARRIER", at, "bench.receiver", detail=detail, station="RET-1")
            closes.append((at, iid))
        pending_returns = []
        # Today's targets (targeted the day before, from the day's items and a few that never come).
        first = BASE + n * a.items
        day_numbers = list(range(first, first + a.items))
        target_numbers = rng.sample(day_numbers, min(a.targets, a.items))
        never = set(rng.sample(target_numbers, int(len(target_numbers) * 0.15)))
        missing_base = BASE + 200_000_000 + n * a.targets      # targets that never arrive are other items
        for j, num in enumerate(target_numbers):
            code, reason = RULES[j % len(RULES)]
            s10 = s10_for(missing_base + j) if num in never else s10_for(num)
            t_at = ms0 - 86_400_000 + rng.randrange(86_400_000)
            targets.append((s10, code, 1, reason, t_at, "ATS", ms0 + 86_400_000 // 2, 1 + j % 3, s10[-2:], "parcel", "gift", None, None, None))
        targeted = {s10_for(num): (j, RULES[j % len(RULES)][0]) for j, num in enumerate(target_numbers) if num not in never}
        # Receipts in containers of 500 between 06:00 and 18:00.
        per_container = 500
        for c in range(0, a.items, per_container):
            at = ms0 + 6 * 3_600_000 + (c * 12 * 3_600_000) // a.items
            count = min(per_container, a.items - c)
            presentations.append((pres_id, f"APC{n:03d}{c // per_container:04d}", "USPS", None, count, "USPS clerk", None,
                                  "bench.receiver", "RCV-1", "HIST-1", at, at + 1_800_000, "bench.receiver", count, None, "in"))
            for i in range(count):
                num = first + c + i
                s10 = s10_for(num)
                items.append((item_id, s10, f"{day.date().isoformat()}/1", at, None, pres_id))
                event(item_id, "RECEIVED", at, "bench.receiver", to_loc="RCV-1", detail=f"presentation={pres_id}")
                if s10 in targeted:
                    if rng.random() < 0.6:
                        start = at + 3_600_000 + rng.randrange(4 * 3_600_000)
                        event(item_id, "MOVED", start - 600_000, "bench.receiver", to_loc="EXAM-1", from_loc="RCV-1")
                        s = event(item_id, "INSPECT_START", start, "bench.officer", to_loc="EXAM-1", detail="method=xray", station="XR-1")
                        hit = rng.random() < 0.04
                        end = start + 600_000 + rng.randrange(1_800_000)
                        result = "confirmed_positive" if hit else "no_anomaly"
                        e = event(item_id, "INSPECT_END", end, "bench.officer", detail=f"result={result}", station="XR-1")
                        inspections.append((insp_id, item_id, "xray", start, end, "bench.officer", "XR-1", result,
                                            "test substance" if hit else None, "test substance" if hit else None, s, e))
                        if hit:
                            z = event(item_id, "MOVED", end + 300_000, "bench.officer", to_loc="VAULT", from_loc="EXAM-1",
                                      witness="bench.supervisor", detail=f"seized form_6051s=2019-4601-{seiz_id:06d} witness=bench.supervisor")
                            seizures.append((seiz_id, item_id, insp_id, end + 300_000, "bench.officer", "bench.supervisor",
                                             RULES[targeted[s10][0] % len(RULES)][1] if RULES[targeted[s10][0] % len(RULES)][1] != "random" else "other",
                                             "test substance", 12.5, f"2019-4601-{seiz_id:06d}", "VAULT", z))
                            # Entered in SEACATS 2 to 20 hours later (on time).
                            seacats.append((seiz_id, f"2019-4601-{seiz_id:06d}", end + 300_000 + (2 + rng.randrange(19)) * 3_600_000,
                                            "bench.officer", None))
                            seiz_id += 1
                        else:
                            pending_returns.append((item_id, s10, True))
                        insp_id += 1
                    else:
                        pending_returns.append((item_id, s10, False))
                else:
                    pending_returns.append((item_id, s10, False))
                item_id += 1
            pres_id += 1
        db.execute("BEGIN")
        db.executemany("INSERT INTO custody_presentation (id, container_id, carrier, seal_no, declared_count, presented_by_name, "
                       "presented_by_badge, received_by, location, station_id, presented_at, closed_at, closed_by, scanned_count, "
                       "discrepancy_note, direction) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", presentations)
        db.executemany("INSERT INTO custody_target (s10, rule_code, rule_version, reason_code, targeted_at, targeted_by, "
                       "expected_arrival_at, priority, origin_country, mail_class, declared_desc, hold_requested_at, import_id, line) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", targets)
        db.executemany("INSERT INTO custody_item (id, s10, episode, first_arrival_at, closed_at, presentation_id) VALUES (?,?,?,?,?,?)", items)
        db.executemany("INSERT INTO custody_event (id, item_id, type, at, client_ts, actor, witness, from_location, to_location, "
                       "station_id, client_scan_uuid, manual_entry, detail, note, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", events)
        db.executemany("INSERT INTO custody_inspection (id, item_id, method, started_at, ended_at, officer, equipment, result, "
                       "substance, actual_desc, start_event_id, end_event_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", inspections)
        db.executemany("INSERT INTO custody_seizure (id, item_id, inspection_id, seized_at, seizing_officer, witness, violation_type, "
                       "substance, net_weight_g, form_6051s_no, storage_location, event_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", seizures)
        db.executemany("INSERT INTO custody_seacats_entry (seizure_id, case_no, recorded_at, recorded_by, late_reason) VALUES (?,?,?,?,?)", seacats)
        db.executemany("UPDATE custody_item SET closed_at = ? WHERE id = ?", closes)
        db.execute("COMMIT")
        for k, v in (("items", items), ("events", events), ("targets", targets), ("inspections", inspections),
                     ("seizures", seizures), ("presentations", presentations)):
            totals[k] += len(v)
        if n % 10 == 0 or n == a.days - 1:
            print(f"  {day.date()}: {totals['events']:,} events, {totals['targets']:,} targets, "
                  f"{time.time() - started:.0f} s", file=sys.stderr, flush=True)
    db.close()
    size = sum(os.path.getsize(os.path.join(a.data_dir, f)) for f in os.listdir(a.data_dir) if f.startswith("archive.sqlite"))
    print(json.dumps(dict(totals, days=a.days, first_day=a.first_day,
                          last_day=(d0 + dt.timedelta(days=a.days - 1)).date().isoformat(),
                          seconds=round(time.time() - started, 1), archive_bytes=size)))


if __name__ == "__main__":
    main()
