#!/bin/sh
# The stand-in for EVA's stop-master.sh, installed in the node's eva/ directory
# (tests/common/node.rs). It records each run and which units were active when it ran, then
# honours the knobs below.
#
# Environment:
#   EVA_TEST_MASTER  the directory of the files below (the node's master/).
#
# Files under $EVA_TEST_MASTER:
#   stop.count   appended: one line per run;
#   stop.saw     appended: one line per run, the units active then, each followed by a space;
#   stop.exit    read: the exit status (absent: 0);
#   stop.sleep   read: sleep that long, with a background child; writes child.pid and
#                stop.pid, and touches sleeping;
#   stop.forget  the containers it stops do not come back: empties the fake docker's ps
#                list ($FAKE_ENGINE_ROOT/docker/ps), as a master whose start brings up
#                none of them again;
#   started      removed (the start script's mark).
M="$EVA_TEST_MASTER"
echo "stop-master: stopping"
echo x >> "$M/stop.count"
for u in docker mongod.service postgresql-9.5.service; do
  systemctl is-active -- "$u" && printf '%s ' "$u" >> "$M/stop.saw"
done
echo >> "$M/stop.saw"
if [ -e "$M/stop.sleep" ]; then
  sleep 1000 &
  echo $! > "$M/child.pid"
  echo $$ > "$M/stop.pid"
  touch "$M/sleeping"
  sleep "$(cat "$M/stop.sleep")"
fi
if [ -e "$M/stop.forget" ]; then : > "$FAKE_ENGINE_ROOT/docker/ps"; fi
rm -f "$M/started"
exit "$(cat "$M/stop.exit" 2>/dev/null || echo 0)"
