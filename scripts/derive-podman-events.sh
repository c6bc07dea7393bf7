#!/usr/bin/env bash
# Derives, from the died lines recorded on podman 4.3.1 (tests/data/podman-events.jsonl),
# the same deaths as the podman versions RHEL ships would print them with
# `podman events --filter type=container --filter event=died --format json`, written from
# containers/podman's source at these tags (see tests/data/README.md, "Podman by version"):
#
#   tests/data/podman-events-v1.6.4.jsonl  1.5 – 2.1: v1.6.4 libpod/events/config.go
#       `type Event` (no Details), printed by pkg/adapter/runtime.go `Events` →
#       (*Event).ToJSONString = json.Marshal: ContainerExitCode (int, omitempty), ID, Image,
#       Name, Status, Time (time.Time: RFC 3339 text), Type. No Attributes key.
#   tests/data/podman-events-v4.2.0.jsonl  2.2 – 4.2: v4.2.0 libpod/events/config.go adds
#       `network`, `health_status` (both omitempty) and the embedded Details{ID, Attributes}
#       (its ID shadowed by Event.ID); libpod/events.go `newContainerExitedEvent` sets no
#       Details before commit d759576ab3 (v4.3.0): `"Attributes":null`.
#   tests/data/podman-events-v5.7.0.jsonl  5.x: v5.7.0 cmd/podman/system/events.go, its own
#       `type Event` filled by `newEventFromLibpodEvent`: ContainerExitCode (*int, set for
#       every died event by libpod/events.go, so 0 is printed), ID, Image, Name, Status,
#       `time` (Unix seconds), `timeNano`, Type, then Details{ContainerInspectData, PodID
#       (omitempty), Attributes (the labels)}.
#
# Each keeps the recorded container, id, image, name, exit code, time and labels; only the
# shape changes. The 1.6.4 and 4.2.0 lines print Time as a host in Japan would: Go's
# time.Time marshals in the time's location, time.Now()'s is Local (TZ=Asia/Tokyo: +09:00). Usage: scripts/derive-podman-events.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - <<'PY'
import json
from datetime import datetime, timedelta, timezone

src = "tests/data/podman-events.jsonl"
lines = [json.loads(l) for l in open(src, encoding="utf-8") if l.strip()]


def go_json(obj):
    # json.Marshal: compact, struct fields in declaration order, map keys sorted.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def unix_ns(text):
    # Go's RFC3339Nano as podman 4.3.1 printed it here: always UTC ("Z"), the fraction
    # with trailing zeros dropped.
    whole, frac = text.rstrip("Z").split(".")
    secs = int(datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
    return secs, secs * 1_000_000_000 + int(frac.ljust(9, "0"))


def base(e):
    out = {}
    if e.get("ContainerExitCode"):
        out["ContainerExitCode"] = e["ContainerExitCode"]
    for k in ("ID", "Image", "Name", "Status"):
        out[k] = e[k]
    return out


def jst(text):
    whole, frac = text.rstrip("Z").split(".")
    t = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return (t + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S") + "." + frac + "+09:00"


v1, v4, v5 = [], [], []
for e in lines:
    assert e["Status"] == "died" and e["Type"] == "container", e
    a = base(e)
    a["Time"] = jst(e["Time"])
    a["Type"] = e["Type"]
    v1.append(a)
    b = dict(a)
    b["Attributes"] = None
    v4.append(b)
    secs, ns = unix_ns(e["Time"])
    c = {"ContainerExitCode": e.get("ContainerExitCode", 0)}
    c.update((k, e[k]) for k in ("ID", "Image", "Name", "Status"))
    c["time"] = secs
    c["timeNano"] = ns
    c["Type"] = e["Type"]
    c["Attributes"] = e["Attributes"]
    v5.append(c)

for name, rows in (("v1.6.4", v1), ("v4.2.0", v4), ("v5.7.0", v5)):
    with open(f"tests/data/podman-events-{name}.jsonl", "w", encoding="utf-8") as f:
        f.writelines(go_json(r) + "\n" for r in rows)
PY
