#!/usr/bin/env bash
# The Pacemaker driver of the failover drills: a real two-node Corosync/Pacemaker cluster
# on a pair of drill nodes (scripts/drill-nodes.sh cluster) runs one resource group with
# eva-ha's OCF agent, ocf:eva-ha:eva-master, and this script plays the administrator and
# reports what the cluster does, with the same interface and the same records as the
# CLUSTERPRO driver (scripts/drill/clusterpro.sh), so that scripts/drill.sh and
# scripts/drill/verdict.py judge both alike.
#   pacemaker.sh run PAIR IMPL HOME CTL
#       IMPL must be eva (the guide's scripts have no Pacemaker form); the group starts on
#       node HOME (1 or 2); CTL is a directory it reports into and takes requests from. It
#       runs until asked to stop:
#         touch CTL/move    a planned move to the other node: `crm resource move eva
#                           NODE`, and once the move is over (the group active again,
#                           wherever the cluster put it) `crm resource clear eva`: what an
#                           administrator does to move one group (`crm node standby`
#                           is for taking a node out for maintenance, with all it runs;
#                           the clear keeps the move from pinning the group there)
#         touch CTL/stop    stop the group (`crm resource stop eva`), wait until no member
#                           runs anywhere, and exit
#       and writes CTL/events (one line per step: "EPOCH EVENT key=value...", the events of
#       clusterpro.sh), CTL/active (the node the group is active on, or "none"), each
#       node's Pacemaker log excerpt CTL/pacemaker-N.log and every eva-master action's
#       output CTL/nN-OP-PID.log (scripts/drill/pacemaker-log.py), the per-node records
#       CTL/ops-N.log, and CTL/cluster.log (the cluster's set-up, configuration, status).
# Settings (environment): PCMK_MONITOR_INTERVAL (10s), PCMK_MIGRATION_THRESHOLD (1),
# PCMK_STICKINESS (100), PCMK_STOP_WAIT (120 s, for CTL/stop), PCMK_GROUP (eva).
#
# The cluster (what an administrator would set up for EVA's master on two servers):
# - Corosync knet, votequorum two_node (the survivor of a two-node cluster keeps quorum),
#   no-quorum-policy left at its default (stop); stonith-enabled=false: there is no fencing
#   device for containers, so a node that left the membership is taken as down ("blind
#   faith") and its resources are started on the survivor at once.
# - Group eva, started in this order and stopped in reverse: eva-disk
#   (ocf:heartbeat:Filesystem device=/shared-disk directory=/mnt/shared fstype=none
#   options=bind: the shared disk's bind mount, as drill-nodes.sh acquire does it; monitor
#   every 20 s), eva-vip (ocf:heartbeat:IPaddr2, the floating IP /24 on eth0; monitor every
#   10 s), eva-master (ocf:eva-ha:eva-master, no parameters: /etc/eva-ha/eva-ha.toml, as the
#   drill writes it; start and stop timeouts 1800 s and monitor timeout 60 s as its
#   meta-data advises, its own deadlines (script_timeout) fit inside them; monitor every
#   PCMK_MONITOR_INTERVAL: it is cheap, a watcher started by start keeps the container
#   deaths for it).
# - resource-stickiness PCMK_STICKINESS on every member, so a group that failed over stays
#   where it is when the other node comes back (no failback, like CLUSTERPRO's default);
#   migration-threshold=PCMK_MIGRATION_THRESHOLD (1): the first failed monitor (or any
#   failed action) of a member bans the group from that node and it fails over, as
#   CLUSTERPRO's monitor does on an error. Pacemaker's default (restart in place, fail over
#   only after INFINITY failures) is a valid alternative that the drill does not measure.
#   A failed start is fatal on that node (start-failure-is-fatal, the default).
# - Each run starts clean: leftover move constraints cleared (`crm resource clear`), fail
#   counts and history cleaned up (`crm resource cleanup`), a location constraint eva-home
#   (score 100 for HOME) for the start, deleted once the group is active there (it then has
#   no preferred node but where it runs).
# Events, from the nodes' Pacemaker logs (the time of each is Pacemaker's own log time
# stamp, not when this script read it), with the resources' names:
#   activate-begin node=N      the start of eva-disk asked on N (the group's first member)
#   start-begin / start-end node=N rc=R wall=S units=S master=S
#                              eva-master's start on N; wall: the action's run time
#                              (Pacemaker's times of its start and result); units: the
#                              seconds the systemd
#                              units spent starting in it (node-agent.sh units, from the
#                              node's journal), master: the master script's run time (from
#                              eva-ha's own lines in the action's output)
#   active node=N              eva-master started on N (the whole group is started)
#   monitor-start node=N       eva-master's recurring monitor asked for on N
#   monitor-error node=N rsc=R rc=C
#                              a recurring monitor of a member failed (Pacemaker's time of
#                              the result: detection is at most one interval after the
#                              fault), or eva-master's watcher told the cluster of a
#                              failure at once (`crm_resource --fail`: an asyncmon result,
#                              "Simulated failure", the moment the watcher knows)
#   failcount node=N rsc=R value=V
#                              eva-master's fail count on N once the group is active on
#                              the other node after a failover (crm_failcount --query)
#   stop-begin / stop-end node=N ...  eva-master's stop on N, as for the start
#   activate-failed node=N what=exec|resources rsc=R   a member's start failed on N
#   resources-released node=N  eva-disk stopped on N (the IP went before it)
#   stop-failed node=N rsc=R   a member's stop failed: without fencing Pacemaker blocks it
#   node-down node=N           the other node's controller saw N leave the membership (the
#                              cluster's own detection: Corosync's token timeout, ~6 s
#                              after a power loss here)
#   failover from=N to=M reason=monitor-error|server-down|start-failed
#                              the group leaves N unasked: the first stop of a member on
#                              the active node, or its node down
# and from this script: cluster-start, node-stopped node=N (its container stopped running,
# polled every 0.2 s: for the record, not a detection),
# move-begin, move-end, group-stopped (the group stopped everywhere: asked, or nothing
# began for 30 s after a release), cluster-stop.
# What it does not model or measure: fencing (none: a node that is lost but still runs
# would make a split brain; the drills only kill nodes whole), network partitions,
# Pacemaker's restart in place, failure-timeout (fail counts are cleaned up each run),
# failback, maintenance mode, the guide's scripts. A node powered off and started again
# (drill.sh restore_node) has Corosync and Pacemaker disabled at boot: run starts them
# (drill-nodes.sh cluster) and waits until both nodes are online; a node that comes back
# while a run goes on is not read again (the drills start nodes again between runs only).
# The monitor-error time is Pacemaker's: a fault the watcher sees (a container death, an
# engine that does not answer or is down for good) reaches it at once through the
# watcher's `crm_resource --fail`; any other (a unit stopped, a watcher that could not
# tell) at the next monitor, up to one monitor interval (10 s) later.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
drill_nodes=$here/../drill-nodes.sh
readonly agent=/usr/local/lib/evadrv/agent.sh pcmk_log=/var/log/pacemaker/pacemaker.log

