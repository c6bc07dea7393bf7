#!/usr/bin/env bash
# The drills' client writer, on the host: every 100 ms one row (CYCLE, SEQ) inserted into
# PostgreSQL through the floating IP VIP (database and role "drill", a new connection per
# row, 1 s to connect, 3 s in all), one line per attempt appended to OUT: "SEQ EPOCH ok"
# for an acknowledged commit (psql returned the row's SEQ), "SEQ EPOCH fail" otherwise.
# Runs until the file STOP exists.
#   writer.sh VIP CYCLE OUT STOP
set -uo pipefail
vip=$1 cycle=$2 out=$3 stop=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/node-drill/pg-drill.env
. "$here/../node-drill/pg-drill.env" # PGDRILL_PASSWORD
export PGPASSWORD=$PGDRILL_PASSWORD PGCONNECT_TIMEOUT=1
seq=0
while [ ! -e "$stop" ]; do
  began=${EPOCHREALTIME/./}
  seq=$((seq + 1))
  if r=$(timeout 3 psql -X -q -At "host=$vip dbname=drill user=drill sslmode=disable" \
    -c "insert into drill_rows (cycle, seq) values ($cycle, $seq) returning seq" 2>/dev/null) &&
    [ "${r%%$'\n'*}" = "$seq" ]; then
    printf '%s %s ok\n' "$seq" "$EPOCHREALTIME" >>"$out"
  else
    printf '%s %s fail\n' "$seq" "$EPOCHREALTIME" >>"$out"
  fi
  left=$((100000 - ${EPOCHREALTIME/./} + began)) # one attempt every 100 ms
  if [ "$left" -gt 0 ]; then sleep "0.$(printf '%06d' "$left")"; fi
done
