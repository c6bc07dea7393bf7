#!/usr/bin/env bash
# Benchmark: the guide's custom monitor genw.sh (scripts/bench/guide-genw.sh, run as it is)
# against eva-genw (target/release/eva-ha genw, default settings), side by side on the same
# private Docker engine.
#
#   scripts/bench-genw.sh [TRIALS] [WINDOW]     defaults: 10 deaths per monitor, 60 s
#
# Needs root; makes sure a Docker engine is installed (scripts/ensure-docker.sh), installs
# busybox-static when there is no static /bin/busybox, builds eva-ha (cargo build --release
# --locked; or takes $EVA_HA_BINARY as it is) and runs a copy of it. Then starts a private
# dockerd (scripts/private-engine.sh, as the Rust tests do: own data root, exec root and
# socket under /tmp/evab.*; DOCKER_HOST points both monitors at it), so that the benchmark
# neither sees nor disturbs other containers, and imports a busybox image into it (no
# registry needed). Both monitors use the docker CLI found on PATH. About 11 minutes with
# the defaults.
#
# Phases, the two monitors alternating trial by trial:
#  1. latency: TRIALS deaths per monitor. Each trial starts the monitor, waits its initial
#     delay (5 s for both) plus a random 0-5 s, then runs a container that exits 3. The
#     latency is from the die event's timestamp (recorded by a `docker events` recorder
#     started beforehand) to the moment the monitor process exited (bash `wait`).
#  2. idle: no containers; each monitor runs WINDOW seconds after its initial delay without
#     a death. CPU = utime+stime of every process of the monitor (the root, its descendants,
#     and the cutime+cstime of children they waited for: genw.sh forks sudo/docker/grep/wc
#     every 5 s), extrapolated to seconds per hour; RSS = the sum of VmRSS over the same
#     processes, sampled every 0.5 s, maximum reported. The docker CLI processes count
#     toward each monitor (eva-genw keeps one `docker events`; genw.sh starts one every 5 s).
#     The processes of a monitor are found by a marker variable in their environment.
#  3. misses: 12 containers with 100 ms health checks (exec_create/exec_start/exec_die
#     events roll the engine's 256-event replay buffer over quickly), then TRIALS deaths
#     per monitor as in phase 1; a monitor that has not exited 15 s after `docker run`
#     returned missed the death (and is killed). Deaths are counted as missed in phase 1
#     by the same rule.
#
# Progress goes to stderr; a Markdown table (| metric | guide genw.sh | eva-genw | goal |)
# to stdout. Monitor logs (eva-genw with -v), per-trial CSV and the private engine's log
# are kept in target/bench-genw/<date-time>/. Everything started here (monitors,
# containers, the private dockerd and its containerd, mounts) is removed on exit.
# EVA_BENCH_PHASES="latency idle misses" selects phases (for working on the benchmark).
#
# The guide's script calls `sudo docker`: a shim directory whose `sudo` runs "$@" comes
# first on PATH, always, since a real sudo would reset the environment (DOCKER_HOST) and
# talk to the system's engine; we run as root anyway.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
DIE_PREFIX="error: "
# shellcheck source=scripts/private-engine.sh
. scripts/private-engine.sh # and scripts/lib.sh: say, die, apt_install, median, docker_wait

trials=${1:-10}
window=${2:-60}
image=eva-ha-bench-bb
delay=5          # initial delay of both monitors (genw.sh: sleep 5; eva-genw: --initial-delay 5)
deadline=15      # a death not reported within this long is a miss
load_containers=12
goal_latency_ms=100
goal_idle_ratio=20

[[ $trials =~ ^[1-9][0-9]*$ ]] || die "TRIALS must be a positive integer, not '$trials'"
if ! [[ $window =~ ^[1-9][0-9]*$ ]] || [ "$window" -lt 10 ]; then die "WINDOW must be an integer >= 10 (seconds), not '$window'"; fi
[ "$(id -u)" -eq 0 ] || die "needs root (a private dockerd)"
started_us=${EPOCHREALTIME/./}

# --- prerequisites -------------------------------------------------------------------------

scripts/ensure-docker.sh
command -v dockerd >/dev/null || die "dockerd not found"
engine_ensure_busybox
if [ -n "${EVA_HA_BINARY:-}" ]; then
  built=$EVA_HA_BINARY