monitor_interval=${PCMK_MONITOR_INTERVAL:-10s}
migration_threshold=${PCMK_MIGRATION_THRESHOLD:-1}
stickiness=${PCMK_STICKINESS:-100}
stop_wait=${PCMK_STOP_WAIT:-120}
group=${PCMK_GROUP:-eva}
readonly disk_rsc=$group-disk vip_rsc=$group-vip master_rsc=$group-master

# ev [EPOCH=T] EVENT...: one line of CTL/events, at T (default now).
ev() {
  local t=$EPOCHREALTIME
  if [[ "$1" == EPOCH=* ]]; then
    t=${1#EPOCH=}
    shift
  fi
  printf '%s %s\n' "$t" "$*" >>"$ctl/events"
}

alive() { [ "$(docker inspect -f '{{.State.Running}}' "$pair-$1" 2>/dev/null)" = true ]; }

node_name() { printf '%s-%s\n' "$pair" "$1"; }

set_active() {
  active=$1
  printf '%s\n' "$1" >"$ctl/active.tmp"
  mv -f "$ctl/active.tmp" "$ctl/active"
}

# failcount N: eva-master's fail count on node N, as the cluster has it ("-" when it
# cannot say).
failcount() {
  local n value
  n=$(any_node) || { echo -; return; }
  value=$(docker exec "$pair-$n" crm_failcount --query --resource "$master_rsc" --node "$(node_name "$1")" 2>/dev/null |
    sed -n 's/.*value=\([^ ]*\).*/\1/p')
  echo "${value:--}"
}

# A live node to ask the cluster from (1 first).
any_node() {
  local n
  for n in 1 2; do
    if alive "$n"; then
      echo "$n"
      return 0
    fi
  done
  return 1
}

# crm ARGS... on a live node, its output into CTL/cluster.log.
crm_do() {
  local n
  n=$(any_node) || return 1
  printf '%s crm %s (on node %s)\n' "$EPOCHREALTIME" "$*" "$n" >>"$ctl/cluster.log"
  docker exec "$pair-$n" crm "$@" >>"$ctl/cluster.log" 2>&1
}

# The cluster's configuration of the group (crmsh syntax), idempotent: `load update`.
configure() {
  local vip n
  vip=$("$drill_nodes" ip "$pair") || return 1
  n=$(any_node) || return 1
  docker exec -i "$pair-$n" sh -c 'cat >/run/evadrv-cib.crm' <<EOF
property stonith-enabled=false
rsc_defaults rsc-options: resource-stickiness=$stickiness migration-threshold=$migration_threshold
primitive $disk_rsc ocf:heartbeat:Filesystem \\
  params device=/shared-disk directory=/mnt/shared fstype=none options=bind \\
  op start timeout=60s interval=0 op stop timeout=60s interval=0 \\
  op monitor interval=20s timeout=40s
primitive $vip_rsc ocf:heartbeat:IPaddr2 \\
  params ip=$vip cidr_netmask=24 nic=eth0 \\
  op start timeout=20s interval=0 op stop timeout=20s interval=0 \\
  op monitor interval=10s timeout=20s
primitive $master_rsc ocf:eva-ha:eva-master \\
  op start timeout=1800s interval=0 op stop timeout=1800s interval=0 \\
  op monitor interval=$monitor_interval timeout=60s
group $group $disk_rsc $vip_rsc $master_rsc meta target-role=Stopped
EOF
  crm_do configure load update /run/evadrv-cib.crm
}

# follow N: node N's Pacemaker log from its present end, read by pacemaker-log.py into
# CTL/ops-N.log (records) and CTL's logs, until stop_followers (or the node stops). The
# tail in the node keeps its pid in /run/evadrv-follow.pid: killing a `docker exec` client
# does not end what it runs.
follow() {
  local n=$1 size
  size=$(docker exec "$pair-$n" stat -c %s "$pcmk_log" 2>/dev/null) || size=0
  # shellcheck disable=SC2016 # expanded in the node
  docker exec "$pair-$n" sh -c 'echo $$ >/run/evadrv-follow.pid; exec tail -c "+$1" -F "$2" 2>/dev/null' \
    sh "$((size + 1))" "$pcmk_log" | python3 -u "$here/pacemaker-log.py" "$n" "$ctl" >>"$ctl/ops-$n.log" &
}

stop_followers() {
  local n
  for n in 1 2; do
    # shellcheck disable=SC2016 # expanded in the node
    ! alive "$n" || docker exec "$pair-$n" sh -c 'kill "$(cat /run/evadrv-follow.pid)"; rm -f /run/evadrv-follow.pid' 2>/dev/null || true
  done
  wait 2>/dev/null || true
}

# units start|stop N SINCE UNTIL: the units' seconds on node N (0 when it cannot say).
units() {
  local s
  s=$(docker exec "$pair-$2" "$agent" units "$1" "$3" "$4" 2>/dev/null) || s=0
  echo "${s:-0}"
}

# When the group leaves node N unasked.
leaving() {
  local n=$1 t=$2 reason
  [ -z "$moving" ] && [ -z "$stopping" ] && [ "$failover_from" != "$n" ] || return 0
  reason=${last_failure[n]:-unknown}
  failover_from=$n
  ev "EPOCH=$t" "failover from=$n to=$((3 - n)) reason=$reason"
}

# Seconds from epoch $1 to $2: an action's run time, as Pacemaker logged its start and end.
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# One record of node N (pacemaker-log.py's): the events it makes.
on_record() {
  local n=$1 t=$2 kind=$3 op=$4 rsc=$5 rc=${6:-} master=${7:-} log=${8:-} text=${9:-}
  case $kind:$op in
    begin:start)
      if [ "$rsc" = "$disk_rsc" ]; then
        where=$n
        ev "EPOCH=$t" "activate-begin node=$n"
      fi
      if [ "$rsc" = "$master_rsc" ]; then
        begun[n]=$t
        ev "EPOCH=$t" "start-begin node=$n"
      fi
      ;;
    result:start)
      if [ "$rsc" = "$master_rsc" ]; then
        ev "EPOCH=$t" "start-end node=$n rc=$rc wall=$(seconds_between "${begun[n]:-$t}" "$t") units=$(units start "$n" "${begun[n]:-$t}" "$t") master=$master log=$log"
      fi
      if [ "$rc" != 0 ]; then
        last_failure[n]=start-failed
        local what=resources
        [ "$rsc" != "$master_rsc" ] || what="exec"
        ev "EPOCH=$t" "activate-failed node=$n what=$what rsc=$rsc rc=$rc ($text)"
      elif [ "$rsc" = "$master_rsc" ]; then
        [ -z "$failover_from" ] || ev "failcount node=$failover_from rsc=$master_rsc value=$(failcount "$failover_from")"
        failover_from=''
        set_active "$n"
        ev "EPOCH=$t" "active node=$n"
        if [ -n "$home_constraint" ]; then
          crm_do configure delete eva-home || true
          home_constraint=''
        fi
      fi
      ;;
    begin:monitor)
      [ "$rsc" != "$master_rsc" ] || ev "EPOCH=$t" "monitor-start node=$n"
      ;;
    result:monitor | result:asyncmon)
      # asyncmon: the failure eva-master's watcher told the cluster of at once
      # (crm_resource --fail: the controller's "Simulated failure", an asyncmon result).
      if [ "$rc" != 0 ]; then
        last_failure[n]=monitor-error
        ev "EPOCH=$t" "monitor-error node=$n rsc=$rsc rc=$rc ($text)"
      fi
      ;;
    begin:stop)
      if [ "$n" = "$active" ] || [ "$n" = "$where" ]; then
        leaving "$n" "$t"
      fi
      if [ "$rsc" = "$master_rsc" ]; then
        begun[n]=$t
        [ "$active" != "$n" ] || set_active none
        ev "EPOCH=$t" "stop-begin node=$n"
      fi
      ;;
    result:stop)
      if [ "$rsc" = "$master_rsc" ]; then
        ev "EPOCH=$t" "stop-end node=$n rc=$rc wall=$(seconds_between "${begun[n]:-$t}" "$t") units=$(units stop "$n" "${begun[n]:-$t}" "$t") master=$master log=$log"
      fi
      if [ "$rc" != 0 ]; then
        ev "EPOCH=$t" "stop-failed node=$n rsc=$rsc rc=$rc ($text)"
      elif [ "$rsc" = "$disk_rsc" ]; then
        [ "$where" != "$n" ] || where=none
        released_at=$EPOCHREALTIME
        ev "EPOCH=$t" "resources-released node=$n"
      fi
      ;;
    peer:*) # op: the node's name, rsc: lost or member
      local m=${op##*-}
      [[ "$m" == [12] ]] || return 0
      if [ "$rsc" = lost ]; then
        node_down "$m" "$t"
      else
        down[m]=''
      fi
      ;;
    result:probe)
      # A probe finding a member running where the cluster did not start it.
      if [ "$rc" != 7 ] && [ "$rc" != 0 ]; then
        ev "EPOCH=$t" "probe-error node=$n rsc=$rsc rc=$rc ($text)"
      fi
      ;;
  esac
}

