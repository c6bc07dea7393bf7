#!/usr/bin/env python3
"""The Pacemaker drill driver's reader of one node's /var/log/pacemaker/pacemaker.log.

    tail -c +N -F /var/log/pacemaker/pacemaker.log | pacemaker-log.py NODE CTL

Reads the node's Pacemaker log on stdin (its lines stamped in the node's local time, which
is UTC on the drill nodes) and writes, flushed line by line:
- CTL/pacemaker-NODE.log: the log's notice, warning and error lines and the agents' output,
  each with the epoch of its own time stamp in front ("EPOCH text");
- CTL/nNODE-OP-PID.log (OP start, stop or monitor): what an eva-master action printed (its
  stderr, as pacemaker-execd logs it once the action ended), "EPOCH text" with the epoch
  of eva-ha's own time stamp on each line, so a start's log is that start's timeline;
- on stdout, one record a line for scripts/drill/pacemaker.sh, EPOCH being the time
  Pacemaker logged it (not when the driver reads it):
    EPOCH begin OP RESOURCE              the controller asks its executor for OP (start,
                                         stop, monitor: a recurring one, probe)
    EPOCH result OP RESOURCE RC MASTER LOG TEXT
                                         the action's result (RC: the OCF code; TEXT what
                                         the controller says of it, e.g. "not running");
                                         MASTER: the seconds the master script ran in it
                                         (from eva-ha's lines, as clusterpro.sh reckons
                                         them; 0 when none ran), LOG: its output's file
                                         name in CTL, or "-"
    EPOCH peer NAME lost|member          the controller saw node NAME leave (or join) the
                                         cluster's membership
"""

import calendar
import os
import re
import sys
import time

LINE = re.compile(r"^(\w{3} +\d+ \d\d:\d\d:\d\d(?:\.\d+)?) (\S+) +(\S+) +\[\d+\] \((\w+)\)\s+(\w+): (.*)$")
BEGIN = re.compile(r"Requesting local execution of (\w+) operation for (\S+) on ")
RESULT = re.compile(r"Result of (\w+) operation for (\S+) on \S+: (.*?) \|.* key=(\S+) rc=(-?\d+)")
OUTPUT = re.compile(r"^(\S+)_(start|stop|monitor)_\d+\[(\d+)\] error output \[ ?(.*?) ?\]$")
PEER = re.compile(r"^Node (\S+) state is now (lost|member)\b")
EVA_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) +(.*)$")


def epoch_of(stamp, fmt):
    base, _, frac = stamp.partition(".")
    t = calendar.timegm(time.strptime(base, fmt))
    return t + (float("0." + frac) if frac else 0.0)


def log_epoch(stamp):
    """Pacemaker's "Dec 02 06:24:55.255": this year's (the log has no year)."""
    year = time.gmtime().tm_year
    return epoch_of(f"{year} {stamp}", "%Y %b %d %H:%M:%S")


def master_seconds(lines):
    """From the master script's first line to its last (or the action's last line)."""
    b = e = last = None
    for t, text in lines:
        last = t
        if b is None and re.search(r"EVA master: (checking services|stopping)", text):
            b = t
        if "EVA master:" in text:
            e = t
    if b is None:
        return 0.0
    if e is None or e <= b:
        e = last
    return e - b


def main():
    node, ctl = sys.argv[1], sys.argv[2]
    raw = open(os.path.join(ctl, f"pacemaker-{node}.log"), "a", encoding="utf-8")
    outputs = {}  # op key (eva-master_start_0) -> (file name, [(epoch, text)])
    for line in sys.stdin:
        m = LINE.match(line.rstrip("\n"))
        if not m:
            continue
        stamp, _, daemon, func, level, msg = m.groups()
        try:
            t = log_epoch(stamp)
        except ValueError:
            continue
        o = OUTPUT.match(msg)
        if level in ("notice", "warning", "error", "crit") or o or func == "log_finished":
            raw.write(f"{t:.6f} {msg}\n")
            raw.flush()
        if o:
            rsc, op, pid, text = o.groups()
            key = f"{rsc}_{op}"
            name, lines = outputs.get(key, (None, None))
            if name is None or not name.endswith(f"-{pid}.log"):
                name, lines = f"n{node}-{op}-{pid}.log", []
                outputs[key] = (name, lines)
            e = EVA_TIME.match(text)
            te = t
            if e:
                try:
                    te = epoch_of(e.group(1), "%Y-%m-%d %H:%M:%S")
                    text = e.group(2)
                except ValueError:
                    pass
            lines.append((te, text))
            with open(os.path.join(ctl, name), "a", encoding="utf-8") as f:
                f.write(f"{te:.6f} {text}\n")
            continue
        p = PEER.match(msg)
        if p and daemon == "pacemaker-controld":
            print(f"{t:.6f} peer {p.group(1)} {p.group(2)}", flush=True)
            continue
        b = BEGIN.search(msg)
        if b:
            print(f"{t:.6f} begin {b.group(1)} {b.group(2)}", flush=True)
            continue
        r = RESULT.search(msg)
        if r:
            op, rsc, text, key, rc = r.groups()
            kind = re.sub(r"_\d+$", "", key)  # eva-master_monitor_10000 -> eva-master_monitor
            name, lines = outputs.pop(kind, (None, []))
            master = master_seconds(lines) if op in ("start", "stop") else 0.0
            print(f"{t:.6f} result {op} {rsc} {rc} {master:.3f} {name or '-'} {text}", flush=True)


if __name__ == "__main__":
    main()