else
  cargo build --release --locked >&2
  built=$repo/target/release/eva-ha
fi
[ -x "$built" ] || die "$built missing"
clk_tck=$(getconf CLK_TCK)

out=$repo/target/bench-genw/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"

# --- cleanup -------------------------------------------------------------------------------

tmp=$(mktemp -d /tmp/evab.XXXXXX)
run_id="evab-$$-${tmp##*.}"        # in the environment of every monitor process (EVA_BENCH_RUN)
dockerd_pid=
recorder_pid=
declare -a bg_pids=()              # other background helpers (deadline sleeps, docker run)

# The pids whose environment holds exactly VAR=VALUE (not zombies: their environ is empty).
pids_with_env() {
  local f pid
  for f in $(grep -lsxzF -- "$1" /proc/[0-9]*/environ 2>/dev/null || true); do
    pid=${f#/proc/}
    echo "${pid%/environ}"
  done
}

# Kills (TERM, then KILL after 3 s) the processes carrying VAR=VALUE; prints how many there were.
kill_env() {
  local -a pids
  mapfile -t pids < <(pids_with_env "$1")
  echo "${#pids[@]}"
  [ "${#pids[@]}" -gt 0 ] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  local i
  for i in $(seq 30); do
    mapfile -t pids < <(pids_with_env "$1")
    [ "${#pids[@]}" -gt 0 ] || return 0
    [ "$i" -lt 30 ] && sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM HUP
  kill_env "EVA_BENCH_RUN=$run_id" >/dev/null
  local p
  for p in "${bg_pids[@]}" $recorder_pid; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  # Its containers, dockerd, then whatever still runs from $tmp (containerd, shims), mounts.
  if [ -n "$dockerd_pid" ]; then engine_stop "$tmp" "$dockerd_pid"; else engine_clean "$tmp"; fi
  rm -rf "$tmp"
  [ "$status" -eq 0 ] || say "failed (status $status); logs in $out"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- the private engine --------------------------------------------------------------------

DOCKER_HOST=$(engine_host "$tmp")
export DOCKER_HOST
say "starting a private dockerd ($DOCKER_HOST)"
setsid scripts/private-engine.sh dockerd "$tmp" </dev/null >"$out/dockerd.log" 2>&1 &
dockerd_pid=$!
docker_wait 60 "$dockerd_pid" || case $? in
  2) die "the private dockerd exited; see $out/dockerd.log" ;;
  *) die "the private dockerd did not answer within 60 s; see $out/dockerd.log" ;;
esac

# Our own copy, so that a rebuild during the run changes nothing.
bin=$tmp/eva-ha
cp "$built" "$bin"
engine_import_busybox "$tmp" "$image"
mkdir -p "$tmp/shim"
printf '#!/bin/sh\nexec "$@"\n' >"$tmp/shim/sudo"
chmod 0755 "$tmp/shim/sudo"
monitor_path="$tmp/shim:$PATH"

server_version=$(docker version --format '{{.Server.Version}}')
client_version=$(docker version --format '{{.Client.Version}}')
version=$("$bin" --version)
if [ -z "${EVA_HA_BINARY:-}" ] && ! git diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null; then
  version="$version with uncommitted changes to src"
fi
context="Docker engine ${server_version} (private dockerd, $(docker info --format '{{.Driver}}')), docker CLI ${client_version}, $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), kernel $(uname -r), $version"
say "$context"

# Records every benchmark death: "<container id> <die event time in ns>".
docker events --filter type=container --filter event=die --filter label=eva-bench=1 \
  --format '{{.Actor.ID}} {{.TimeNano}}' >"$out/die-events.txt" 2>"$out/recorder.err" &
recorder_pid=$!

# Whether a phase is to run (EVA_BENCH_PHASES, for debugging the benchmark itself).
want() { [[ " ${EVA_BENCH_PHASES:-latency idle misses} " == *" $1 "* ]]; }

# --- helpers -------------------------------------------------------------------------------

