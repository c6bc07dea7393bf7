#!/usr/bin/env python3
"""One drill cycle's verdict, from what scripts/drill.sh recorded in the cycle's directory.

    verdict.py DIR DRIVER IMPL FAULT EXPECT T0 T_END CYCLE

DIR holds ctl/ (the driver's events and script logs, scripts/drill/clusterpro.sh),
probes.log (scripts/drill/prober.sh), acks.log (scripts/drill/writer.sh) and rows.txt (the
cycle's rows read back through the floating IP after the cycle, one seq a line; absent when
the database did not answer). EXPECT is what should happen: failover (the group ends on
node 2), move (the same, asked for), stay (on node 1, no move), recover (the same, after an
outage on node 1: the service and all four applications back there), or fallback (a move that
fails on node 2 and ends back on node 1). T0 is the fault's time and T_END the end of the
observation (epoch seconds; the group is stopped after it, which is not judged); DIR/ended
names the node the group was active on then.
Prints the cycle as one JSON object: driver, impl, fault, expect, detect_s (fault to the
monitor's ERROR line / "Exit 1", its exit or the server-down notice; null when nothing was
to be detected, as for a planned move), downtime_s (fault to the first HTTP 200 after the first failed REST probe;
0 when none failed; null when it never came back), apps_down_s (the same for the four
application processes, seen by the node probes), overhead_s (what the Exec resource's
scripts took beyond their components, summed over every script run after the fault until
the service was back: each run's time minus the units' start/stop time and the master
script's run time; with a driver that does not time the runs, downtime minus detection
minus the components), components_s (those units and master scripts), cluster_s (the
driver's own steps: reacting to the monitor, releasing and acquiring the disk and the IP,
reaching the node) and probe_s (from the last script's end to the REST answer, the probe's
resolution): detection + overhead + components + cluster + probe = downtime; lost_rows (acknowledged rows missing on the active node), false_failover,
missed, double_active (the master, PostgreSQL or an application process on both nodes in
the same probe round), and details.
"""

import json
import os
import re
import sys


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def events(ctl):
    out = []
    for line in read_lines(os.path.join(ctl, "events")):
        parts = line.split(" ", 2)
        if len(parts) < 2:
            continue
        fields = dict(re.findall(r"(\w+)=(\S+)", parts[2] if len(parts) > 2 else ""))
        out.append((float(parts[0]), parts[1], fields, line))
    return out


def first_monitor_alarm(ctl, t0, t_end):
    """The host time of the first ERROR line (eva-genw) or "Exit 1" (genw.sh) in [t0, t_end]."""
    best = None
    for name in sorted(os.listdir(ctl)):
        if "-monitor-" not in name:
            continue
        for line in read_lines(os.path.join(ctl, name)):
            stamp, _, text = line.partition(" ")
            try:
                t = float(stamp)
            except ValueError:
                continue
            if "interrupted by SIGTERM" in text:  # the cluster stopping the monitor
                continue
            if t0 <= t <= t_end and (" ERROR " in f" {text} " or text.strip() == "Exit 1"):
                best = t if best is None else min(best, t)
                break
    return best


