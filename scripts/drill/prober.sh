#!/usr/bin/env bash
# The drills' probe, on the host, about every 0.5 s until the file STOP exists: the REST
# check a client makes after a failover (eva-verify --url https://VIP:3000/versions --user
# admin --insecure, password from node-drill/eva-rest.env in EVA_HA_PASSWORD), then what
# runs on each node that is up, by process (agent.sh probe: postgres, the master's REST
# stand-in, application container processes, whatever its engine says). One line each,
# appended to OUT:
#   EPOCH rest ok HOST | EPOCH rest fail REASON
#   EPOCH node N postgres=P master=M apps=A engine=STATE | EPOCH node N down
#   prober.sh PAIR VIP EVA_HA OUT STOP
set -uo pipefail
pair=$1 vip=$2 eva_ha=$3 out=$4 stop=$5
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/node-drill/eva-rest.env
. "$here/../node-drill/eva-rest.env" # EVA_REST_USER, EVA_REST_PASSWORD
export EVA_HA_PASSWORD=$EVA_REST_PASSWORD
while [ ! -e "$stop" ]; do
  t=$EPOCHREALTIME
  if r=$("$eva_ha" verify --url "https://$vip:3000/versions" --user "$EVA_REST_USER" --insecure \
    --timeout 2 2>&1); then
    host=$(printf '%s' "$r" | sed -n 's/.*"host": *"\([^"]*\)".*/\1/p' | head -1)
    printf '%s rest ok %s\n' "$t" "${host:-?}" >>"$out"
  else
    printf '%s rest fail %s\n' "$t" "$(printf '%s' "$r" | tr '\n' ' ' | cut -c1-160)" >>"$out"
  fi
  for n in 1 2; do
    t=$EPOCHREALTIME
    if [ "$(docker inspect -f '{{.State.Running}}' "$pair-$n" 2>/dev/null)" = true ] &&
      p=$(timeout 5 docker exec "$pair-$n" /usr/local/lib/evadrv/agent.sh probe 2>/dev/null); then
      printf '%s node %s %s\n' "$t" "$n" "$p" >>"$out"
    else
      printf '%s node %s down\n' "$t" "$n" >>"$out"
    fi
  done
  sleep 0.3
done
