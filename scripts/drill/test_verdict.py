#!/usr/bin/env python3
"""Tests of the drills' verdict (verdict.py) and summary (report.py) on cycle records
written here, as scripts/drill.sh and the drivers write them. Run by scripts/test.sh:
    python3 -m unittest discover -s scripts/drill -p 'test_*.py'
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1000.0


def write(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))


def node(t, n, apps, master=1, postgres=6):
    return f"{t:.2f} node {n} postgres={postgres} master={master} apps={apps} engine=active"


class Cycle:
    """A cycle directory: events relative to T0, probes, acknowledged and present rows."""

    def __init__(self, tmp):
        self.dir = tmp
        self.events = []
        self.probes = []
        self.monitor = []
        self.acked = []
        self.present = []
        self.ended = "2"

    def event(self, dt, text):
        self.events.append(f"{T0 + dt:.3f} {text}")
        return self

    def rest(self, dt, ok, host="evadrv-1"):
        self.probes.append(f"{T0 + dt:.2f} rest ok {host}" if ok else f"{T0 + dt:.2f} rest fail connection refused")
        return self

    def nodes(self, dt, apps1, apps2, master1=1, master2=0):
        self.probes.append(node(T0 + dt, 1, apps1, master1, 6 if master1 else 0))
        self.probes.append(node(T0 + dt + 0.05, 2, apps2, master2, 6 if master2 else 0))
        return self

    def verdict(self, fault, expect, t_end=60.0):
        write(os.path.join(self.dir, "ctl", "events"), self.events)
        write(os.path.join(self.dir, "ctl", "02-monitor-1.log"), self.monitor)
        write(os.path.join(self.dir, "probes.log"), self.probes)
        write(os.path.join(self.dir, "acks.log"), [f"{s} {T0 + s / 10:.2f} ok" for s in self.acked])
        if self.present is not None:
            write(os.path.join(self.dir, "rows.txt"), [str(s) for s in self.present])
        write(os.path.join(self.dir, "ended"), [self.ended])
        out = subprocess.run(
            [sys.executable, os.path.join(HERE, "verdict.py"), self.dir, "clusterpro", "eva", fault, expect, str(T0), str(T0 + t_end), "1"],
            check=True, capture_output=True, text=True,
        ).stdout
        return json.loads(out)


def a_failover(c):
    """app-exit-3: detected at +0.2, stop 1.0 s (0.7 units and master), start 2.5 s (2.3)."""
    c.rest(-0.5, True).nodes(-0.4, 4, 0)
    c.monitor.append(f"{T0 + 0.2:.3f} 2026-12-02 06:14:32.769 ERROR eva-genw: container usecase-crowd died with exit code 3")
    c.event(0.6, "monitor-error node=1 rc=1").event(0.6, "failover from=1 to=2 reason=monitor-error")
    c.event(0.8, "stop-begin node=1 event=FAILOVER log=03-stop-1.log")
    c.event(1.8, "stop-end node=1 rc=0 wall=1.000 units=0.200 master=0.500")
    c.event(3.4, "start-begin node=2 event=FAILOVER log=04-start-2.log")
    c.event(5.9, "start-end node=2 rc=0 wall=2.500 units=0.300 master=2.000")
    c.event(5.9, "active node=2")
    c.rest(1.0, False).nodes(1.1, 3, 0).rest(3.0, False).nodes(3.1, 0, 0, master1=0)
    c.rest(6.3, True, "evadrv-2").nodes(6.4, 0, 4, master1=0, master2=1).rest(8.0, True, "evadrv-2")
    c.acked = list(range(1, 51))
    c.present = list(range(1, 51))
    return c


class VerdictTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def cycle(self):
        return Cycle(self.tmp.name)

    def test_a_failover_splits_its_downtime(self):
        v = a_failover(self.cycle()).verdict("app-exit-3", "failover")
        self.assertEqual(v["detect_s"], 0.2)
        self.assertEqual(v["downtime_s"], 6.3)
        # The scripts' time beyond their units and master scripts: (1.0 - 0.7) + (2.5 - 2.3).
        self.assertEqual(v["overhead_s"], 0.5)
        self.assertEqual(v["components_s"], 3.0)
        self.assertEqual(v["probe_s"], 0.4)
        # What is left is the cluster's: 6.3 - 0.2 - 3.5 - 0.4.
        self.assertEqual(v["cluster_s"], 2.2)
        self.assertEqual((v["lost_rows"], v["missed"], v["false_failover"], v["double_active"]), (0, 0, 0, 0))
        self.assertEqual(v["ended_on"], "2")
        self.assertEqual(v["answered_by"], "evadrv-2")

    def test_an_acknowledged_row_missing_afterwards_is_lost(self):
        c = a_failover(self.cycle())
        c.present = [s for s in c.acked if s not in (17, 18)]
        v = c.verdict("app-exit-3", "failover")
        self.assertEqual(v["lost_rows"], 2)
        self.assertTrue(any("[17, 18]" in d for d in v["details"]), v["details"])

    def test_rows_that_cannot_be_read_back_are_a_miss(self):
        c = a_failover(self.cycle())
        c.present = None
        v = c.verdict("app-exit-3", "failover")
        self.assertIsNone(v["lost_rows"])
        self.assertEqual(v["missed"], 1)

    def test_the_applications_on_both_nodes_in_one_round_are_double_active(self):
        c = a_failover(self.cycle()).nodes(6.6, 4, 4, master1=0, master2=1)
        v = c.verdict("app-exit-3", "failover")
        self.assertEqual(v["double_active"], 1)
        self.assertTrue(any(d.startswith("double active") and "apps" in d for d in v["details"]), v["details"])

    def test_a_failover_that_ends_on_the_first_node_is_missed(self):
        c = a_failover(self.cycle())
        c.ended = "1"
        self.assertEqual(c.verdict("app-exit-3", "failover")["missed"], 1)

    def test_a_move_for_a_fault_that_should_stay_is_a_false_failover(self):
        c = self.cycle()
        c.ended = "1"
        c.rest(-0.5, True).nodes(-0.4, 4, 0).nodes(1.0, 3, 0).nodes(3.0, 4, 0).rest(5.0, True)
        self.assertEqual(c.verdict("app-exit-0", "stay")["false_failover"], 0)
        c.event(2.0, "failover from=1 to=2 reason=monitor-error")
        v = c.verdict("app-exit-0", "stay")
        self.assertEqual(v["false_failover"], 1)
        self.assertEqual(v["downtime_s"], 0.0)

    def test_a_recovery_in_place_needs_every_application_back(self):
        c = self.cycle()
        c.ended = "1"
        c.rest(-0.5, True).nodes(-0.4, 4, 0).rest(1.0, False).nodes(1.1, 0, 0).rest(4.0, True).nodes(4.1, 4, 0)
        v = c.verdict("dockerd-kill", "recover")
        self.assertEqual((v["downtime_s"], v["apps_down_s"], v["missed"], v["overhead_s"]), (4.0, 4.1, 0, 0.0))
        c = self.cycle()
        c.ended = "1"
        c.rest(-0.5, True).nodes(-0.4, 4, 0).rest(1.0, False).nodes(1.1, 0, 0).rest(4.0, True).nodes(4.1, 2, 0)
        v = c.verdict("dockerd-kill", "recover")
        self.assertIsNone(v["apps_down_s"])
        self.assertEqual(v["missed"], 1)


class ReportTest(unittest.TestCase):
    def test_the_guide_is_measured_and_eva_ha_judged(self):
        with tempfile.TemporaryDirectory() as tmp:
            base = {"driver": "clusterpro", "fault": "app-exit-3", "detect_s": 0.2, "downtime_s": 6.0, "overhead_s": 0.2,
                    "cluster_s": 2.0, "lost_rows": 0, "false_failover": 0, "missed": 0, "double_active": 0}
            rows = [
                dict(base, cycle=1, impl="eva"),
                dict(base, cycle=2, impl="guide", detect_s=2.0, downtime_s=9.0),
                # A miss is not compared: no downtime to speak of.
                dict(base, cycle=4, impl="guide", detect_s=None, downtime_s=0.0, missed=1),
                dict(base, cycle=5, impl="eva", fault="dockerd-freeze"),
                dict(base, cycle=6, impl="guide", fault="dockerd-freeze", detect_s=None, downtime_s=0.0, missed=1),
            ]
            src, dst = os.path.join(tmp, "cycles.jsonl"), os.path.join(tmp, "drill.json")
            write(src, [json.dumps(r) for r in rows])
            run = subprocess.run([sys.executable, os.path.join(HERE, "report.py"), src, dst], capture_output=True, text=True)
            self.assertEqual(run.returncode, 0, run.stdout)
            self.assertIn("10.0x", run.stdout)  # detection, guide / eva
            self.assertIn("1.5x", run.stdout)  # downtime
            self.assertRegex(run.stdout, r"dockerd-freeze +guide missed +guide missed")
            with open(dst, encoding="utf-8") as f:
                self.assertEqual(len(json.load(f)), 5)
            rows.append(dict(base, cycle=3, impl="eva", double_active=1))
            write(src, [json.dumps(r) for r in rows])
            run = subprocess.run([sys.executable, os.path.join(HERE, "report.py"), src, dst], capture_output=True, text=True)
            self.assertEqual(run.returncode, 1)
            self.assertIn("FAIL: cycle 3 clusterpro eva app-exit-3", run.stdout)
            self.assertEqual(run.stdout.count("FAIL:"), 1)


if __name__ == "__main__":
    unittest.main()