def main():
    d, driver, impl, fault, expect, t0, t_end, cycle = sys.argv[1:9]
    t0, t_end = float(t0), float(t_end)
    ctl = os.path.join(d, "ctl")
    evs = [e for e in events(ctl) if e[0] <= t_end]
    after = [e for e in evs if e[0] >= t0]
    details = []

    # Where the group was active at the end of the observation.
    final_active = (read_lines(os.path.join(d, "ended")) or ["none"])[0].strip()
    if final_active == "none":
        final_active = None

    # REST probes and node probes.
    rest = []
    rounds = []
    current = {}
    for line in read_lines(os.path.join(d, "probes.log")):
        parts = line.split()
        if len(parts) < 3:
            continue
        t = float(parts[0])
        if t > t_end:
            break
        if parts[1] == "rest":
            rest.append((t, parts[2] == "ok", " ".join(parts[3:])))
            if len(current) == 2:  # a whole round: both nodes (T_END may cut the last in two)
                rounds.append(current)
            current = {}
        elif parts[1] == "node" and len(parts) >= 4:
            facts = dict(re.findall(r"(\w+)=(\S+)", " ".join(parts[3:])))
            current[parts[2]] = (t, facts)
    if len(current) == 2:
        rounds.append(current)

    rest_after = [r for r in rest if r[0] >= t0]
    first_fail = next((r for r in rest_after if not r[1]), None)
    downtime = 0.0
    recovered_at = t0
    if first_fail is not None:
        back = next((r for r in rest_after if r[0] > first_fail[0] and r[1]), None)
        if back is None:
            downtime = None
            recovered_at = None
        else:
            downtime = back[0] - t0
            recovered_at = back[0]
    rest_ok_at_end = bool(rest) and rest[-1][1]
    answered_by = rest[-1][2] if rest and rest[-1][1] else None

    # Detection.
    detect = None
    if expect not in ("move", "fallback"):
        candidates = [t for t, name, _, _ in after if name in ("monitor-error", "node-down")]
        alarm = first_monitor_alarm(ctl, t0, t_end)
        if alarm is not None:
            candidates.append(alarm)
        if candidates:
            detect = min(candidates) - t0

    # Where the downtime went, for the script runs after the fault until the service was
    # back: the components (the units' start and stop times from systemd, the master
    # scripts' run time), the scripts' own time besides (the overhead: eva-ha's, or the
    # guide scripts'), and the cluster's (the driver's steps: reacting to the monitor,
    # moving the disk and the IP, reaching the node), the rest being the probe's own
    # resolution (~0.5 s) after the start script ended.
    components = 0.0
    walls = 0.0
    with_wall = True
    last_end = None
    for t, name, fields, _ in after:
        if name in ("start-end", "stop-end") and (recovered_at is None or t <= recovered_at + 1):
            comp = float(fields.get("units", 0)) + float(fields.get("master", 0))
            components += comp
            if "wall" in fields:
                walls += float(fields["wall"])
            else:
                with_wall = False
            last_end = t
    overhead = cluster = probe = None
    if downtime is not None and downtime > 0:
        if with_wall:
            overhead = walls - components
            if last_end is not None and recovered_at is not None:
                probe = max(0.0, recovered_at - last_end)
                cluster = downtime - (detect or 0.0) - walls - probe
        else:  # a driver that does not time the scripts: all but the components
            overhead = downtime - (detect or 0.0) - components

    moved = any(name in ("failover", "move-begin") for _, name, _, _ in after)
    failovers = [f"{name} {fields}" for _, name, fields, _ in after if name in ("failover", "node-down", "final-action", "activate-failed", "group-stopped")]
    details += failovers

    false_failover = 0
    missed = 0
    if expect in ("failover", "move"):
        if final_active != "2" or not rest_ok_at_end:
            missed = 1
    elif expect in ("stay", "recover"):
        if moved:
            false_failover = 1
        if not rest_ok_at_end:
            missed = 1
    elif expect == "fallback":
        if final_active != "1" or not rest_ok_at_end:
            missed = 1
        if not any(name == "activate-failed" and fields.get("node") == "2" for _, name, fields, _ in after):
            details.append("the start on node 2 did not fail")
    if downtime is None:
        missed = 1

    # Double active: in one probe round, the same kind of process on both nodes.
    double = 0
    for r in rounds:
        if "1" in r and "2" in r:
            a, b = r["1"][1], r["2"][1]
            both = [k for k in ("master", "postgres", "apps") if int(a.get(k, "0")) > 0 and int(b.get(k, "0")) > 0]
            if both:
                if not double:
                    details.append(f"double active at {r['1'][0]:.1f} (t0{r['1'][0] - t0:+.1f} s): {','.join(both)} node1={a} node2={b}")
                double = 1

    # What the other node still runs at the end (a dead engine's containers, a master).
    if rounds:
        last = rounds[-1]
        idle = "2" if final_active == "1" else "1"
        if idle in last:
            facts = last[idle][1]
            busy = [f"{k}={facts.get(k)}" for k in ("master", "postgres", "apps") if int(facts.get(k, "0")) > 0]
            if busy:
                details.append(f"node {idle} (not active) still runs at the end: {' '.join(busy)}")
    if expect == "fallback":
        failed_at = next((t for t, name, fields, _ in after if name == "activate-failed" and fields.get("node") == "2"), None)
        if failed_at is not None:
            released = any(name == "resources-released" and fields.get("node") == "2" and t >= failed_at for t, name, fields, _ in after)
            details.append("node 2 released the shared disk after its failed start" if released else "node 2 could NOT release the shared disk after its failed start")

    # The applications: from the first probe round after the fault in which no node runs
    # all four application processes to the first one in which one does again (null: not
    # back by the end). The REST check does not see them.
    apps_down = 0.0
    down_from = None
    for r in rounds:
        t = min(v[0] for v in r.values())
        if t < t0:
            continue
        full = any(int(v[1].get("apps", "0")) >= 4 for v in r.values())
        if not full and down_from is None:
            down_from = t
        elif full and down_from is not None and apps_down is not None:
            apps_down = t - t0
            down_from = None
    if down_from is not None:
        apps_down = None
        details.append(f"the applications were not all running again by the end (down since t0{down_from - t0:+.1f} s)")
        if expect == "recover":
            missed = 1

    # Rows.
    acked = []
    for line in read_lines(os.path.join(d, "acks.log")):
        parts = line.split()
        if len(parts) == 3 and parts[2] == "ok":
            acked.append(int(parts[0]))
    rows_path = os.path.join(d, "rows.txt")
    if os.path.exists(rows_path):
        present = {int(x) for x in read_lines(rows_path) if x.strip().isdigit()}
        lost = sorted(set(acked) - present)
        lost_rows = len(lost)
        if lost:
            details.append(f"lost rows (seq): {lost[:20]}")
    else:
        lost_rows = None
        missed = 1
        details.append("the rows could not be read back")

    # Notes on what the scripts said.
    for name in sorted(os.listdir(ctl)):
        if "-start-" in name or "-stop-" in name:
            for line in read_lines(os.path.join(ctl, name)):
                if re.search(r"(ERROR|WARN|timed out|timeout)", line) and "EVADRV" not in line:
                    details.append(f"{name}: {line.split(' ', 1)[-1][:220]}")

    out = {
        "cycle": int(cycle),
        "driver": driver,
        "impl": impl,
        "fault": fault,
        "expect": expect,
        "detect_s": None if detect is None else round(detect, 2),
        "downtime_s": None if downtime is None else round(downtime, 2),
        "overhead_s": None if overhead is None else round(overhead, 2),
        "components_s": round(components, 2),
        "cluster_s": None if cluster is None else round(cluster, 2),
        "probe_s": None if probe is None else round(probe, 2),
        "apps_down_s": None if apps_down is None else round(apps_down, 2),
        "lost_rows": lost_rows,
        "acked_rows": len(acked),
        "false_failover": false_failover,
        "missed": missed,
        "double_active": double,
        "ended_on": final_active,
        "answered_by": answered_by,
        "details": details[:40],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
