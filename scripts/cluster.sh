#!/usr/bin/env bash
# Runs two-node Pacemaker/Corosync test clusters of eva-ha test nodes (scripts/node.sh;
# the node image has pacemaker, corosync, crmsh and resource-agents, disabled at boot).
#   cluster.sh up NAME                  network NAME-net (a free 172.31.X.0/24), nodes
#                                       NAME-1 (.11) and NAME-2 (.12), Corosync and
#                                       Pacemaker running, both nodes online,
#                                       stonith-enabled=false; prints the floating IP
#                                       (.100) on stdout (replaces an old NAME)
#   cluster.sh install NAME BINARY      node.sh install BINARY on both nodes
#   cluster.sh exec NAME N CMD...       run CMD on node NAME-N (1 or 2), stdin attached
#   cluster.sh status NAME              crm_mon -1 -r -f (resources, fail counts) from NAME-1
#   cluster.sh ip NAME                  print the floating IP again
#   cluster.sh down NAME                remove both nodes and the network
# Progress and diagnostics go to stderr. Clusters of different NAMEs are independent
# (own network, containers and cluster_name), so tests may run several at once.
# Corosync: knet over the network, no crypto (no authkey), votequorum two_node (a lone
# survivor keeps quorum, so the default no-quorum-policy=stop is right); logs to the
# journal. Pacemaker: no fencing device in containers, so stonith-enabled=false.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
online_timeout=${EVA_HA_CLUSTER_TIMEOUT:-90}
SAY_PREFIX=cluster
# shellcheck source=scripts/lib.sh
. "$here/lib.sh" # say, die
# shellcheck source=scripts/two-nodes.sh
. "$here/two-nodes.sh" # pair_*: the network, the nodes; install, exec, ip, down; main
usage() { usage_of 4,13; }

corosync_conf() {
  local name=$1 prefix=$2
  cat <<EOF
# Written by eva-ha's scripts/cluster.sh for the test cluster $name.
totem {
    version: 2
    cluster_name: $name
    transport: knet
    crypto_cipher: none
    crypto_hash: none
}

nodelist {
    node {
        ring0_addr: $prefix.11
        name: $name-1
        nodeid: 1
    }
    node {
        ring0_addr: $prefix.12
        name: $name-2
        nodeid: 2
    }
}

quorum {
    provider: corosync_votequorum
    two_node: 1
}

logging {
    to_logfile: no
    to_stderr: no
    to_syslog: yes
    timestamp: off
}
EOF
}

# The first CIB of each node, written before Pacemaker starts: dc-deadtime 2s instead of
# the default 20 s that a new controller otherwise waits for a DC to show up before the
# election (both online ~5 s after start instead of ~24 s), and no fencing from the start.
# CIB_file: the tools edit a file instead of the live CIB. A CIB without .sig is fine.
# shellcheck disable=SC2016 # expanded in the node
seed_cib='set -e
f=/var/lib/pacemaker/cib/cib.xml
cibadmin --empty >"$f.new"
CIB_file="$f.new" crm_attribute --type crm_config --name dc-deadtime --update 2s
CIB_file="$f.new" crm_attribute --type crm_config --name stonith-enabled --update false
chown hacluster:haclient "$f.new"
chmod 0600 "$f.new"
mv -f "$f.new" "$f"'

# Number of nodes online according to NAME-1's Pacemaker, once a DC is elected.
online_count() {
  local xml
  xml=$(docker exec "$1-1" crm_mon -1 --output-as=xml 2>/dev/null) || { echo 0; return; }
  if ! grep -q '<current_dc present="true"' <<<"$xml"; then
    echo 0
    return
  fi
  grep -c '<node name=.* online="true".* pending="false"' <<<"$xml" || true
}

# node.sh run for node N of cluster $name on $prefix.0/24 (cmd_up's). pair_run adds the
# systemd flags, --hostname NAME-N, NET_ADMIN (IPaddr2 adds the floating IP) and both nodes
# in /etc/hosts. 256 MB /dev/shm: Corosync and Pacemaker's IPC (libqb) take about 33 MB of
# it idle, more per client; docker's default 64 MB is too tight.
run_node() { pair_run "$name" "$1" "$prefix" --shm-size 256m --label "eva-ha-cluster=$name"; }

start_stack() { docker exec "$name-$1" systemctl start corosync.service pacemaker.service; }

cmd_up() {
  [ "$#" -eq 1 ] || usage
  local name=$1 prefix n t0 count=0
  [[ "$name" =~ ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ ]] || die "bad cluster name: $name"
  "$here/node.sh" image >/dev/null # build once, before two nodes ask at once
  pair_down "$name"
  prefix=$(pair_network "$name" "eva-ha-cluster=$name")
  say "network $name-net: $prefix.0/24"

  pair_both run_node || die "a node of $name did not boot"

  for n in 1 2; do
    corosync_conf "$name" "$prefix" | docker exec -i "$name-$n" sh -c \
      'umask 022 && mkdir -p /etc/corosync && cat >/etc/corosync/corosync.conf'
    docker exec "$name-$n" sh -c "$seed_cib"
  done
  t0=$SECONDS
  if ! pair_both start_stack; then
    for n in 1 2; do
      docker exec "$name-$n" journalctl -u corosync -u pacemaker --no-pager -n 30 >&2 || true
    done
    die "corosync/pacemaker did not start on $name"
  fi

  while [ $((SECONDS - t0)) -lt "$online_timeout" ]; do
    count=$(online_count "$name")
    [ "$count" -ge 2 ] && break
    sleep 1
  done
  if [ "$count" -lt 2 ]; then
    docker exec "$name-1" crm_mon -1 >&2 || true
    docker exec "$name-1" corosync-cfgtool -s >&2 || true
    die "both nodes of $name not online within ${online_timeout} s"
  fi
  say "both nodes online $((SECONDS - t0)) s after starting corosync and pacemaker"

  docker exec "$name-1" crm configure property stonith-enabled=false >&2
  say "cluster $name up: nodes $name-1 ($prefix.11), $name-2 ($prefix.12), floating IP $prefix.100"
  printf '%s\n' "$prefix.100"
}

cmd_status() {
  [ "$#" -eq 1 ] || usage
  exec docker exec "$1-1" crm_mon -1 -r -f
}

pair_main "$@"
