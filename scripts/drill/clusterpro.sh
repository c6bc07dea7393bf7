#!/usr/bin/env bash
# The CLUSTERPRO contract driver of the failover drills: it plays CLUSTERPRO X for one
# failover group on a pair of drill nodes (scripts/drill-nodes.sh), so that eva-ha (or the
# guide's scripts) meets the cluster it was written for.
#   clusterpro.sh run PAIR IMPL HOME CTL
#       IMPL eva (eva-start, eva-stop, eva-genw) or guide (the guide's start.sh, stop.sh and
#       genw.sh as printed); the group starts on node HOME (1 or 2); CTL is a directory it
#       reports into and takes requests from. It runs until asked to stop:
#         touch CTL/move    a planned move to the other node (`clpgrp -m`)
#         touch CTL/stop    stop the group (`clpgrp -t`) and exit
#       and writes CTL/events (one line per step: "EPOCH EVENT key=value..."), CTL/active
#       (the node the group is active on, or "none"), each script run's output with the
#       host's time in front of each line (CTL/NN-start-N.log, NN-stop-N.log,
#       NN-monitor-N.log) and CTL/resources.log (drill-nodes.sh acquire and release).
# Settings (environment): CLP_MONITOR_DELAY (3 s), CLP_MONITOR_INTERVAL (1 s),
# CLP_EXEC_TIMEOUT (90 s), CLP_HB_TIMEOUT (0 s), CLP_GROUP (failover-eva),
# CLP_RESOURCE (exec-eva).
#
# What it models, from CLUSTERPRO X's documented behaviour for a failover group (servers
# node 1 then node 2 in its failover policy) holding a disk resource, a floating IP
# resource, an Exec resource and the guide's custom monitor:
# - Group activation on a server: the disk resource and the floating IP first
#   (drill-nodes.sh acquire: the shared disk mounted at /mnt/shared, the IP added with
#   IPaddr2), then the Exec resource's start script, run as root in an environment holding
#   only PATH and the CLP_* variables: CLP_EVENT (START for a group start and on the
#   destination of a manual move, FAILOVER on the destination of a failover), CLP_SERVER
#   (HOME on the group's first server, node 1, OTHER on the other), CLP_DISK=SUCCESS,
#   CLP_GROUPNAME, CLP_RESOURCENAME. The script's end is the resource's activation; a
#   non-zero status or the Exec resource's timeout (CLP_EXEC_TIMEOUT; its process group
#   killed) is an activation failure.
# - The custom monitor (the guide's settings): monitor timing "when active", target the
#   Exec resource, wait 3 s (CLP_MONITOR_DELAY) after the activation before starting the
#   script, asynchronous: the script is started once and its end, whatever its status, is
#   the monitor error; retry count 0; recovery action: fail the group over to the other
#   server (the guide leaves it to the system; failover is what EVA's HA needs).
# - When that end is acted on: at the monitor's next interval tick, not at once. The
#   script's end is noticed at the first tick (the script's start + k x CLP_MONITOR_INTERVAL,
#   k >= 1) at or after it ended (event monitor-exit, with that tick), then the error
#   (monitor-error) and the failover as below. This is an
#   assumption, not a documented fact: no text available to this project (the EVA guide's
#   custom monitor settings give no interval; NEC's Reference Guide could not be read)
#   says when CLUSTERPRO sees an asynchronous script's end. NEC's own
#   asynchronous custom monitor (EXPRESSCLUSTER/SCSI-PR, "Windows Setup.md", "Set
#   [Interval] to [1]" and "Set [Retry Count] to [0]") suggests a check each interval;
#   the default 1 s is that value, the one docs/clusterpro-reaction.md recommends.
#   CLP_MONITOR_INTERVAL=0 acts at once (the model before). See docs/clusterpro-reaction.md.
# - Failover after a monitor error: the monitor is stopped, the group deactivated on the
#   failing server (the Exec resource's stop script with CLP_EVENT=FAILOVER, then the
#   floating IP and the disk released), then activated on the other server with
#   CLP_EVENT=FAILOVER.
# - Manual move (`clpgrp -m`): monitor stopped, stop script (CLP_EVENT=START), release,
#   then activation on the other server with CLP_EVENT=START.
# - Server down: the heartbeat stand-in is the node container's state (`docker inspect`,
#   polled every 0.2 s): once the active node has not been running for CLP_HB_TIMEOUT s it
#   is down; nothing runs on it (its disk mount and IP went with it) and the group is
#   activated on the other server with CLP_EVENT=FAILOVER.
# - Activation failure on a server: the resources activated there are released (the Exec
#   resource that failed is not stopped: it never became active) and the group fails over
#   to the other server, once (failover threshold: one server each); when both failed the
#   group stays stopped.
# - Deactivation failure (stop script non-zero or past its timeout, or the disk that will
#   not unmount): CLUSTERPRO's default final action, "stop the cluster service and shut
#   down the OS", modelled as a power-off of the node (docker kill), after which the
#   failover goes on as for a server down.
# The CLP_* values are those of CLUSTERPRO X's Reference Guide for Exec resource scripts
# (START for a start or a move's destination, FAILOVER for a failover's destination and
# source; HOME/OTHER by the failover policy), from the vendor's manual as known, not from a
# text found beside this project: check them against the release in use.
# What it does not model: the real heartbeat's timeout (the driver knows at once; set
# CLP_HB_TIMEOUT to add one), network partitions and split-brain resolution, disk
# resource fsck and its own monitor, the process-name monitors, monitor recovery by
# restarting the resource on the same server, failback, the Exec resource's retries
# (0 here), and anything of WebUI or the alert log (clplogcmd is absent on the nodes).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
drill_nodes=$here/../drill-nodes.sh
readonly agent=/usr/local/lib/evadrv/agent.sh

