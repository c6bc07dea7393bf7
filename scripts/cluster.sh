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
# Corosync and Pacemaker as scripts/corosync.sh sets them up (knet, two_node quorum, no
# fencing: stonith-enabled=false).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
online_timeout=${EVA_HA_CLUSTER_TIMEOUT:-90}
SAY_PREFIX=cluster
# shellcheck source=scripts/lib.sh
. "$here/lib.sh" # say, die
# shellcheck source=scripts/two-nodes.sh
. "$here/two-nodes.sh" # pair_*: the network, the nodes; install, exec, ip, down; main
# shellcheck source=scripts/corosync.sh
. "$here/corosync.sh" # corosync_conf, seed_cib, cluster_*: the cluster on a pair
usage() { usage_of 4,13; }

# node.sh run for node N of cluster $name on $prefix.0/24 (cmd_up's). pair_run adds the
# systemd flags, --hostname NAME-N, NET_ADMIN (IPaddr2 adds the floating IP) and both nodes
# in /etc/hosts. 256 MB /dev/shm: Corosync and Pacemaker's IPC (libqb) take about 33 MB of
# it idle, more per client; docker's default 64 MB is too tight.
run_node() { pair_run "$name" "$1" "$prefix" --shm-size 256m --label "eva-ha-cluster=$name"; }

start_stack() { cluster_start_stack "$name" "$1"; }

cmd_up() {
  [ "$#" -eq 1 ] || usage
  local name=$1 prefix n t0
  [[ "$name" =~ ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ ]] || die "bad cluster name: $name"
  "$here/node.sh" image >/dev/null # build once, before two nodes ask at once
  pair_down "$name"
  prefix=$(pair_network "$name" "eva-ha-cluster=$name")
  say "network $name-net: $prefix.0/24"

  pair_both run_node || die "a node of $name did not boot"

  for n in 1 2; do cluster_configure "$name" "$n" "$prefix"; done
  t0=$SECONDS
  if ! pair_both start_stack; then
    for n in 1 2; do
      docker exec "$name-$n" journalctl -u corosync -u pacemaker --no-pager -n 30 >&2 || true
    done
    die "corosync/pacemaker did not start on $name"
  fi

  cluster_wait_online "$name" 1 "$online_timeout" || die "both nodes of $name not online within ${online_timeout} s"
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