# Whether a pid exists and is not a zombie.
alive() {
  local line
  { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
  line=${line##*) }
  [ "${line:0:1}" != Z ]
}

# CPU ticks of the given pids: utime + stime + cutime + cstime of each.
cpu_ticks() {
  local p line total=0
  local -a f
  for p in "$@"; do
    { read -r line <"/proc/$p/stat"; } 2>/dev/null || continue
    read -ra f <<<"${line##*) }"
    total=$((total + f[11] + f[12] + f[13] + f[14]))
  done
  echo "$total"
}

# Sum of VmRSS (kB) of the given pids.
rss_kb() {
  local p k v total=0
  for p in "$@"; do
    while read -r k v _; do
      if [ "$k" = VmRSS: ]; then total=$((total + v)); break; fi
    done 2>/dev/null <"/proc/$p/status" || true
  done
  echo "$total"
}

# Context switches (voluntary and not) of all threads of a process: how often it woke up.
switches() {
  local f k v total=0
  for f in /proc/"$1"/task/*/status; do
    while read -r k v; do
      case $k in voluntary_ctxt_switches: | nonvoluntary_ctxt_switches:) total=$((total + v)) ;; esac
    done 2>/dev/null <"$f" || true
  done
  echo "$total"
}

# dockerd and its descendants (containerd).
engine_pids() {
  ps -e -o pid=,ppid= | awk -v root="$dockerd_pid" '
    { parent[$1] = $2 }
    END { for (p in parent) { q = p; while (q != "" && q != 0 && q != 1) { if (q == root) { print p; break } q = parent[q] } } }'
}

# Sleeps until the given time (microseconds since the epoch).
sleep_until_us() {
  local left=$(($1 - ${EPOCHREALTIME/./}))
  [ "$left" -gt 0 ] || return 0
  sleep "$((left / 1000000)).$(printf '%06d' $((left % 1000000)))"
}

# The die event's time (ns) of a container: from the recorder, else from its FinishedAt.
die_ns() {
  local id=$1 i ns fin
  for i in $(seq 50); do
    ns=$(awk -v id="$id" '$1 == id { print $2; exit }' "$out/die-events.txt")
    if [ -n "$ns" ]; then echo "$ns"; return; fi
    [ "$i" -lt 50 ] && sleep 0.1
  done
  fin=$(docker inspect -f '{{.State.FinishedAt}}' "$id")
  say "warning: no die event recorded for ${id:0:12}; using its FinishedAt $fin"
  date -d "$fin" +%s%N
}

# The time of the last log line matching a pattern (eva-genw's local timestamps, ms), as
# ms after the given time in ns: log_ms LOG PATTERN NS
log_ms() {
  local at
  at=$(grep -- "$2" "$1" | tail -n 1 | cut -c 1-23)
  [ -n "$at" ] || return 0
  awk -v t="$(date -d "$at" +%s%N)" -v d="$3" 'BEGIN { v = sprintf("%.0f", (t - d) / 1e6); print (v == "-0") ? 0 : v }'
}

# Starts a monitor in a session of its own: start_monitor KIND TAG LOG [eva-genw flags...];
# sets mon_pid and mon_start_us.
start_monitor() {
  local kind=$1 tag=$2 log=$3
  shift 3
  case $kind in
    guide)
      env -u EVA_HA_LOG_FORMAT PATH="$monitor_path" EVA_BENCH_RUN="$run_id" EVA_BENCH_TAG="$tag" \
        setsid sh "$repo/scripts/bench/guide-genw.sh" </dev/null >"$log" 2>&1 &
      ;;
    eva)
      env -u EVA_HA_LOG_FORMAT PATH="$monitor_path" EVA_BENCH_RUN="$run_id" EVA_BENCH_TAG="$tag" \
        EVA_HA_CONFIG=/dev/null setsid "$bin" genw --initial-delay "$delay" "$@" </dev/null >"$log" 2>&1 &
      ;;
  esac
  mon_pid=$!
  mon_start_us=${EPOCHREALTIME/./}
}

# Ends a monitor (if still running) and reaps it; sets mon_left to how many of its
# processes were still there.
stop_monitor() {
  mon_left=$(kill_env "EVA_BENCH_TAG=$1")
  { wait "$2"; } 2>/dev/null || true
}

name_of() { if [ "$1" = guide ]; then echo "genw.sh"; else echo "eva-genw"; fi; }

# One death: trial KIND PHASE N. Appends to $out/trials.csv:
# phase,monitor,n,random_ms,result,latency_ms,monitor_status,leftover_processes,container,
# arrived_ms,judged_ms (eva-genw's log: event arrival, verdict; ms after the die event),
# died_ms (the death, ms after the monitor started)
# result: detected, missed (no exit within the deadline), early (exited before the death).
trial() {
  local kind=$1 phase=$2 n=$3
  local tag="$run_id-$phase-$kind-$n" log="$out/$phase-$kind-$n.log"
  local random_ms=$((RANDOM % 5001)) which='' rc=0 run_rc=0 result mon_rc exit_us id ns lat left
  local -a flags=()
  [ "$kind" = eva ] && flags=(-v)
  # genw.sh's first query (--since=5s, which the CLI rounds down to whole seconds) reaches
  # up to 1 s before its start: the previous death must be older than that.
  sleep_until_us $((last_die_ns / 1000 + 2000000))
  start_monitor "$kind" "$tag" "$log" "${flags[@]}"
  local pid=$mon_pid
  sleep_until_us $((mon_start_us + (delay * 1000 + random_ms) * 1000))
  if ! alive "$pid"; then
    wait "$pid" || rc=$?
    die "$(name_of "$kind") exited (status $rc) before the death was caused; see $log"
  fi
  docker run -d --label eva-bench=1 "$image" sh -c 'exit 3' >"$tmp/run.id" 2>"$tmp/run.err" &
  local run_pid=$!
  bg_pids=("$run_pid")
  wait -n -p which "$pid" "$run_pid" || rc=$?
  if [ "$which" = "$run_pid" ]; then
    run_rc=$rc
    # The container is running (and exits at once): the deadline starts now.
    sleep "$deadline" &
    local sleep_pid=$!
    bg_pids=("$sleep_pid")
    rc=0
    wait -n -p which "$pid" "$sleep_pid" || rc=$?
    exit_us=${EPOCHREALTIME/./}
    if [ "$which" = "$pid" ]; then
      mon_rc=$rc
      kill "$sleep_pid" 2>/dev/null || true
      { wait "$sleep_pid"; } 2>/dev/null || true
    else
      mon_rc=timeout
    fi
  else
    exit_us=${EPOCHREALTIME/./}
    mon_rc=$rc
    rc=0
    wait "$run_pid" || run_rc=$?
  fi
  bg_pids=()
  [ "$run_rc" -eq 0 ] || die "docker run failed: $(cat "$tmp/run.err")"
  id=$(<"$tmp/run.id")
  ns=$(die_ns "$id")
  last_die_ns=$ns
  if [ "$mon_rc" = timeout ]; then
    result=missed lat=
  else
    lat=$(awk -v e="$exit_us" -v d="$ns" 'BEGIN { printf "%.1f", (e * 1000 - d) / 1e6 }')
    if awk -v l="$lat" 'BEGIN { exit !(l < 0) }'; then result=early; else result=detected; fi
  fi
  # eva-genw's own account (-v): when the event arrived (it runs docker inspect at once)
  # and when it had judged the death (its ERROR line); ms since the die event.
  local arrived='' judged=''
  if [ "$kind" = eva ] && [ "$result" = detected ]; then
    arrived=$(log_ms "$log" ' DEBUG running .*docker inspect ' "$ns")
    judged=$(log_ms "$log" ' ERROR ' "$ns")
  fi
  stop_monitor "$tag" "$pid"
  left=$mon_left
  if [ "$result" != missed ] && [ "$left" -gt 0 ]; then
    say "warning: $(name_of "$kind") left $left process(es) running after it exited ($tag)"
  fi
  docker rm -f "$id" >/dev/null
  local died_ms=$(((ns / 1000 - mon_start_us) / 1000))
  echo "$phase,$(name_of "$kind"),$n,$random_ms,$result,$lat,$mon_rc,$([ "$result" = missed ] && echo 0 || echo "$left"),${id:0:12},$arrived,$judged,$died_ms" >>"$out/trials.csv"
  say "$(printf '%-7s %-8s #%-2d run at +%d.%03d s, died at +%d.%03d s: %s%s (status %s)' "$phase" "$(name_of "$kind")" "$n" \
    $((delay + random_ms / 1000)) $((random_ms % 1000)) $((died_ms / 1000)) $((died_ms % 1000)) "$result" "${lat:+ after $lat ms}" "$mon_rc")"
}

# Both monitors, alternating, TRIALS deaths each.
trials_phase() {
  local phase=$1 n
  for n in $(seq "$trials"); do
    if [ $((n % 2)) -eq 1 ]; then trial guide "$phase" "$n"; trial eva "$phase" "$n"
    else trial eva "$phase" "$n"; trial guide "$phase" "$n"; fi
  done
}

# Idle measurement of one monitor; sets idle_cpu_h (CPU s/hour), idle_rss and
# idle_rss_median (max and median kB, all its processes), idle_rss_root (max kB, the monitor
# process alone), idle_wakeups (context switches/s of the monitor process), idle_engine_h
# (the engine's CPU s/hour meanwhile).
idle() {
  local kind=$1 tag="$run_id-idle-$1" log="$out/idle-$1.log"
  sleep_until_us $((last_die_ns / 1000 + 2000000))
  start_monitor "$kind" "$tag" "$log"
  local pid=$mon_pid
  sleep_until_us $((mon_start_us + (delay + 1) * 1000000))
  alive "$pid" || die "$(name_of "$kind") exited during the idle phase; see $log"
  local -a pids eng
  mapfile -t pids < <(pids_with_env "EVA_BENCH_TAG=$tag")
  mapfile -t eng < <(engine_pids)
  local c0 e0 w0 t0 c1 e1 w1 t1 r rr max=0 max_root=0
  local -a samples=()
  c0=$(cpu_ticks "${pids[@]}"); e0=$(cpu_ticks "${eng[@]}"); w0=$(switches "$pid"); t0=${EPOCHREALTIME/./}
  while [ $((${EPOCHREALTIME/./} - t0)) -lt $((window * 1000000)) ]; do
    mapfile -t pids < <(pids_with_env "EVA_BENCH_TAG=$tag")
    r=$(rss_kb "${pids[@]}"); rr=$(rss_kb "$pid")
    samples+=("$r")
    [ "$r" -le "$max" ] || max=$r
    [ "$rr" -le "$max_root" ] || max_root=$rr
    sleep 0.5
  done
  mapfile -t pids < <(pids_with_env "EVA_BENCH_TAG=$tag")
  alive "$pid" || die "$(name_of "$kind") exited during the idle window; see $log"
  c1=$(cpu_ticks "${pids[@]}"); e1=$(cpu_ticks "${eng[@]}"); w1=$(switches "$pid"); t1=${EPOCHREALTIME/./}
  idle_rss_median=$(printf '%s\n' "${samples[@]}" | median %.0f)
  idle_wakeups=$(awk -v w=$((w1 - w0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.1f", w * 1e6 / t }')
  idle_cpu_h=$(awk -v c=$((c1 - c0)) -v hz="$clk_tck" -v t=$((t1 - t0)) 'BEGIN { printf "%.2f", c / hz * 3600e6 / t }')
  idle_engine_h=$(awk -v c=$((e1 - e0)) -v hz="$clk_tck" -v t=$((t1 - t0)) 'BEGIN { printf "%.2f", c / hz * 3600e6 / t }')
  idle_rss=$max idle_rss_root=$max_root
  stop_monitor "$tag" "$pid"
  echo "idle,$(name_of "$kind"),ticks=$c0..$c1,engine_ticks=$e0..$e1,ms=$(((t1 - t0) / 1000)),cpu_s_per_hour=$idle_cpu_h,max_rss_kb=$max,median_rss_kb=$idle_rss_median,max_rss_root_kb=$max_root,wakeups_per_s=$idle_wakeups,engine_cpu_s_per_hour=$idle_engine_h" >>"$out/idle.csv"
  say "idle    $(name_of "$kind"): $((c1 - c0)) ticks in $(((t1 - t0) / 1000)) ms = $idle_cpu_h CPU s/hour; RSS max $max kB, median $idle_rss_median kB (monitor process alone: max $max_root kB); $idle_wakeups wakeups/s; engine meanwhile $idle_engine_h CPU s/hour"
}

# A column of the trials of a phase and monitor with a result: trial_column PHASE MONITOR RESULT COLUMN
trial_column() {
  awk -F, -v p="$1" -v m="$2" -v r="$3" -v c="$4" '$1 == p && $2 == m && $5 == r && $c != "" { print $c + 0 }' "$out/trials.csv"
}

# Statistics over the deaths of a phase and monitor: lat_stat PHASE MONITOR WHAT, WHAT one of
# median and max (of the latencies of the detected deaths), count, detected and missed.
lat_stat() {
  case $3 in
    median) trial_column "$1" "$2" detected 6 | median '%.0f ms' ;;
    max) trial_column "$1" "$2" detected 6 | sort -g | awk '{ l = $1 } END { if (NR) printf "%.0f ms\n", l; else print "-" }' ;;
    count) awk -F, -v p="$1" -v m="$2" '$1 == p && $2 == m' "$out/trials.csv" | wc -l ;;
    *) trial_column "$1" "$2" "$3" 5 | wc -l ;;
  esac
}

# --- warm-up: the recorder answers, the image runs ------------------------------------------

warm=$(docker run -d --label eva-bench=1 "$image" sh -c 'exit 3')
last_die_ns=$(die_ns "$warm")
docker rm -f "$warm" >/dev/null
: >"$out/trials.csv"
: >"$out/idle.csv"

# --- 1. latency ----------------------------------------------------------------------------

if want latency; then
  say "phase 1/3: detection latency, $trials deaths per monitor, no load"
  trials_phase latency
fi

# --- 2. idle -------------------------------------------------------------------------------

g_cpu=- g_rss=0 g_rss_root=0 g_eng=- g_rss_med=0 g_wake=- e_cpu=- e_rss=0 e_rss_root=0 e_eng=- e_rss_med=0 e_wake=-
if want idle; then
  say "phase 2/3: idle, ${window} s per monitor after its initial delay"
  idle guide
  g_cpu=$idle_cpu_h g_rss=$idle_rss g_rss_root=$idle_rss_root g_eng=$idle_engine_h g_rss_med=$idle_rss_median g_wake=$idle_wakeups
  idle eva
  e_cpu=$idle_cpu_h e_rss=$idle_rss e_rss_root=$idle_rss_root e_eng=$idle_engine_h e_rss_med=$idle_rss_median e_wake=$idle_wakeups
fi

# --- 3. misses under health-check load -----------------------------------------------------

events_per_s=- buffer_s=-
if want misses; then
  say "phase 3/3: misses, $load_containers containers with 100 ms health checks"
  for i in $(seq "$load_containers"); do
    docker run -d --name "evab-hc-$i" --label eva-bench-load=1 --health-cmd true \
      --health-interval 100ms --health-retries 1 "$image" sleep 1000000 >/dev/null
  done
  for i in $(seq 300); do
    healthy=$(docker ps --filter label=eva-bench-load=1 --filter health=healthy -q | wc -l)
    [ "$healthy" -lt "$load_containers" ] || break
    [ "$i" -lt 300 ] || die "the health-check containers did not become healthy within 30 s"
    sleep 0.1
  done
  { timeout 5 docker events --format '{{.Action}}' || true; } >"$tmp/load-events.txt"
  events_per_s=$(awk 'END { printf "%.0f", NR / 5 }' "$tmp/load-events.txt")
  sort "$tmp/load-events.txt" | sed 's/:.*//' | uniq -c | sort -rn >"$out/load-events.txt"
  buffer_s=$(awk -v r="$events_per_s" 'BEGIN { if (r > 0) printf "%.1f", 256 / r; else print "-" }')
  say "load: $events_per_s events/s (${buffer_s} s of history in the engine's 256-event buffer): $(awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }' "$out/load-events.txt")"
  trials_phase misses
  docker ps -aq --filter label=eva-bench-load=1 | xargs -r docker rm -f >/dev/null
fi

# --- report --------------------------------------------------------------------------------

g_med=$(lat_stat latency genw.sh median) e_med=$(lat_stat latency eva-genw median)
g_max=$(lat_stat latency genw.sh max) e_max=$(lat_stat latency eva-genw max)
g_n=$(lat_stat latency genw.sh count) e_n=$(lat_stat latency eva-genw count)
g_d=$(lat_stat latency genw.sh detected) e_d=$(lat_stat latency eva-genw detected)
g_lmiss=$(lat_stat latency genw.sh missed) e_lmiss=$(lat_stat latency eva-genw missed)
g_miss=$(lat_stat misses genw.sh missed) e_miss=$(lat_stat misses eva-genw missed)
g_mn=$(lat_stat misses genw.sh count) e_mn=$(lat_stat misses eva-genw count)
g_lmed=$(lat_stat misses genw.sh median) e_lmed=$(lat_stat misses eva-genw median)
early=$(awk -F, '$5 == "early"' "$out/trials.csv" | wc -l)
ratio=$(awk -v g="$g_cpu" -v e="$e_cpu" 'BEGIN { if (g <= 0) print "-"; else if (e <= 0) print "0"; else if (e < g) printf "%.3f (1/%.1f)", e / g, g / e; else printf "%.2f", e / g }')
# Median of a column over eva-genw's detected deaths of a phase: col_median PHASE COLUMN
col_median() { trial_column "$1" eva-genw detected "$2" | median '%.0f ms'; }
breakdown() {
  echo "event read (docker inspect started) $(col_median "$1" 10), death judged (ERROR line) $(col_median "$1" 11), process exited $(col_median "$1" 6)"
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
ok() { if [ "$1" = 1 ]; then echo "met"; else echo "NOT met"; fi; }
lat_ok=$(awk -v m="${e_med% ms}" -v g="$goal_latency_ms" 'BEGIN { print (m != "-" && m + 0 <= g) ? 1 : 0 }')
miss_ok=$([ "$e_miss" -eq 0 ] && [ "$e_lmiss" -eq 0 ] && echo 1 || echo 0)
idle_ok=$(awk -v g="$g_cpu" -v e="$e_cpu" -v r="$goal_idle_ratio" 'BEGIN { print (g > 0 && e * r <= g) ? 1 : 0 }')
wall=$(((${EPOCHREALTIME/./} - started_us) / 1000000))

{
  echo
  echo "$context."
  echo "$trials deaths per monitor and phase, each at its initial delay (5 s) + random 0-5 s;"
  echo "idle window ${window} s; load: $load_containers containers with 100 ms health checks, $events_per_s events/s."
  echo
  echo "| metric | guide genw.sh | eva-genw | goal |"
  echo "|---|---|---|---|"
  echo "| median detection latency (die event to monitor exit; deaths detected: $g_d/$g_n, $e_d/$e_n) | ${g_med} | ${e_med} | ≤ ${goal_latency_ms} ms: $(ok "$lat_ok") |"
  echo "| max detection latency | ${g_max} | ${e_max} | |"
  echo "| missed deaths without load | ${g_lmiss}/${g_n} | ${e_lmiss}/${e_n} | none |"
  echo "| missed deaths under health-check load | ${g_miss}/${g_mn} | ${e_miss}/${e_mn} | none: $(ok "$miss_ok") |"
  echo "| median detection latency under load (deaths detected: $((g_mn - g_miss))/$g_mn, $((e_mn - e_miss))/$e_mn) | ${g_lmed} | ${e_lmed} | |"
  echo "| idle CPU (monitor and its children, docker CLI included) | ${g_cpu} s/hour | ${e_cpu} s/hour | |"
  echo "| idle CPU ratio (eva-genw / genw.sh) | 1 | ${ratio} | ≤ 1/${goal_idle_ratio}: $(ok "$idle_ok") |"
  echo "| max RSS (monitor and its children, sampled every 0.5 s) | $(mb "$g_rss") | $(mb "$e_rss") | |"
  echo "| median RSS (same samples) | $(mb "$g_rss_med") | $(mb "$e_rss_med") | |"
  echo "| max RSS of the monitor process alone | $(mb "$g_rss_root") | $(mb "$e_rss_root") | |"
  echo "| wakeups of the monitor process while idle (context switches) | ${g_wake}/s | ${e_wake}/s | |"
  echo "| engine CPU (dockerd, containerd) while idle | ${g_eng} s/hour | ${e_eng} s/hour | |"
  echo
  echo "RSS is sampled every 0.5 s: genw.sh's docker CLI (one every 5 s, alive for tens of ms, about as large as eva-genw's docker events child) is seldom caught."
  echo "Where eva-genw's time goes (medians after the die event, from its -v log): without load $(breakdown latency); under load $(breakdown misses)."
  [ "$early" -eq 0 ] || echo "Monitors that exited before the death: $early (see trials.csv)."
  echo "Run time $((wall / 60)) min $((wall % 60)) s; logs and per-trial data in ${out#"$repo"/}/."
} | tee "$out/table.md"
