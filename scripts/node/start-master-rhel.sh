#!/usr/bin/env bash
# Stand-in for NEC EVA's start-master-rhel.sh on the eva-ha test node, installed as
# /opt/eva/start-master-rhel.sh. Usage: start-master-rhel.sh --token=VALUE
# It writes VALUE byte-exactly to /run/eva-master/token (so tests can see what the
# master received), checks that docker, mongod and postgresql-9.5 are active and that
# PostgreSQL answers, then starts a dummy "master daemon" whose pid goes to
# /run/eva-master/master.pid. Exit status: 0 started, 1 a service is down, 2 usage.
# It never prints the token.
set -euo pipefail

state_dir=/run/eva-master

if [ "$#" -ne 1 ] || [[ "$1" != --token=* ]]; then
  echo "usage: start-master-rhel.sh --token=TOKEN" >&2
  exit 2
fi
token=${1#--token=}

umask 077
mkdir -p "$state_dir"
chmod 0700 "$state_dir"
printf '%s' "$token" >"$state_dir/token.tmp"
chmod 0600 "$state_dir/token.tmp"
mv -f "$state_dir/token.tmp" "$state_dir/token"

echo "EVA master: checking services"
down=()
for unit in docker.service mongod.service postgresql-9.5.service; do
  systemctl is-active --quiet "$unit" || down+=("$unit")
done
if [ "${#down[@]}" -ne 0 ]; then
  echo "EVA master: required service(s) not active: ${down[*]}" >&2
  exit 1
fi

echo "EVA master: checking database"
cd /
if ! answer=$(runuser -u postgres -- psql -tAc 'select 1' 2>&1) || [ "$answer" != 1 ]; then
  echo "EVA master: PostgreSQL does not answer: ${answer}" >&2
  exit 1
fi

pid_file=$state_dir/master.pid
if [ -s "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
  echo "EVA master: already running (pid $(cat "$pid_file"))"
  exit 0
fi

echo "EVA master: starting master daemon"
setsid sleep infinity </dev/null >/dev/null 2>&1 &
echo "$!" >"$pid_file"
echo "EVA master: started (pid $!)"
exit 0
