#!/usr/bin/env bash
# The failover drills' helper inside a drill node, installed by scripts/drill.sh as
# /usr/local/lib/evadrv/agent.sh (beside the guide's scripts as printed, guide-*.sh). What
# CLUSTERPRO itself would do on the server, the driver (scripts/drill/clusterpro.sh) asks of
# it through `docker exec`:
#   agent.sh exec start|stop IMPL TIMEOUT EVENT SERVER GROUP RESOURCE
#       the Exec resource's start or stop script as CLUSTERPRO runs it: an empty
#       environment but PATH and the CLP_* variables, killed (its process group) after
#       TIMEOUT s (the Exec resource's timeout). IMPL eva: /usr/local/sbin/eva-start or
#       eva-stop; guide: the guide's start.sh or stop.sh as printed. Prints the script's
#       output, then "EVADRV wall SECONDS" (the script's run time, as seen here),
#       "EVADRV units SECONDS" (the time the units spent starting or stopping
#       in this run: the union of the intervals from systemd's "Starting"/"Stopping" to
#       its "Started"/"Stopped" (or failed) messages in the journal, since the script
#       began) and "EVADRV rc N"; exits N.
#   agent.sh monitor IMPL EVENT SERVER GROUP RESOURCE
#       the custom monitor's script (eva-genw, or the guide's genw.sh), in a session of its
#       own whose id is kept in /run/evadrv-monitor.pid; exits with the monitor's status.
#   agent.sh monitor-stop   SIGTERM to the monitor's session, SIGKILL after 5 s.
#   agent.sh units start|stop SINCE [UNTIL]
#                           the seconds the units spent starting or stopping from epoch
#                           SINCE (to UNTIL, default now), as `exec` prints them (for the
#                           Pacemaker driver, scripts/drill/pacemaker.sh, whose agent runs
#                           under pacemaker-execd)
#   agent.sh probe          one line of what runs here, by process, whatever the engine
#                           says: "postgres=N master=N apps=N engine=STATE" (postgres
#                           processes, the master's REST stand-in eva-rest.py, application
#                           container processes (their PID 1: the stand-in's sh with its
#                           TERM trap), docker.service's state).
set -uo pipefail

readonly lib=/usr/local/lib/evadrv pidfile=/run/evadrv-monitor.pid
readonly units=(docker.service containerd.service mongod.service postgresql-9.5.service)
readonly path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Seconds the units spent starting (Starting... to Started or failed) or stopping
# (Stopping... to Stopped, deactivated or failed) since epoch $2, from systemd's messages in
# the journal (the units' own timestamps are gone once an inactive unit is unloaded): the
# length of the union of those intervals; $3: until that epoch (0: now). Both kinds count
# for either action ($1, start|stop): a failed start's rollback stops the units, and that
# time is theirs, not the script's.
unit_seconds() {
  journalctl -o json --no-pager --since "@${2%.*}" _PID=1 2>/dev/null | python3 -c '
import json, sys
since, until, units = float(sys.argv[2]), float(sys.argv[3]), set(sys.argv[4:])
begin = {"7d4958e842da4a758f6c1cdc7b36dcc5": "start", "de5b426a63be47a7b6ac3eaac82e2f6f": "stop"}
end = {"start": {"39f53479d3a045ac8e11786248231fbf", "be02cf6855d2428ba40df7e9d022f03d"},
       "stop": {"9d1aaa27d60140bd96365438aad20286", "7ad2d189f7e94e70a38c781354912448",
                "be02cf6855d2428ba40df7e9d022f03d"}}
open_at, spans = {}, []
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    unit, mid, t = e.get("UNIT"), e.get("MESSAGE_ID"), int(e["__REALTIME_TIMESTAMP"]) / 1e6
    if unit not in units or t < since or (until and t > until):
        continue
    if mid in begin and unit not in open_at:
        open_at[unit] = (begin[mid], t)
    elif unit in open_at and mid in end[open_at[unit][0]]:
        spans.append((open_at.pop(unit)[1], t))
total, cs, ce = 0.0, None, None
for b, f in sorted(spans):
    if ce is None or b > ce:
        if ce is not None:
            total += ce - cs
        cs, ce = b, f
    else:
        ce = max(ce, f)
if ce is not None:
    total += ce - cs
print("%.3f" % total)
' "$1" "$2" "${3:-0}" "${units[@]}"
}

