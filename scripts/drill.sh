#!/usr/bin/env bash
# Failover drills: eva-ha (or the guide's scripts) on a pair of real drill nodes
# (scripts/drill-nodes.sh), driven by the cluster software or a stand-in for it, one
# fault per cycle, measured from a client's side.
#   scripts/drill.sh [--driver clusterpro|pacemaker|clusterpro,pacemaker]
#                    [--impl eva|guide|eva,guide] [--cycles N]
#                    [--seed S] [--json FILE] [--faults LIST] [--keep]
# Defaults: both drivers in turn, each on a fresh pair of nodes, CLUSTERPRO's cycles
# first: the CLUSTERPRO driver (scripts/drill/clusterpro.sh, a stand-in) and the Pacemaker
# one (scripts/drill/pacemaker.sh: a real Corosync/Pacemaker cluster with eva-ha's OCF
# agent), whose headers say what they model; eva-ha (--impl guide: refused for Pacemaker
# alone, skipped under it among both); each fault once (--cycles N: each fault N times), the
# faults in a random order from --seed (default: the time), JSON to
# target/drill/<time>/drill.json. eva-ha: $EVA_HA_BINARY, else `cargo build --release
# --locked` here. --keep leaves the nodes up at the end (evadrv-1, evadrv-2; $EVA_DRILL_PAIR
# names the pair instead of evadrv, so that two drills can run side by side).
#
# Faults (LIST: comma-separated names; what is expected):
#   move           a planned move (`clpgrp -m`) to node 2                    move
#   app-exit-3     usecase-crowd's process exits 3 (SIGUSR1 to its PID 1, found from the
#                  node, signalled from the node: a crash, the restart policy kept; the
#                  code is also written to its /drill-exit-code)             failover
#   app-exit-0     its process exits 0 (SIGTERM from the node: its trap exits 0)  stay
#   app-sigkill    SIGKILL to its process from the node (exit 137)           stay
#   power-loss     node 1's container killed (docker kill)                   failover
#   dockerd-kill   node 1's dockerd killed -9, docker.service Restart=always (as Docker's
#                  own unit): systemd starts it again 2 s later, within daemon_grace, and
#                  the engine brings the applications back (restart policy always): no
#                  failover, back on node 1 with all four applications and the REST API
#                                                                             recover
#   dockerd-kill-norestart  the same with Restart=no: the unit stays failed, down for
#                  good                                                      failover
#   dockerd-freeze node 1's dockerd stopped (SIGSTOP) for good (daemon_grace 10 s)
#                                                                             failover
#   start-hang     node 2's master start script hangs; a planned move to it, with
#                  script_timeout 15 s: the start fails there, rolls back and the group
#                  ends on node 1 again                                       fallback
#   postmaster-kill  (Pacemaker only) PostgreSQL's postmaster on node 1 killed -9: the
#                  unit fails, eva-master's monitor with it, and with
#                  migration-threshold=1 the group fails over                 failover
# Skipped: postmaster-kill under CLUSTERPRO (written for the Pacemaker driver, whose
# expectation it states: a failed monitor that fails over by migration-threshold=1; not yet
# judged under CLUSTERPRO). Under Pacemaker every fault runs.
# Every cycle: the group started on node 1 (CLP_EVENT=START), its monitor past its initial
# delay, then a writer (scripts/drill/writer.sh: a row every 100 ms through the floating
# IP) and a probe (scripts/drill/prober.sh: eva-verify every ~0.5 s, and each node's
# processes) run while the fault is injected, until the expected outcome (at most 120 s,
# else "missed"; "stay" and "recover" faults are watched for 25 s, then until the REST check
# and (recover) all four applications answer on node 1 again); then the acknowledged rows are read
# back through the floating IP and the group is stopped. Each cycle's verdict
# (scripts/drill/verdict.py) is one line here and one object in the JSON list: driver,
# impl, fault, detect_s, downtime_s, overhead_s, lost_rows, false_failover, missed,
# double_active (and apps_down_s, cycle_s, details). Each cycle's records stay in
# target/drill/<time>/NN-IMPL-FAULT/ (ctl/: the driver's events and every script's output). The drill's eva-ha.toml on both nodes sets daemon_grace = 10
# and script_timeout = 30 (15 in start-hang) to keep the cycles short.
# Exit status: 1 when eva-ha lost a row, failed over for nothing, missed a recovery or ran
# anything on both nodes at once; the guide's scripts are measured, not judged.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SAY_PREFIX=drill
# shellcheck source=scripts/lib.sh
. scripts/lib.sh # say, die, usage_of
usage() { usage_of 5,16; }

