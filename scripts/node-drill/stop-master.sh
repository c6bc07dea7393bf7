#!/usr/bin/env bash
# Stand-in for NEC EVA's stop-master.sh on the eva-ha drill node, installed as
# /home/eva/eva-master/stop-master.sh. Removes the four application containers and EVA's
# REST API (the container eva-rest) from this node's engine (docker rm -f: nothing is left
# for an engine restart to bring back) and forgets the token. With the engine down
# there is no container left to remove (it stops them when it stops), which is said.
# Exit status: 0 when none of it is left running, 1 otherwise.
set -euo pipefail

readonly apps=(usecase-watchlist usecase-gender-age usecase-people-counting usecase-crowd eva-rest)
status=0

echo "EVA master: stopping"
if docker info >/dev/null 2>&1; then
  for app in "${apps[@]}"; do
    if ! docker inspect "$app" >/dev/null 2>&1; then
      echo "EVA master: $app not there"
    elif docker rm -f "$app" >/dev/null; then
      echo "EVA master: removed $app"
    else
      echo "EVA master: could not remove $app" >&2
      status=1
    fi
  done
else
  echo "EVA master: the Docker engine is not running: no application container runs"
fi
rm -f /run/eva-master/token
echo "EVA master: stopped"
exit "$status"
