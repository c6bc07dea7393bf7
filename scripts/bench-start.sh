#!/usr/bin/env bash
# Benchmark: the guide's start.sh/stop.sh against eva-start/eva-stop on the same real-
# systemd node, where each of the three units takes DELAY seconds to start (ExecStartPre
# sleep; 2 s by default). Alternates the two in every repetition and prints medians and
# ratios. The guide's scripts start the units one after another (about 3 x DELAY);
# eva-start starts them in one systemctl call (about 1 x DELAY, the slowest unit).
#   scripts/bench-start.sh [REPS] [DELAY]     defaults: 5 repetitions, 2 s
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SAY_PREFIX=bench
# shellcheck source=scripts/lib.sh
. scripts/lib.sh # say, die, median

reps=${1:-5}
delay=${2:-2}
node=eva-ha-bench

scripts/ensure-docker.sh
cargo build --release --locked >&2
scripts/node.sh run "$node"
trap 'scripts/node.sh rm "$node"' EXIT
scripts/node.sh install "$node" target/release/eva-ha
docker cp scripts/bench/guide-start.sh "$node:/opt/eva/guide-start.sh"
docker cp scripts/bench/guide-stop.sh "$node:/opt/eva/guide-stop.sh"
docker exec "$node" sh -c "echo DELAY=$delay > /etc/eva-standin/delay"

# Runs a command in the node and prints its wall time in seconds; fails if it fails.
timed() {
  docker exec -e EVA_DIR=/opt/eva "$node" bash -c '
    s=$(date +%s.%N); "$@" >/tmp/bench.log 2>&1 || { cat /tmp/bench.log >&2; exit 1; }
    e=$(date +%s.%N); awk -v s="$s" -v e="$e" "BEGIN { printf \"%.3f\n\", e - s }"' _ "$@"
}
check_all() {
  local want=$1 got
  got=$(docker exec "$node" systemctl is-active docker mongod.service postgresql-9.5.service | sort -u | tr '\n' ' ' || true)
  [ "$got" = "$want " ] || die "expected all $want, got: $got"
}

declare -a gs gp es ep ideal
for i in $(seq "$reps"); do
  # The ideal parallel start: the slowest unit alone, plus the master script alone.
  one=$(timed systemctl start docker)
  docker exec "$node" systemctl start mongod.service postgresql-9.5.service
  master=$(timed /opt/eva/start-master-rhel.sh --token=bench)
  ideal+=("$(awk -v a="$one" -v b="$master" 'BEGIN { printf "%.3f", a + b }')")
  docker exec "$node" eva-stop -q

  gs+=("$(timed sh /opt/eva/guide-start.sh)"); check_all active
  gp+=("$(timed sh /opt/eva/guide-stop.sh)"); check_all inactive
  es+=("$(timed eva-start)"); check_all active
  ep+=("$(timed eva-stop)"); check_all inactive
  say "$(printf 'run %d/%d  start.sh %ss  eva-start %ss  ideal %ss  stop.sh %ss  eva-stop %ss' \
    "$i" "$reps" "${gs[-1]}" "${es[-1]}" "${ideal[-1]}" "${gp[-1]}" "${ep[-1]}")"
done

median_of() { printf '%s\n' "$@" | median %.3f; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
mgs=$(median_of "${gs[@]}"); mes=$(median_of "${es[@]}")
mgp=$(median_of "${gp[@]}"); mep=$(median_of "${ep[@]}"); mid=$(median_of "${ideal[@]}")

echo
echo "Three units, each taking ${delay} s to start; median of ${reps} runs on a real systemd node."
echo "Ideal start: the slowest unit alone plus the master script alone, measured in the same run."
echo
echo "| operation | guide's script | eva-ha | ideal | speed-up vs guide |"
echo "|---|---|---|---|---|"
echo "| start (start.sh vs eva-start) | ${mgs} s | ${mes} s | ${mid} s | $(ratio "$mgs" "$mes") |"
echo "| stop (stop.sh vs eva-stop) | ${mgp} s | ${mep} s | | $(ratio "$mgp" "$mep") |"