readonly pair=${EVA_DRILL_PAIR:-evadrv} agent_dir=/usr/local/lib/evadrv bound=120 stay_window=25
readonly all_faults=move,app-exit-3,app-exit-0,app-sigkill,power-loss,dockerd-kill,dockerd-kill-norestart,dockerd-freeze,start-hang,postmaster-kill

drivers=clusterpro,pacemaker impls=eva cycles=1 seed=$(date +%s) json='' faults=$all_faults keep=''
while [ "$#" -gt 0 ]; do
  case $1 in
    --driver | --impl | --cycles | --seed | --json | --faults) [ "$#" -ge 2 ] || usage ;;&
    --driver) drivers=$2 ;;
    --impl) impls=$2 ;;
    --cycles) cycles=$2 ;;
    --seed) seed=$2 ;;
    --json) json=$2 ;;
    --faults) faults=$2 ;;
    --keep) keep=1 ;;
    *) usage ;;
  esac
  if [ "$1" = --keep ]; then shift; else shift 2; fi
done
IFS=, read -ra driver_list <<<"$drivers"
for d in "${driver_list[@]}"; do [[ "$d" == clusterpro || "$d" == pacemaker ]] || die "--driver: clusterpro or pacemaker, not '$d'"; done
[ "$drivers" != pacemaker ] || [[ ",$impls," != *,guide,* ]] || die "--impl guide: the guide's scripts have no Pacemaker form"
[[ "$cycles" =~ ^[1-9][0-9]*$ ]] || die "--cycles: a positive number"
[[ "$seed" =~ ^[0-9]+$ ]] || die "--seed: a number"
IFS=, read -ra impl_list <<<"$impls"
for i in "${impl_list[@]}"; do [[ "$i" == eva || "$i" == guide ]] || die "--impl: eva or guide, not '$i'"; done
IFS=, read -ra fault_list <<<"$faults"
for f in "${fault_list[@]}"; do [[ ",$all_faults," == *",$f,"* ]] || die "unknown fault '$f' (known: $all_faults)"; done

expect_of() {
  case $1 in
    move) echo move ;;
    app-exit-0 | app-sigkill) echo stay ;;
    dockerd-kill) echo recover ;;
    start-hang) echo fallback ;;
    *) echo failover ;;
  esac
}

out=target/drill/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out"
json=${json:-$out/drill.json}
: >"$out/cycles.jsonl"

if [ -n "${EVA_HA_BINARY:-}" ]; then
  binary=$EVA_HA_BINARY
else
  cargo build --release --locked >&2
  binary=${CARGO_TARGET_DIR:-target}/release/eva-ha
fi
[ -x "$binary" ] || die "no eva-ha binary at $binary"

