"""Run benchmarks: `python -m bench` (all) or `python -m bench booking_availability search_proxy`."""

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

INFRASTRUCTURE = {"harness", "__main__"}


def available():
    here = Path(__file__).resolve().parent
    return sorted(info.name for info in pkgutil.iter_modules([str(here)]) if info.name not in INFRASTRUCTURE)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(available())})")
    parser.add_argument("--seconds", type=int, default=10, help="load duration per measurement")
    parser.add_argument("--quick", action="store_true", help="smaller data and shorter runs (a smoke check)")
    parser.add_argument(
        "--small-only", action="store_true", help="booking_availability: skip the phase with about 1,000,000 bookings"
    )
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    for name in names:
        importlib.import_module(f"bench.{name}").run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
