"""Parse-only throughput of whatstk on one WhatsApp export (used by scripts/bench.sh).

Usage: python bench_whatstk.py EXPORT.txt RUNS
Prints one JSON object: messages (len(chat.df)), best_seconds, msg_per_s, runs, and the versions
of whatstk, pandas and numpy (scripts/bench.sh pins them in its venv).
Only the WhatsAppChat.from_source call is timed; imports and teardown are outside the clock.
"""
import gc
import inspect
import json
import sys
import time

from whatstk.whatsapp.objects import WhatsAppChat
from whatstk.whatsapp.parser import df_from_whatsapp


def _version(package: str) -> str:
    try:
        from importlib.metadata import version

        return version(package)
    except Exception:  # pragma: no cover - versions are informational only
        return "unknown"


def main() -> None:
    path, runs = sys.argv[1], int(sys.argv[2])
    # Recent whatstk refuses inputs over 50 MiB unless told otherwise (max_size); the 1M export is
    # ~80 MB. from_source passes extra keyword arguments on to df_from_whatsapp.
    kwargs = {"max_size": None} if "max_size" in inspect.signature(df_from_whatsapp).parameters else {}
    best = None
    messages = 0
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        chat = WhatsAppChat.from_source(filepath=path, **kwargs)
        elapsed = time.perf_counter() - start
        messages = len(chat.df)
        del chat
        best = elapsed if best is None else min(best, elapsed)
    print(json.dumps({
        "messages": messages,
        "best_seconds": best,
        "msg_per_s": messages / best,
        "runs": runs,
        "version": _version("whatstk"),
        "pandas": _version("pandas"),
        "numpy": _version("numpy"),
    }))


if __name__ == "__main__":
    main()