cleanup() {
  local rc=$?
  touch "$out/stop" 2>/dev/null || true
  jobs -p | xargs -r kill 2>/dev/null || true
  if [ -z "$keep" ]; then scripts/drill-nodes.sh down "$pair" || true; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The drill's eva-ha.toml on node N; $2: script_timeout.
write_config() {
  printf 'install_dir = "/home/eva/eva-master"\nshared_mount = "/mnt/shared"\ndaemon_grace = 10\nscript_timeout = %s\n' "$2" |
    docker exec -i "$pair-$1" sh -c 'cat >/etc/eva-ha/eva-ha.toml'
}

# The driver's helper and the guide's scripts as printed, on node N.
install_node() {
  local s
  docker exec "$pair-$1" mkdir -p "$agent_dir"
  docker cp -q scripts/drill/node-agent.sh "$pair-$1:$agent_dir/agent.sh"
  for s in start stop genw; do docker cp -q "scripts/bench/guide-$s.sh" "$pair-$1:$agent_dir/guide-$s.sh"; done
  docker exec "$pair-$1" chmod 0755 "$agent_dir/agent.sh" "$agent_dir/guide-start.sh" "$agent_dir/guide-stop.sh" "$agent_dir/guide-genw.sh"
}

running() { [ "$(docker inspect -f '{{.State.Running}}' "$pair-$1" 2>/dev/null)" = true ]; }

# Whether DRIVER runs FAULT with IMPL (skipped, see the header, otherwise).
runs_under() { # DRIVER IMPL FAULT
  case $1 in
    clusterpro) [ "$3" != postmaster-kill ] ;;
    pacemaker) [ "$2" = eva ] ;;
  esac
}

# Node N back as a drill cycle wants it: running (a node powered off is started again and
# boots), its engine not frozen, the real master start script, Restart=always, the
# drill's configuration, holding neither the disk nor the IP.
restore_node() {
  local n=$1 i state
  if ! running "$n"; then
    say "starting $pair-$n again (it was powered off)"
    docker start "$pair-$n" >/dev/null
    for i in $(seq 120); do
      state=$(docker exec "$pair-$n" systemctl is-system-running 2>/dev/null) || true
      [[ "$state" == running || "$state" == degraded ]] && break
      sleep 0.5
    done
  fi
  docker exec "$pair-$n" sh -c 'pid=$(systemctl show -p MainPID --value docker.service); [ "$pid" = 0 ] || kill -CONT "$pid"
    m=/home/eva/eva-master/start-master-rhel.sh; [ ! -e "$m.real" ] || mv -f "$m.real" "$m"' || true
  scripts/drill-nodes.sh engine-restart "$pair" "$n" always 2>/dev/null
  write_config "$n" 30
  scripts/drill-nodes.sh release "$pair" "$n" >/dev/null 2>&1 || true
}

wait_for() { # SECONDS CMD...: until CMD succeeds
  local limit=$1 t=$SECONDS
  shift
  until "$@"; do
    [ $((SECONDS - t)) -lt "$limit" ] || return 1
    sleep 0.3
  done
}

gone() { ! kill -0 "$1" 2>/dev/null; }
active_is() { [ "$(cat "$ctl/active" 2>/dev/null)" = "$1" ]; }
monitor_running() { grep -q ' monitor-start ' "$ctl/events" 2>/dev/null; }
rest_ok_since() { # EPOCH: a REST probe answered after EPOCH
  awk -v t="$1" '$2 == "rest" && $3 == "ok" && $1 > t { f = 1 } END { exit !f }' "$dir/probes.log" 2>/dev/null
}
event_since() { # EPOCH EVENT [FIELD]
  awk -v t="$1" -v e="$2" -v f="${3:-}" '$1 > t && $2 == e && (f == "" || index($0, f)) { x = 1 } END { exit !x }' "$ctl/events" 2>/dev/null
}
apps_full_since() { # EPOCH: node 1 ran all four applications in a probe after EPOCH
  awk -v t="$1" '$2 == "node" && $3 == 1 && $1 > t && $0 ~ / apps=[4-9]/ { f = 1 } END { exit !f }' "$dir/probes.log" 2>/dev/null
}
all_back_since() { rest_ok_since "$1" && apps_full_since "$1"; }
recovered_on() { # NODE: the group active on NODE, started after the fault, and answering
  active_is "$1" && event_since "$t0" active "node=$1" && rest_ok_since "$(last_event_time active)"
}
last_event_time() { awk -v e="$1" '$2 == e { t = $1 } END { printf "%.6f\n", t }' "$ctl/events"; }