monitor_delay=${CLP_MONITOR_DELAY:-3}
monitor_interval=${CLP_MONITOR_INTERVAL:-1}
exec_timeout=${CLP_EXEC_TIMEOUT:-90}
hb_timeout=${CLP_HB_TIMEOUT:-0}
group=${CLP_GROUP:-failover-eva}
resource=${CLP_RESOURCE:-exec-eva}

[[ $monitor_interval =~ ^[0-9]+([.][0-9]+)?$ ]] || {
  echo "clusterpro.sh: CLP_MONITOR_INTERVAL must be a number of seconds (0 or more)" >&2
  exit 2
}

ev() { printf '%s %s\n' "$EPOCHREALTIME" "$*" >>"$ctl/events"; }

# Puts the host's time in front of every line.
stamp() {
  local line
  while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done
}

alive() { [ "$(docker inspect -f '{{.State.Running}}' "$pair-$1" 2>/dev/null)" = true ]; }

server_of() { if [ "$1" = 1 ]; then echo HOME; else echo OTHER; fi; }

set_active() {
  active=$1
  printf '%s\n' "$1" >"$ctl/active.tmp"
  mv -f "$ctl/active.tmp" "$ctl/active"
}

# next_log WHAT N: sets log to the next script run's log file.
next_log() {
  runs=$((runs + 1))
  printf -v log '%s/%02d-%s-%s.log' "$ctl" "$runs" "$1" "$2"
}

# The master script's run time in a start or stop log: from its first line to its last
# (or to the end of the run when it never finished).
master_seconds() {
  awk '/EVA master: (checking services|stopping)/ && !b { b = $1 }
       /EVA master:/ { e = $1 }
       { last = $1 }
       END { if (!b) { print 0; exit } if (e <= b) e = last; printf "%.3f\n", e - b }' "$1"
}