# The records of both nodes that arrived since the last call, in the order of their times.
read_records() {
  local n line lines=()
  local -a f
  : >"$ctl/records.tmp"
  for n in 1 2; do
    [ -e "$ctl/ops-$n.log" ] || continue
    mapfile -t lines < <(tail -n "+$((seen[n] + 1))" "$ctl/ops-$n.log")
    seen[n]=$((seen[n] + ${#lines[@]}))
    for line in "${lines[@]}"; do printf '%s %s\n' "$n" "$line"; done >>"$ctl/records.tmp"
  done
  sort -s -n -k2,2 -o "$ctl/records.tmp" "$ctl/records.tmp"
  while IFS= read -r line; do
    read -r -a f <<<"$line"
    on_record "${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}" "${f[4]}" "${f[5]:-}" "${f[6]:-}" "${f[7]:-}" "${f[*]:8}"
  done <"$ctl/records.tmp"
}

# 0 when no member of the group is active on any node (crm_mon's view).
group_stopped() {
  local n xml
  n=$(any_node) || return 0
  xml=$(docker exec "$pair-$n" crm_mon -1 --output-as=xml 2>/dev/null) || return 1
  grep -q "<resource id=\"$master_rsc\"" <<<"$xml" || return 1
  ! grep -E "<resource id=\"($disk_rsc|$vip_rsc|$master_rsc)\"" <<<"$xml" | grep -q 'active="true"'
}

# node-down N T: node N left the cluster (its peer's controller says so, at T).
node_down() {
  local n=$1 t=$2
  [ -z "${down[n]}" ] || return 0
  down[n]=1
  ev "EPOCH=$t" "node-down node=$n"
  if [ "$n" = "$active" ] || [ "$n" = "$where" ]; then
    last_failure[n]=server-down
    leaving "$n" "$t"
    [ "$active" != "$n" ] || set_active none
    where=none
  fi
}

# The containers' state, polled: a node's container that stopped running (the membership
# notices it later, node_down).
check_nodes() {
  local n
  for n in 1 2; do
    if alive "$n"; then
      stopped[n]=''
    elif [ -z "${stopped[n]}" ]; then
      stopped[n]=1
      ev "node-stopped node=$n (its container is not running)"
    fi
  done
}

stop_group() {
  local t0=$SECONDS
  stopping=1
  crm_do resource stop "$group" || true
  while [ $((SECONDS - t0)) -lt "$stop_wait" ]; do
    read_records
    if group_stopped; then
      sleep 1 # the last records
      read_records
      set_active none
      ev "group-stopped reason=asked"
      return 0
    fi
    sleep 0.5
  done
  read_records
  ev "group-stop-failed reason=members-still-active"
  return 1
}

finish() {
  local rc=$1 n
  n=$(any_node) && docker exec "$pair-$n" crm_mon -1 -r -f >>"$ctl/cluster.log" 2>&1
  stop_followers
  rm -f "$ctl/records.tmp"
  ev "cluster-stop"
  exit "$rc"
}

cmd_run() {
  [ "$#" -eq 4 ] || {
    echo "usage: pacemaker.sh run PAIR IMPL HOME CTL" >&2
    exit 2
  }
  pair=$1 ctl=$4
  local impl=$2 home=$3 n
  [ "$impl" = eva ] || {
    echo "pacemaker.sh: IMPL must be eva (the guide's scripts have no Pacemaker form), not '$impl'" >&2
    exit 2
  }
  [[ "$home" == [12] ]] || {
    echo "pacemaker.sh: HOME is 1 or 2" >&2
    exit 2
  }
  active=none where=none moving='' move_to='' stopping='' failover_from='' home_constraint=''
  released_at=''
  local -a seen=(0 0 0) down=('' '' '') stopped=('' '' '') begun=('' '' '') last_failure=('' '' '')
  mkdir -p "$ctl"
  set_active none
  trap 'stop_followers; exit 143' TERM
  ev "cluster-start pair=$pair impl=$impl home=$home monitor_interval=$monitor_interval migration_threshold=$migration_threshold stickiness=$stickiness"
  if ! "$drill_nodes" cluster "$pair" >>"$ctl/cluster.log" 2>&1; then
    ev "group-stopped reason=cluster-not-up"
    finish 1
  fi
  for n in 1 2; do follow "$n"; done
  if ! configure; then
    ev "group-stopped reason=configuration-failed"
    finish 1
  fi
  crm_do resource clear "$group" || true
  crm_do resource cleanup "$group" || true
  crm_do configure delete eva-home >/dev/null 2>&1 || true
  crm_do configure location eva-home "$group" 100: "$(node_name "$home")" && home_constraint=1
  crm_do resource start "$group" || true
  while :; do
    read_records
    check_nodes
    if [ -e "$ctl/stop" ]; then
      rm -f "$ctl/stop"
      if stop_group; then finish 0; else finish 1; fi
    fi
    if [ -e "$ctl/move" ] && [ "$active" != none ] && [ -z "$moving" ]; then
      rm -f "$ctl/move"
      move_to=$((3 - active))
      moving=1
      ev "move-begin from=$active to=$move_to"
      crm_do resource move "$group" "$(node_name "$move_to")" || true
    fi
    if [ -n "$moving" ] && [ "$active" != none ] && awk -v a="$(awk '$2 == "active" { t = $1 } END { print t }' "$ctl/events")" \
      -v m="$(awk '$2 == "move-begin" { t = $1 } END { print t }' "$ctl/events")" 'BEGIN { exit !(a > m) }'; then
      crm_do resource clear "$group" || true
      moving=''
      ev "move-end active=$active"
    fi
    if [ "$active" = none ] && [ "$where" = none ] && [ -n "$released_at" ] && [ -z "$stopping" ] &&
      awk -v a="$released_at" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a > 30) }'; then
      released_at=''
      ev "group-stopped reason=no-node-could-activate"
      if [ -n "$moving" ]; then
        crm_do resource clear "$group" || true
        moving=''
        ev "move-end active=none"
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
    echo "usage: pacemaker.sh run PAIR IMPL HOME CTL" >&2
    exit 2
    ;;
esac