psql_vip() {
  # shellcheck source=scripts/node-drill/pg-drill.env
  . scripts/node-drill/pg-drill.env
  PGPASSWORD=$PGDRILL_PASSWORD PGCONNECT_TIMEOUT=3 timeout 20 psql -X -q -At \
    "host=$vip dbname=drill user=drill sslmode=disable" -c "$1"
}

# The application's PID 1, on the node's own engine, then a signal from the node's ps.
app_signal() { # NODE SIGNAL [CODE]
  docker exec "$pair-$1" sh -c 'pid=$(docker inspect -f "{{.State.Pid}}" usecase-crowd) && [ "$pid" -gt 0 ] || exit 1
    [ -z "$2" ] || echo "$2" >"/proc/$pid/root/drill-exit-code"; kill "-$1" "$pid"' sh "$2" "${3:-}"
}
dockerd_signal() { # NODE SIGNAL
  docker exec "$pair-$1" sh -c 'pid=$(systemctl show -p MainPID --value docker.service); [ "$pid" != 0 ] && kill "-$1" "$pid"' sh "$2"
}

# SIGKILL to PostgreSQL's postmaster on node N (its pid: postmaster.pid's first line).
# shellcheck disable=SC2016 # expanded in the node
postmaster_kill() { docker exec "$pair-$1" sh -c 'kill -KILL "$(head -1 /var/lib/pgsql/9.5/data/postmaster.pid)"'; }

inject() {
  case $1 in
    move) touch "$ctl/move" ;;
    app-exit-3) app_signal 1 USR1 3 ;;
    app-exit-0) app_signal 1 TERM ;;
    app-sigkill) app_signal 1 KILL ;;
    power-loss) docker kill "$pair-1" >/dev/null ;;
    dockerd-kill | dockerd-kill-norestart) dockerd_signal 1 KILL ;;
    dockerd-freeze) dockerd_signal 1 STOP ;;
    start-hang) touch "$ctl/move" ;;
    postmaster-kill) postmaster_kill 1 ;;
  esac
}

# Before the group starts: what the fault needs in place.
arrange() {
  case $1 in
    dockerd-kill-norestart) scripts/drill-nodes.sh engine-restart "$pair" 1 no 2>/dev/null ;;
    start-hang)
      write_config 1 15
      write_config 2 15
      # shellcheck disable=SC2016 # expanded in the node
      docker exec "$pair-2" sh -c 'm=/home/eva/eva-master/start-master-rhel.sh; mv "$m" "$m.real"
        printf "#!/bin/sh\necho \"EVA master: checking services (drill: hanging)\"\nexec sleep 100000\n" >"$m"; chmod 0755 "$m"'
      ;;
  esac
}