# run_script start|stop N EVENT: the Exec resource's script on node N.
run_script() {
  local what=$1 n=$2 event=$3 log rc units wall
  next_log "$what" "$n"
  ev "$what-begin node=$n event=$event log=${log##*/}"
  docker exec "$pair-$n" "$agent" exec "$what" "$impl" "$exec_timeout" "$event" \
    "$(server_of "$n")" "$group" "$resource" 2>&1 | stamp >"$log"
  rc=${PIPESTATUS[0]}
  units=$(sed -n 's/^[0-9.]* EVADRV units //p' "$log" | tail -1)
  wall=$(sed -n 's/^[0-9.]* EVADRV wall //p' "$log" | tail -1)
  ev "$what-end node=$n rc=$rc wall=${wall:-0} units=${units:-0} master=$(master_seconds "$log")"
  return "$rc"
}

# next_tick START END: the first interval tick (START + k x interval, k >= 1) at or after
# END; END itself when the interval is 0.
next_tick() {
  awk -v s="$1" -v e="$2" -v i="$monitor_interval" 'BEGIN {
    if (i <= 0) { printf "%.3f", e; exit }
    k = int((e - s) / i); if (s + k * i < e) k++; if (k < 1) k = 1
    printf "%.3f", s + k * i }'
}

# The monitor.rc file: the script's status and the host time it ended.
start_monitor() {
  local n=$active log
  next_log monitor "$n"
  rm -f "$ctl/monitor.rc"
  (
    docker exec "$pair-$n" "$agent" monitor "$impl" "$last_event" "$(server_of "$n")" \
      "$group" "$resource" 2>&1 | stamp >"$log"
    rc=${PIPESTATUS[0]}
    printf '%s %s\n' "$rc" "$EPOCHREALTIME" >"$ctl/monitor.rc.tmp"
    mv -f "$ctl/monitor.rc.tmp" "$ctl/monitor.rc"
  ) &
  monitor_pid=$!
  monitor_node=$n
  monitor_started=$EPOCHREALTIME
  monitor_due=
  monitor_notice=
  ev "monitor-start node=$n log=${log##*/}"
}

stop_monitor() {
  monitor_due=
  monitor_notice=
  [ -n "$monitor_pid" ] || return 0
  if alive "$monitor_node"; then
    docker exec "$pair-$monitor_node" "$agent" monitor-stop >/dev/null 2>&1 || true
  fi
  for _ in $(seq 50); do
    kill -0 "$monitor_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$monitor_pid" 2>/dev/null || true
  wait "$monitor_pid" 2>/dev/null || true
  monitor_pid=
  rm -f "$ctl/monitor.rc"
  ev "monitor-stop node=$monitor_node"
}

release() {
  local n=$1
  if "$drill_nodes" release "$pair" "$n" >>"$ctl/resources.log" 2>&1; then
    ev "resources-released node=$n"
    return 0
  fi
  ev "release-failed node=$n"
  return 1
}

final_action() {
  ev "final-action node=$1 action=shutdown (power off)"
  docker kill "$pair-$1" >/dev/null 2>&1 || true
}

# activate N EVENT: 0 when the group is active on node N.
activate() {
  local n=$1 event=$2
  ev "activate-begin node=$n event=$event"
  if ! "$drill_nodes" acquire "$pair" "$n" >>"$ctl/resources.log" 2>&1; then
    ev "activate-failed node=$n what=resources"
    release "$n" || final_action "$n"
    return 1
  fi
  ev "resources-acquired node=$n"
  if ! run_script start "$n" "$event"; then
    ev "activate-failed node=$n what=exec"
    release "$n" || final_action "$n"
    return 1
  fi
  last_event=$event
  set_active "$n"
  monitor_due=$(awk -v t="$EPOCHREALTIME" -v d="$monitor_delay" 'BEGIN { printf "%.3f", t + d }')
  ev "active node=$n"
}

# deactivate N EVENT: the group off node N (alive); a failure ends in the final action.
deactivate() {
  local n=$1 event=$2
  stop_monitor
  set_active none
  ev "deactivate-begin node=$n event=$event"
  if ! run_script stop "$n" "$event"; then
    ev "deactivate-failed node=$n what=exec"
    final_action "$n"
    return 1
  fi
  if ! release "$n"; then
    final_action "$n"
    return 1
  fi
  ev "deactivated node=$n"
}

