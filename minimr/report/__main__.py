"""python -m minimr.report EVENTLOG [EVENTLOG ...] [-o report.html]
   python -m minimr.report --counters EVENTLOG

Draw the one-page report of one or more event logs (Context(eventLog=DIR) writes them; two
logs sit side by side), or print each job's counters as Hadoop prints them.
"""

import argparse
import os
import sys

from .. import events
from . import html


def print_counters(path, out=sys.stdout):
    log = events.read(path)
    jobs = [e for e in log if e["event"] == "JobStart"]
    for job in jobs:
        counts = events.hadoop_counters(log, job["job"])
        print(f"Job {job['job']}: {job.get('rdd', '')}", file=out)
        print(f"Counters: {sum(1 for v in counts.values() if v)}", file=out)
        shown = set()
        for group, names in html.GROUPS.items():
            print(f"\t{group}", file=out)
            for name in names:
                print(f"\t\t{name}={counts.get(name, 0)}", file=out)
            shown |= set(names)
        rest = sorted(n for n in counts if n not in shown)
        if rest:
            print("\tminimr", file=out)
            for name in rest:
                print(f"\t\t{name}={counts[name]}", file=out)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m minimr.report", description=__doc__.split("\n\n")[1])
    p.add_argument("logs", nargs="+", metavar="EVENTLOG")
    p.add_argument("-o", "--output", default="report.html", help="default: report.html")
    p.add_argument("--counters", action="store_true", help="print the counters instead")
    args = p.parse_args(argv)
    for path in args.logs:
        if not os.path.isfile(path):
            p.error(f"{path}: no such event log")
    if args.counters:
        for path in args.logs:
            print_counters(path)
        return 0
    runs = [(os.path.basename(path), events.read(path)) for path in args.logs]
    print(html.write(runs if len(runs) > 1 else runs[0][1], args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