run_cycle() { # NUMBER IMPL FAULT
  local k=$1 impl=$2 fault=$3 expect dpid wpid ppid line jitter t_end started=$SECONDS
  expect=$(expect_of "$fault")
  dir=$out/$(printf '%02d' "$k")-$impl-$fault
  ctl=$dir/ctl
  mkdir -p "$dir"
  restore_node 1
  restore_node 2
  arrange "$fault"
  "scripts/drill/$driver.sh" run "$pair" "$impl" 1 "$ctl" >"$dir/driver.log" 2>&1 &
  dpid=$!
  if ! wait_for "$bound" active_is 1 || ! wait_for 30 monitor_running; then
    say "cycle $k: the group did not start on node 1 (see $ctl)"
    touch "$ctl/stop"
    wait "$dpid" || true
    printf '{"cycle": %d, "driver": "%s", "impl": "%s", "fault": "%s", "expect": "%s", "detect_s": null, "downtime_s": null, "overhead_s": null, "lost_rows": null, "false_failover": 0, "missed": 1, "double_active": 0, "details": ["the group did not start on node 1"]}\n' \
      "$k" "$driver" "$impl" "$fault" "$expect" >>"$out/cycles.jsonl"
    return 0
  fi
  psql_vip "set client_min_messages = warning; create table if not exists drill_rows (cycle int, seq int, at timestamptz default now(), primary key (cycle, seq))" >/dev/null
  sleep 6 # the monitor's own initial delay (eva-genw's initial_delay, genw.sh's sleep 5)
  rm -f "$dir/stop"
  scripts/drill/writer.sh "$vip" "$k" "$dir/acks.log" "$dir/stop" &
  wpid=$!
  scripts/drill/prober.sh "$pair" "$vip" "$binary" "$dir/probes.log" "$dir/stop" &
  ppid=$!
  jitter=$(((RANDOM % 20) + 20)) # 2.0 to 3.9 s of steady state first
  sleep "${jitter:0:1}.${jitter:1}"
  t0=$EPOCHREALTIME
  printf '%s\n' "$t0" >"$dir/t0"
  inject "$fault" || say "cycle $k: injecting $fault failed"
  case $expect in
    failover | move) wait_for "$bound" recovered_on 2 || true ;;
    fallback) wait_for $((bound + 60)) recovered_on 1 || true ;;
    stay)
      sleep "$stay_window"
      wait_for "$bound" rest_ok_since "$EPOCHREALTIME" || true
      ;;
    recover)
      sleep "$stay_window"
      local since=$EPOCHREALTIME
      wait_for "$bound" all_back_since "$since" || true
      ;;
  esac
  sleep 2
  t_end=$EPOCHREALTIME
  cat "$ctl/active" >"$dir/ended"
  touch "$dir/stop"
  wait "$wpid" "$ppid" || true
  if psql_vip "select seq from drill_rows where cycle = $k" >"$dir/rows.tmp" 2>"$dir/rows.err"; then
    mv "$dir/rows.tmp" "$dir/rows.txt"
  fi
  touch "$ctl/stop"
  if ! wait_for 150 gone "$dpid"; then kill "$dpid" 2>/dev/null || true; fi
  wait "$dpid" || true
  line=$(python3 scripts/drill/verdict.py "$dir" "$driver" "$impl" "$fault" "$expect" "$t0" "$t_end" "$k")
  line=$(jq -c --argjson s $((SECONDS - started)) '. + {cycle_s: $s}' <<<"$line")
  printf '%s\n' "$line" >>"$out/cycles.jsonl"
  jq -r '"cycle \(.cycle) \(.driver) \(.impl) \(.fault): expect \(.expect), ended on \(.ended_on // "none"); detect \(.detect_s // "-") s, downtime \(.downtime_s // "-") s, apps down \(.apps_down_s // "-") s, overhead \(.overhead_s // "-") s, cluster \(.cluster_s // "-") s, lost \(.lost_rows // "?")/\(.acked_rows // 0), false failover \(.false_failover), missed \(.missed), double active \(.double_active) (\(.cycle_s) s)"' <<<"$line"
  jq -r '.details[] | "    " + .' <<<"$line"
}

say "output in $out; eva-ha: $binary; seed $seed"
RANDOM=$seed
k=0
for driver in "${driver_list[@]}"; do
  plan=()
  for _ in $(seq "$cycles"); do
    for impl in "${impl_list[@]}"; do
      for f in "${fault_list[@]}"; do
        if runs_under "$driver" "$impl" "$f"; then plan+=("$impl $f"); else say "skipped under $driver: $impl $f"; fi
      done
    done
  done
  [ "${#plan[@]}" -gt 0 ] || continue
  # shuffled by the seed
  for ((i = ${#plan[@]} - 1; i > 0; i--)); do
    j=$((RANDOM % (i + 1)))
    tmp=${plan[i]}
    plan[i]=${plan[j]}
    plan[j]=$tmp
  done
  # A fresh pair for each driver.
  say "driver $driver: ${#plan[@]} cycles"
  vip=$(scripts/drill-nodes.sh up "$pair")
  scripts/drill-nodes.sh install "$pair" "$binary" >&2
  install_node 1
  install_node 2
  for p in "${plan[@]}"; do
    k=$((k + 1))
    run_cycle "$k" "${p% *}" "${p#* }"
  done
done

python3 scripts/drill/report.py "$out/cycles.jsonl" "$json"
