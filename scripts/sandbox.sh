#!/usr/bin/env bash
# The sandbox: a real-systemd node container dressed as an EVA master node (stand-in
# docker and mongod units, the real PostgreSQL as postgresql-9.5.service, stand-in master
# scripts in /opt/eva, a configuration.json with a worker token), with eva-ha installed.
# It runs eva-start as CLUSTERPRO would, shows the units and the master running, then
# eva-stop. Installs and starts a Docker engine when none runs (needs root).
#   scripts/sandbox.sh [--keep]     --keep leaves the node running to explore
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

keep=
case "${1:-}" in
  --keep) keep=1 ;;
  "") ;;
  *) echo "usage: scripts/sandbox.sh [--keep]" >&2; exit 2 ;;
esac
node=eva-ha-sandbox

banner() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
in_node() { docker exec "$node" "$@"; }

scripts/ensure-docker.sh
banner "building eva-ha"
cargo build --release --locked
banner "booting node $node (real systemd, real PostgreSQL)"
scripts/node.sh run "$node"
scripts/node.sh install "$node" target/release/eva-ha
[ -n "$keep" ] || trap 'scripts/node.sh rm "$node"' EXIT

banner "eva-ha config (from /etc/eva-ha/eva-ha.toml in the node)"
in_node eva-ha config

banner "units before: disabled at boot, inactive, as the guide requires"
in_node systemctl list-unit-files --no-pager docker.service mongod.service postgresql-9.5.service || true

banner "eva-start, as CLUSTERPRO's Exec resource runs it (CLP_* variables, minimal environment)"
in_node env -i CLP_EVENT=START CLP_SERVER=HOME CLP_GROUPNAME=failover-eva \
  CLP_RESOURCENAME=exec-eva /usr/local/sbin/eva-start

banner "the units and the master are running"
in_node systemctl list-units --no-pager --all docker.service mongod.service postgresql-9.5.service
in_node runuser -u postgres -- psql -tAc 'select version()'
# shellcheck disable=SC2016 # expanded in the node
in_node sh -c 'echo "master daemon pid $(cat /run/eva-master/master.pid), token received: $(wc -c < /run/eva-master/token) bytes (never printed)"'

banner "eva-stop"
in_node /usr/local/sbin/eva-stop

banner "everything is stopped"
in_node sh -c 'systemctl is-active docker mongod.service postgresql-9.5.service; pgrep -x postgres || echo "no postgres process"'

if [ -n "$keep" ]; then
  banner "node $node left running: docker exec -it $node bash   (remove: scripts/node.sh rm $node)"
fi
