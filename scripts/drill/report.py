#!/usr/bin/env python3
"""The drills' summary: report.py CYCLES.jsonl JSON

Reads the cycles that scripts/drill.sh recorded (one JSON object a line, from
scripts/drill/verdict.py), writes them to JSON as one list, prints a table per driver,
implementation and fault (cycles; median and max detection, downtime and overhead; median
of the cluster's own steps; lost rows, false failovers, misses, double active, summed),
then, where the same run drilled a fault with both eva-ha and the guide's scripts, the
ratio of their median detection and downtime (guide / eva) over the cycles that recovered
("guide missed" when none of the guide's did). Exits 1 when an eva-ha cycle
lost a row (or its rows could not be read back), failed over for nothing, missed a
recovery or ran anything on both nodes; the guide's scripts are measured, not judged.
"""

import json
import statistics
import sys


def fmt(x):
    return "-" if x is None else f"{x:.1f}"


def med(xs):
    return statistics.median(xs) if xs else None


def values(cs, key):
    return [c[key] for c in cs if c.get(key) is not None]


def med_max(cs, key):
    xs = values(cs, key)
    return f"{fmt(med(xs)):>6}/{fmt(max(xs) if xs else None):<6}"


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
    head = (
        f"{'driver':<10} {'impl':<5} {'fault':<23} {'n':>3} {'detect med/max':>13} {'downtime med/max':>15} "
        f"{'overhead med/max':>16} {'cluster':>7} {'lost':>5} {'false':>5} {'missed':>6} {'double':>6}"
    )
    print(head)
    print("-" * len(head))
    for (driver, impl, fault), cs in sorted(groups.items()):
        lost = sum(c["lost_rows"] or 0 for c in cs)
        unknown = sum(1 for c in cs if c.get("lost_rows") is None)
        lost_s = f"{lost}" + (f"+{unknown}?" if unknown else "")
        print(
            f"{driver:<10} {impl:<5} {fault:<23} {len(cs):>3} {med_max(cs, 'detect_s')} {med_max(cs, 'downtime_s'):>15} "
            f"{med_max(cs, 'overhead_s'):>16} {fmt(med(values(cs, 'cluster_s'))):>7} {lost_s:>5} "
            f"{sum(c['false_failover'] for c in cs):>5} {sum(c['missed'] for c in cs):>6} {sum(c['double_active'] for c in cs):>6}"
        )
    pairs = [(d, f) for (d, i, f) in groups if i == "eva" and (d, "guide", f) in groups]
    if pairs:
        print()
        print(f"{'driver':<10} {'fault':<23} {'detect guide/eva':>16} {'downtime guide/eva':>18}")
        for d, f in sorted(pairs):
            eva, guide = groups[(d, "eva", f)], groups[(d, "guide", f)]
            ratios = []
            for key in ("detect_s", "downtime_s"):
                # Over the cycles that recovered: a miss has no downtime to compare.
                e = med(values([c for c in eva if not c["missed"]], key))
                g = med(values([c for c in guide if not c["missed"]], key))
                if g is None and all(c["missed"] for c in guide):
                    ratios.append("guide missed")
                else:
                    ratios.append("-" if e is None or g is None or e == 0 else f"{g / e:.1f}x")
            print(f"{d:<10} {f:<23} {ratios[0]:>16} {ratios[1]:>18}")
    print(f"JSON: {dst}")
    bad = [
        c for c in cycles
        if c["impl"] == "eva" and (c.get("lost_rows") is None or c["lost_rows"] > 0 or c["false_failover"] or c["missed"] or c["double_active"])
    ]
    for c in bad:
        print(f"FAIL: cycle {c['cycle']} {c.get('driver', '-')} eva {c['fault']}: lost {c.get('lost_rows')}, false failover {c['false_failover']}, missed {c['missed']}, double active {c['double_active']}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
