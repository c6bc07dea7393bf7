#!/bin/sh
# The stand-in for EVA's start-master-rhel.sh, installed in the node's eva/ directory
# (tests/common/node.rs). It checks that the units are active (as EVA's script would need;
# exit 9 if not), records its arguments byte for byte, echoes its first one on stdout and
# stderr (so that tests can see the token masked), then honours the knobs below.
#
# Environment:
#   EVA_TEST_MASTER  the directory of the files below (the node's master/).
#
# Files under $EVA_TEST_MASTER:
#   argc, arg1, cwd  written: the number of arguments, the first one, the working directory;
#   start.exit       read: the exit status (absent: 0);
#   start.sleep      read: sleep that long, with a background child; writes child.pid and
#                    script.pid, and touches sleeping;
#   start.hold       wait until release exists (or the directory is gone: exit 1); touches
#                    holding while it waits;
#   start.daemon     leave a background process running, as EVA's script leaves containers;
#                    writes its pid to daemon.pid;
#   started          touched at the end.
M="$EVA_TEST_MASTER"
for u in docker mongod.service postgresql-9.5.service; do
  systemctl is-active -- "$u" || { echo "$u is not active" >&2; exit 9; }
done
printf '%s' "$#" > "$M/argc"
printf '%s' "$1" > "$M/arg1"
pwd > "$M/cwd"
printf 'start-master: got %s\n' "$1"
printf 'start-master: to stderr %s\n' "$1" >&2
if [ -e "$M/start.sleep" ]; then
  sleep 1000 &
  echo $! > "$M/child.pid"
  echo $$ > "$M/script.pid"
  touch "$M/sleeping"
  sleep "$(cat "$M/start.sleep")"
fi
if [ -e "$M/start.hold" ]; then
  touch "$M/holding"
  while [ ! -e "$M/release" ]; do [ -d "$M" ] || exit 1; sleep 0.05; done
fi
if [ -e "$M/start.daemon" ]; then
  sleep 60 > /dev/null 2>&1 &
  echo $! > "$M/daemon.pid"
fi
touch "$M/started"
exit "$(cat "$M/start.exit" 2>/dev/null || echo 0)"
