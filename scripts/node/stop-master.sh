#!/usr/bin/env bash
# Stand-in for NEC EVA's stop-master.sh on the eva-ha test node, installed as
# /opt/eva/stop-master.sh. Stops the dummy "master daemon" that start-master-rhel.sh
# started (pid in /run/eva-master/master.pid) and removes its pid and token files.
# Always exits 0, also when no master runs.
set -euo pipefail

state_dir=/run/eva-master
pid_file=$state_dir/master.pid

echo "EVA master: stopping"
pid=
if [ -s "$pid_file" ]; then
  pid=$(cat "$pid_file")
fi
if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  echo "EVA master: master daemon (pid $pid) stopped"
else
  echo "EVA master: not running"
fi
rm -f "$pid_file" "$state_dir/token"
exit 0