# failover FROM REASON: the group from node FROM to the other one, with CLP_EVENT=FAILOVER.
failover() {
  local from=$1 to=$((3 - $1))
  ev "failover from=$from to=$to reason=$2"
  if alive "$from"; then
    deactivate "$from" FAILOVER || true
  else
    stop_monitor
    set_active none
  fi
  bring_up "$to" FAILOVER "$from"
}

# bring_up N EVENT OTHER: activate on N, else (once) on OTHER when it is alive.
bring_up() {
  local n=$1 event=$2 other=$3
  if alive "$n" && activate "$n" "$event"; then
    return 0
  fi
  if [ "$other" != none ] && alive "$other" && activate "$other" FAILOVER; then
    return 0
  fi
  set_active none
  ev "group-stopped reason=no-server-could-activate"
}

cmd_run() {
  [ "$#" -eq 4 ] || {
    echo "usage: clusterpro.sh run PAIR IMPL HOME CTL" >&2
    exit 2
  }
  pair=$1 impl=$2 ctl=$4
  local home=$3 down_since=
  runs=0 monitor_pid='' monitor_due='' monitor_node='' monitor_started='' monitor_notice=''
  last_event=START
  mkdir -p "$ctl"
  set_active none
  trap 'stop_monitor; exit 143' TERM
  ev "cluster-start pair=$pair impl=$impl home=$home exec_timeout=$exec_timeout monitor_delay=$monitor_delay monitor_interval=$monitor_interval"
  bring_up "$home" START none
  while :; do
    if [ -e "$ctl/stop" ]; then
      rm -f "$ctl/stop"
      if [ "$active" != none ] && alive "$active"; then deactivate "$active" START || true; fi
      ev "cluster-stop"
      exit 0
    fi
    if [ "$active" != none ]; then
      if ! alive "$active"; then
        [ -n "$down_since" ] || down_since=$EPOCHREALTIME
        if awk -v a="$down_since" -v b="$EPOCHREALTIME" -v h="$hb_timeout" 'BEGIN { exit !(b - a >= h) }'; then
          ev "node-down node=$active"
          down_since=
          failover "$active" server-down
          continue
        fi
      else
        down_since=
      fi
      if [ -e "$ctl/move" ]; then
        rm -f "$ctl/move"
        local from=$active
        ev "move-begin from=$from to=$((3 - from))"
        if deactivate "$from" START; then
          bring_up $((3 - from)) START "$from"
        else
          bring_up $((3 - from)) FAILOVER none
        fi
        ev "move-end active=$active"
        continue
      fi
      if [ -n "$monitor_pid" ] && [ -e "$ctl/monitor.rc" ]; then
        local rc ended
        read -r rc ended <"$ctl/monitor.rc"
        if [ -z "$monitor_notice" ]; then
          monitor_notice=$(next_tick "$monitor_started" "${ended:-$EPOCHREALTIME}")
          ev "monitor-exit node=$active rc=$rc tick=$monitor_notice"
        fi
        if awk -v d="$monitor_notice" -v t="$EPOCHREALTIME" 'BEGIN { exit !(t >= d) }'; then
          monitor_notice=
          sleep 0.3 # a node that died takes its docker exec with it: heartbeat first
          if alive "$active"; then
            ev "monitor-error node=$active rc=$rc"
            failover "$active" monitor-error
          fi
          continue
        fi
      fi
      if [ -n "$monitor_due" ] && awk -v d="$monitor_due" -v t="$EPOCHREALTIME" 'BEGIN { exit !(t >= d) }'; then
        start_monitor
      fi
    fi
    sleep 0.2
  done
}

case ${1:-} in
  run)
    shift
    cmd_run "$@"
    ;;
  *)
    echo "usage: clusterpro.sh run PAIR IMPL HOME CTL" >&2
    exit 2
    ;;
esac
