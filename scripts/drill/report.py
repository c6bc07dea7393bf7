#!/usr/bin/env python3
"""The drills' summary: report.py CYCLES.jsonl JSON

Reads the cycles that scripts/drill.sh recorded (one JSON object a line, from
scripts/drill/verdict.py), writes them to JSON as one list, prints a table per
driver, implementation and fault (cycles; median and max detection and downtime; median overhead;
lost rows, false failovers, misses, double active, summed), and exits 1 when an eva-ha
cycle lost a row (or its rows could not be read back), failed over for nothing, missed a
recovery or ran anything on both nodes; the guide's scripts are measured, not judged.
"""

import json
import statistics
import sys


def fmt(x):
    return "-" if x is None else f"{x:.1f}"


def main():
    src, dst = sys.argv[1:3]
    with open(src, encoding="utf-8") as f:
        cycles = [json.loads(line) for line in f if line.strip()]
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(cycles, f, indent=2)
        f.write("\n")

    groups = {}
    for c in cycles:
        groups.setdefault((c.get("driver", "clusterpro"), c["impl"], c["fault"]), []).append(c)
    head = f"{'driver':<10} {'impl':<6} {'fault':<23} {'n':>2} {'detect med/max s':>17} {'downtime med/max s':>19} {'overhead med s':>14} {'lost':>5} {'false':>5} {'missed':>6} {'double':>6}"
    print(head)
    print("-" * len(head))
    for (driver, impl, fault), cs in sorted(groups.items()):
        det = [c["detect_s"] for c in cs if c.get("detect_s") is not None]
        down = [c["downtime_s"] for c in cs if c.get("downtime_s") is not None]
        over = [c["overhead_s"] for c in cs if c.get("overhead_s") is not None]
        lost = sum(c["lost_rows"] or 0 for c in cs)
        unknown = sum(1 for c in cs if c.get("lost_rows") is None)
        lost_s = f"{lost}" + (f"+{unknown}?" if unknown else "")
        print(
            f"{driver:<10} {impl:<6} {fault:<23} {len(cs):>2} "
            f"{fmt(statistics.median(det) if det else None):>8}/{fmt(max(det) if det else None):<8} "
            f"{fmt(statistics.median(down) if down else None):>9}/{fmt(max(down) if down else None):<9} "
            f"{fmt(statistics.median(over) if over else None):>14} {lost_s:>5} "
            f"{sum(c['false_failover'] for c in cs):>5} {sum(c['missed'] for c in cs):>6} {sum(c['double_active'] for c in cs):>6}"
        )
    print(f"JSON: {dst}")
    bad = [
        c for c in cycles
        if c["impl"] == "eva" and (c.get("lost_rows") is None or c["lost_rows"] > 0 or c["false_failover"] or c["missed"] or c["double_active"])
    ]
    for c in bad:
        print(f"FAIL: cycle {c['cycle']} {c.get('driver', 'clusterpro')} eva {c['fault']}: lost {c.get('lost_rows')}, false failover {c['false_failover']}, missed {c['missed']}, double active {c['double_active']}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
