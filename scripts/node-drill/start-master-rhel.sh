#!/usr/bin/env bash
# Stand-in for NEC EVA's start-master-rhel.sh on the eva-ha drill node, installed as
# /home/eva/eva-master/start-master-rhel.sh. Usage: start-master-rhel.sh --token=TOKEN
# Without exactly one non-empty --token=... it fails (status 2), as EVA's does. Then:
# writes TOKEN byte-exactly to /run/eva-master/token (tests compare what the master got;
# never printed); checks that the node's own Docker engine answers, that mongod.service is
# active and that PostgreSQL answers; starts the four application containers that the
# guide supports on a clustered master (usecase-watchlist, usecase-gender-age,
# usecase-people-counting, usecase-crowd) on this node's engine, each a long-running
# busybox process of the image evadrill-usecase:1 (loaded into the engine beforehand,
# no registry), --network none, labelled com.nec.eva.app=NAME, that exits 0 on SIGTERM and
# 3 (a crash) on SIGUSR1; then starts EVA's REST API, like EVA's other components a
# container on the node's engine (eva-rest: https://:3000/versions, basic auth; see below),
# and waits until it listens.
# Exit status: 0 started (also when already running), 1 a service is down or a step
# failed, 2 usage.
#
# Restart policy: always. An application is meant to run for as long as the master runs on
# this node, also across a restart of the engine: Docker 20.10 without live-restore stops
# the containers it finds running when it comes back after dying (they exit 0 on its
# SIGTERM), and of the policies only always starts them again; with unless-stopped or
# on-failure they stay exited, with a status (0) that eva-genw does not count, so the master
# would run on without its applications, unnoticed (tried on a drill node: dockerd killed,
# restarted by docker.service's Restart=always). A crash still ends in a die event with its
# exit code, which eva-genw counts (the failover), whatever the engine does next. The
# containers never outlive the master: stop-master.sh removes them, so an engine started
# later (a standby's, the next start's) has none to bring back; after a node's crash, the
# next start finds them running, started by the engine, and keeps them.
set -euo pipefail

readonly apps=(usecase-watchlist usecase-gender-age usecase-people-counting usecase-crowd)
readonly image=evadrill-usecase:1 rest=eva-rest
readonly state_dir=/run/eva-master
# PID 1 of each application: idles; exits 0 on docker stop (SIGTERM), and 3 on SIGUSR1, as
# an application that crashes. For the drills: docker exec NAME kill -USR1 1 (the engine
# restarts it); `docker kill --signal USR1 NAME` gives the same exit but counts as a stop by
# the user, after which the engine restarts nothing, whatever the policy.
# shellcheck disable=SC2016 # expanded by the container's sh
readonly app_main='trap "exit 0" TERM INT; trap "exit 3" USR1; while :; do sleep 3600 & wait $!; done'

if [ "$#" -ne 1 ] || [[ "$1" != --token=?* ]]; then
  echo "usage: start-master-rhel.sh --token=TOKEN" >&2
  exit 2
fi
token=${1#--token=}

umask 077
mkdir -p "$state_dir"
printf '%s' "$token" >"$state_dir/token.tmp"
mv -f "$state_dir/token.tmp" "$state_dir/token"

echo "EVA master: checking services"
if ! err=$(docker info --format '{{.ServerVersion}}' 2>&1 >/dev/null); then
  echo "EVA master: the Docker engine does not answer: $err" >&2
  exit 1
fi
if ! systemctl is-active --quiet mongod.service; then
  echo "EVA master: mongod.service is not active" >&2
  exit 1
fi
cd /
if ! answer=$(runuser -u postgres -- psql -X -tAc 'select 1' 2>&1) || [ "$answer" != 1 ]; then
  echo "EVA master: PostgreSQL does not answer: ${answer}" >&2
  exit 1
fi

for app in "${apps[@]}"; do
  state=$(docker inspect -f '{{.State.Status}}' "$app" 2>/dev/null) || state=
  if [ "$state" = running ]; then
    echo "EVA master: $app already running"
    continue
  fi
  [ -z "$state" ] || docker rm -f "$app" >/dev/null
  if ! id=$(docker run -d --name "$app" --network none --restart always \
    --label "com.nec.eva.app=$app" "$image" /bin/sh -c "$app_main"); then
    echo "EVA master: could not start $app" >&2
    exit 1
  fi
  echo "EVA master: started $app (${id:0:12})"
done

# The REST API: the node's python3 (/usr/lib/eva-drill/eva-rest.py) in a container of the
# application image, on the node's network (port 3000 of the node and of the floating IP),
# with the node's /usr and the API's certificate and credentials read-only (Debian's merged
# /usr: /lib and /lib64 are in it). So it lives and dies with the engine as EVA's
# components do: a frozen or killed engine takes it along, an engine restart brings it back.
state=$(docker inspect -f '{{.State.Status}}' "$rest" 2>/dev/null) || state=
if [ "$state" != running ]; then
  [ -z "$state" ] || docker rm -f "$rest" >/dev/null
  if ! docker run -d --name "$rest" --network host --hostname "$(hostname)" --restart always \
    --label com.nec.eva.component=rest-api --env-file /etc/eva-drill/eva-rest.env \
    -v /usr:/usr:ro -v /usr/lib:/lib:ro -v /usr/lib64:/lib64:ro -v /etc/eva-drill:/etc/eva-drill:ro \
    "$image" /usr/bin/python3 /usr/lib/eva-drill/eva-rest.py >/dev/null; then
    echo "EVA master: could not start the REST API ($rest)" >&2
    exit 1
  fi
fi
for _ in $(seq 300); do
  if (: </dev/tcp/127.0.0.1/3000) 2>/dev/null; then
    echo "EVA master: started (REST API on port 3000)"
    exit 0
  fi
  [ "$(docker inspect -f '{{.State.Running}}' "$rest" 2>/dev/null)" = true ] || break
  sleep 0.1
done
echo "EVA master: the REST API ($rest) does not listen on port 3000" >&2
docker logs --tail 10 "$rest" >&2 || true
exit 1
