#!/usr/bin/env bash
# The sandbox: the guide's whole setup on two nodes that are the real thing
# (scripts/drill-nodes.sh: real systemd, a real Docker engine each, the real PostgreSQL with
# its data on a shared disk in the guide's layout, the EVA master stand-in with its four
# application containers and its REST API), with eva-ha installed, driven as CLUSTERPRO
# would drive it:
#   1. eva-check on each node (the three links on the shared disk, owners, uids, units);
#   2. the shared disk and the floating IP to node 1, eva-start as the Exec resource runs it;
#   3. eva-verify answering through the floating IP, trusting the master's self-signed
#      certificate with --cacert, as curl does;
#   4. eva-genw (the custom monitor) catching an application container that dies with an
#      error (exit 3), and eva-ha status;
#   5. eva-stop, with the same CLUSTERPRO variables.
# Installs and starts a Docker engine when none runs (needs root); builds the node images
# once (a few minutes). Progress lines on stderr, what each command printed on stdout.
#   scripts/sandbox.sh [--keep]     --keep leaves the nodes running to explore
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SAY_PREFIX=sandbox
# shellcheck source=scripts/lib.sh
. scripts/lib.sh # say, die

keep=
case "${1:-}" in
  --keep) keep=1 ;;
  "") ;;
  *) die "usage: scripts/sandbox.sh [--keep]" ;;
esac
pair=eva-ha-sandbox
node1=$pair-1
node2=$pair-2
clp=(CLP_EVENT=START CLP_SERVER=HOME CLP_DISK=SUCCESS CLP_GROUPNAME=failover-eva CLP_RESOURCENAME=exec-eva)

# A heading; bold only on a terminal.
banner() {
  if [ -t 1 ]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi
}
on() {
  local node=$1
  shift
  docker exec "$node" "$@"
}

scripts/ensure-docker.sh
say "building eva-ha (cargo build --release)"
if ! build_log=$(cargo build --release --locked 2>&1); then
  printf '%s\n' "$build_log" >&2
  die "cargo build failed"
fi
say "booting the nodes $node1 and $node2 (real systemd, Docker, PostgreSQL)"
vip=$(scripts/drill-nodes.sh up "$pair" 2>/dev/null) || die "drill-nodes.sh up $pair failed (run it by hand to see why)"
[ -n "$keep" ] || trap 'scripts/drill-nodes.sh down "$pair" >/dev/null 2>&1' EXIT
scripts/drill-nodes.sh install "$pair" target/release/eva-ha >/dev/null 2>&1

banner "eva-check on $node2 while it holds the shared disk, then on $node1 (uids, links, units)"
scripts/drill-nodes.sh acquire "$pair" 2 >/dev/null 2>&1
on "$node2" eva-check >/dev/null || true
scripts/drill-nodes.sh release "$pair" 2 >/dev/null 2>&1
scripts/drill-nodes.sh acquire "$pair" 1 >/dev/null 2>&1
on "$node1" eva-check

banner "eva-start on $node1, as CLUSTERPRO's Exec resource runs it (${clp[*]}, no other environment)"
on "$node1" env -i "${clp[@]}" /usr/local/sbin/eva-start

banner "eva-verify from $node2: https://eva-master:3000/versions (eva-master is the floating IP $vip), trusting the master's self-signed certificate as curl --cacert does"
# The master's certificate (openssl req -x509: CA:TRUE, for the name eva-master), the
# same file on both nodes; the name resolves to the floating IP, as an administrator's
# /etc/hosts or DNS would have it.
on "$node2" sh -c "echo '$vip eva-master' >> /etc/hosts"
# shellcheck source=scripts/node-drill/eva-rest.env
. scripts/node-drill/eva-rest.env
# The password goes by the environment (docker exec -e NAME takes ours), never by argv.
EVA_HA_PASSWORD=$EVA_REST_PASSWORD docker exec -e EVA_HA_PASSWORD "$node2" eva-verify \
  --url https://eva-master:3000/versions --user "$EVA_REST_USER" --cacert /etc/eva-drill/tls/cert.pem --wait 20 || true

banner "eva-genw on $node1; an application container crashes (exit 3)"
on "$node1" sh -c 'eva-genw > /run/eva-genw.log 2>&1; echo "eva-genw exited with status $?" >> /run/eva-genw.log' &
genw=$!
sleep 7
on "$node1" docker exec usecase-crowd kill -USR1 1
wait "$genw" || true
on "$node1" cat /run/eva-genw.log

banner "eva-ha status on $node1"
on "$node1" eva-ha status

banner "eva-stop on $node1 (${clp[*]})"
on "$node1" env -i "${clp[@]}" /usr/local/sbin/eva-stop
scripts/drill-nodes.sh release "$pair" 1 >/dev/null 2>&1

if [ -n "$keep" ]; then
  banner "the nodes are left running: docker exec -it $node1 bash   (remove: scripts/drill-nodes.sh down $pair)"
fi