script_of() {
  case $1:$2 in
    eva:start) echo /usr/local/sbin/eva-start ;;
    eva:stop) echo /usr/local/sbin/eva-stop ;;
    eva:monitor) echo /usr/local/sbin/eva-genw ;;
    guide:start) echo "$lib/guide-start.sh" ;;
    guide:stop) echo "$lib/guide-stop.sh" ;;
    guide:monitor) echo "$lib/guide-genw.sh" ;;
    *) return 1 ;;
  esac
}

# clp_env EVENT SERVER GROUP RESOURCE: sets env, what CLUSTERPRO gives a script (no
# subshell: `exec setsid -w` must not inherit a child of ours to wait for).
clp_env() {
  env=("PATH=$path" "CLP_EVENT=$1" "CLP_SERVER=$2" CLP_DISK=SUCCESS
    "CLP_GROUPNAME=$3" "CLP_RESOURCENAME=$4" EVA_DIR=/home/eva/eva-master)
}

cmd_exec() {
  local what=$1 impl=$2 limit=$3 script since rc
  script=$(script_of "$impl" "$what") || exit 2
  since=$EPOCHREALTIME
  local -a env
  clp_env "$4" "$5" "$6" "$7"
  cd / || exit 1
  timeout -k 5 "$limit" env -i "${env[@]}" sh -c 'exec "$@" 2>&1' sh "$script" </dev/null
  rc=$?
  awk -v a="$since" -v b="$EPOCHREALTIME" 'BEGIN { printf "EVADRV wall %.3f\n", b - a }'
  echo "EVADRV units $(unit_seconds "$what" "$since")"
  echo "EVADRV rc $rc"
  exit "$rc"
}

cmd_monitor() {
  local impl=$1 script
  script=$(script_of "$impl" monitor) || exit 2
  wait # script_of's subshell reaped before the exec
  local -a env
  clp_env "$2" "$3" "$4" "$5"
  cd / || exit 1
  # shellcheck disable=SC2016 # expanded by the session's sh
  exec setsid -w sh -c 'echo $$ >"$0"; exec env -i "$@" 2>&1' "$pidfile" "${env[@]}" "$script" </dev/null
}

cmd_monitor_stop() {
  local sid i
  sid=$(cat "$pidfile" 2>/dev/null) || exit 0
  kill -TERM -- "-$sid" 2>/dev/null || { rm -f "$pidfile"; exit 0; }
  for i in $(seq 50); do
    kill -0 -- "-$sid" 2>/dev/null || break
    sleep 0.1
  done
  [ "$i" -lt 50 ] || kill -KILL -- "-$sid" 2>/dev/null
  rm -f "$pidfile"
}

cmd_probe() {
  local pg master apps engine
  pg=$(pgrep -xc postgres)
  master=$(pgrep -fc 'eva-rest[.]py')
  apps=$(pgrep -fc 'trap "exit 0" TERM')
  engine=$(systemctl is-active docker.service)
  echo "postgres=$pg master=$master apps=$apps engine=$engine"
}

sub=${1:-}
shift || true
case $sub in
  exec) cmd_exec "$@" ;;
  monitor) cmd_monitor "$@" ;;
  monitor-stop) cmd_monitor_stop ;;
  units)
    [[ "${1:-}" == start || "${1:-}" == stop ]] && [ "$#" -ge 2 ] || exit 2
    unit_seconds "$1" "$2" "${3:-0}"
    ;;
  probe) cmd_probe ;;
  *)
    echo "usage: agent.sh exec|monitor|monitor-stop|units|probe ..." >&2
    exit 2
    ;;
esac
