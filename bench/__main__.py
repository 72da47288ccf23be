"""Run the benchmarks: ``python -m bench`` (all), ``python -m bench pages``,
``python -m bench sms [--only webhook,enqueue,worker] [--seconds 15] ...``.

Exits with status 1 when a benchmark misses its target.
"""

import argparse
import signal
import sys

from bench import pages, sms

SUITES = ("pages", "sms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("suites", nargs="*", metavar="SUITE", help="pages, sms (default: all)")
    parser.add_argument("--page-seconds", type=float, default=2.0, help="seconds per page (pages)")
    sms.add_arguments(parser)
    opts = parser.parse_args(argv)
    # Stopped with SIGTERM (timeout, kill): unwind, so the databases made for the run are dropped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    chosen = opts.suites or list(SUITES)
    unknown = set(chosen) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(sorted(unknown))}; choose from {', '.join(SUITES)}")
    ok = True
    if "pages" in chosen:
        print("pages: requests per second through Flask's test client, SQLite, demo data")
        pages.main(seconds=opts.page_seconds)
    if "sms" in chosen:
        ok = sms.main(opts) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
