#!/usr/bin/env bash
# Runs pairs of eva-ha drill nodes, "the real thing" for failover drills, without any
# cluster software: whoever drives the drill (a test, a person, later a cluster) moves the
# shared disk and the floating IP with the commands below.
#   drill-nodes.sh up NAME [--engine-restart always|no|P1,P2]
#                                       network NAME-net (a free 172.31.X.0/24), the shared
#                                       disk NAME-shared, nodes NAME-1 (.11) and NAME-2 (.12)
#                                       with the app image loaded into each one's engine,
#                                       docker.service's Restart= as given (default always;
#                                       P1,P2: NAME-1's, NAME-2's, e.g. always,no);
#                                       the disk laid out from NAME-1, then held by neither;
#                                       prints the floating IP (.100) (replaces an old NAME)
#   drill-nodes.sh install NAME BINARY  node.sh install BINARY on both nodes
#   drill-nodes.sh acquire NAME N       NAME-N takes the failover group's resources: mounts
#                                       the shared disk at /mnt/shared, adds the floating IP;
#                                       refused while the other node holds either
#   drill-nodes.sh release NAME N       NAME-N gives them up: the IP, then the disk (which
#                                       fails while in use: eva-stop first)
#   drill-nodes.sh move NAME N          release on the other node, acquire on NAME-N
#   drill-nodes.sh engine-restart NAME N always|no
#                                       docker.service's Restart= on NAME-N from now on
#   drill-nodes.sh exec NAME N CMD...   run CMD on node NAME-N (1 or 2), stdin attached
#   drill-nodes.sh state NAME           each node: shared disk, floating IP, units, the
#                                       containers on its own engine (stdout)
#   drill-nodes.sh holder NAME          the node that holds the floating IP, or "none"
#   drill-nodes.sh cluster NAME         Corosync and Pacemaker running on both nodes, both
#                                       online (scripts/corosync.sh: two_node quorum, no
#                                       fencing); configures a node the first time, starts
#                                       the stack where it is not running (a node powered
#                                       off and started again: the stack is disabled at
#                                       boot); no cluster resources are defined here
#   drill-nodes.sh ip NAME              print the floating IP again
#   drill-nodes.sh down NAME            remove both nodes, the network and the shared disk
# Progress and diagnostics go to stderr. Pairs of different NAMEs are independent.
#
# A node (scripts/node.sh run --drill; image: node-image.sh --drill, recipe in
# scripts/node-drill/) boots real systemd and has a real Docker engine of its own
# (docker.service: dockerd --iptables=false --bridge=none --ip-masq=false
# --storage-driver=vfs, so the node container gets NET_ADMIN besides SYS_ADMIN; the
# application containers run with --network none), the real PostgreSQL behind a
# postgresql-9.5.service shaped like RHEL's, a mongod stand-in, and the EVA master stand-in
# in /home/eva/eva-master (start-master-rhel.sh --token=... starts the four application
# containers usecase-watchlist, -gender-age, -people-counting and -crowd on the node's
# engine and the REST API https://:3000/versions, user admin, password in
# scripts/node-drill/eva-rest.env; stop-master.sh removes them). /etc/eva-ha/eva-ha.toml
# names install_dir and shared_mount.
#
# The shared disk is a docker volume, NAME-shared, attached to both nodes at /shared-disk,
# as a shared disk is cabled to both servers; "mounting" it is a bind mount of
# /shared-disk at /mnt/shared inside the node (mount --bind, umount), so only the node that
# holds it sees EVA's data at /mnt/shared: the guide's links /opt/pulse,
# /var/lib/mongo and /var/lib/pgsql/9.5/data (chown -h) point into /mnt/shared/pulse and
# dangle on the other node, where PostgreSQL and mongod then refuse to start. eva-check
# sees the mount in /proc/self/mountinfo as it sees a real disk's. `up` lays the disk out
# once (prepare-shared-disk: the worker configuration with its workerToken, mongo/, and
# pg_data/ from initdb, listen_addresses '*', a role and database "drill" let in by md5 from
# the drill network; password in scripts/node-drill/pg-drill.env).
# The floating IP is .100 of the network, added to and removed from the node's eth0 by
# resource-agents' IPaddr2 (as Pacemaker's does in scripts/cluster.sh; it also sends
# gratuitous ARP, so clients on the network, the host included, follow a move at once).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SAY_PREFIX=drill
# shellcheck source=scripts/lib.sh
. "$here/lib.sh" # say, die, usage_of
# shellcheck source=scripts/two-nodes.sh
. "$here/two-nodes.sh" # pair_*: the network, the nodes; install, exec, ip, down; main
# shellcheck source=scripts/corosync.sh
. "$here/corosync.sh" # cluster_*: Corosync and Pacemaker on the pair (cmd_cluster)
usage() { usage_of 5,34; }

readonly disk=/shared-disk mount_point=/mnt/shared

# NAME-N for N = 1 or 2; usage otherwise.
node_of() {
  [[ "${2:-}" == [12] ]] || usage
  printf '%s-%s\n' "$1" "$2"
}

holds_disk() { docker exec "$1" mountpoint -q "$mount_point"; }

holds_vip() {
  local addrs
  addrs=$(docker exec "$1" ip -4 -o addr show dev eth0) || return 1
  [[ "$addrs" == *" $2/"* ]]
}

# resource-agents' IPaddr2 ACTION (start, stop, monitor) for the floating IP VIP on NODE,
# run as a cluster would, outside any cluster: ipaddr2 NODE ACTION VIP.
ipaddr2() {
  docker exec -e OCF_ROOT=/usr/lib/ocf -e OCF_RESOURCE_INSTANCE=eva-vip -e OCF_RESKEY_ip="$3" \
    -e OCF_RESKEY_cidr_netmask=24 -e OCF_RESKEY_nic=eth0 \
    "$1" /usr/lib/ocf/resource.d/heartbeat/IPaddr2 "$2" >&2
}

# docker.service's Restart= on NODE: always (Docker's own unit) or no.
set_restart() {
  case $2 in
    always | no) ;;
    *) die "docker.service restart: always or no, not '$2'" ;;
  esac
  docker exec "$1" sh -c "cp /usr/share/eva-drill/docker-restart-$2.conf /etc/systemd/system/docker.service.d/restart.conf && systemctl daemon-reload"
}

# node.sh run --drill (a /dev/shm of 256 MB, for Pacemaker's IPC when `cluster` runs it),
# then the node's own engine gets the application image (and stops
# again: only the cluster starts docker); cmd_up's, for node N.
run_node() {
  local node=$name-$1 policy=${restart%,*}
  [ "$1" = 1 ] || policy=${restart#*,}
  pair_run --drill "$name" "$1" "$prefix" -v "$name-shared:$disk" --shm-size 256m \
    --label "eva-ha-drill=$name" || return 1
  set_restart "$node" "$policy"
  docker exec "$node" sh -c 'systemctl start docker.service &&
    docker load -q -i /usr/share/eva-drill/images/usecase.tar &&
    systemctl stop docker.service containerd.service' >&2
}

cmd_up() {
  [ "$#" -ge 1 ] || usage
  local name=$1 prefix restart=always
  shift
  while [ "$#" -gt 0 ]; do
    case $1 in
      --engine-restart)
        [ "$#" -ge 2 ] || usage
        restart=$2
        shift 2
        ;;
      *) usage ;;
    esac
  done
  [[ "$restart" =~ ^(always|no)(,(always|no))?$ ]] || usage
  [[ "$name" =~ ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ ]] || die "bad name: $name"
  "$here/node.sh" image --drill >/dev/null # build once, before two nodes ask at once
  pair_down "$name"
  prefix=$(pair_network "$name" "eva-ha-drill=$name")
  docker volume create --label eva-ha-test=1 --label "eva-ha-drill=$name" "$name-shared" >/dev/null
  say "network $name-net: $prefix.0/24; shared disk: volume $name-shared"

  pair_both run_node || die "a node of $name did not come up"

  docker exec "$name-1" mount --bind "$disk" "$mount_point"
  docker exec "$name-1" /usr/lib/eva-drill/prepare-shared-disk "$mount_point" "$prefix.0/24" >&2
  docker exec "$name-1" umount "$mount_point"
  say "drill nodes $name up: $name-1 ($prefix.11), $name-2 ($prefix.12), floating IP $prefix.100, docker.service Restart=${restart%,*} on $name-1, ${restart#*,} on $name-2; neither holds the shared disk nor the IP yet"
  printf '%s.100\n' "$prefix"
}

cmd_acquire() {
  [ "$#" -eq 2 ] || usage
  local name=$1 node other vip
  node=$(node_of "$name" "$2")
  other=$(node_of "$name" $((3 - $2)))
  vip=$(pair_vip "$name")
  ! holds_disk "$other" || die "$other has the shared disk mounted: release it first"
  ! holds_vip "$other" "$vip" || die "$other holds the floating IP $vip: release it first"
  holds_disk "$node" || docker exec "$node" mount --bind "$disk" "$mount_point"
  ipaddr2 "$node" start "$vip" || die "IPaddr2 could not add $vip on $node"
  say "$node holds the shared disk ($mount_point) and the floating IP $vip"
}

cmd_release() {
  [ "$#" -eq 2 ] || usage
  local name=$1 node vip
  node=$(node_of "$name" "$2")
  vip=$(pair_vip "$name")
  ipaddr2 "$node" stop "$vip" || die "IPaddr2 could not remove $vip from $node"
  if holds_disk "$node" && ! docker exec "$node" umount "$mount_point"; then
    die "$node cannot unmount the shared disk: in use (stop the master first: eva-stop)"
  fi
  say "$node holds neither the shared disk nor the floating IP"
}

cmd_move() {
  [ "$#" -eq 2 ] || usage
  node_of "$1" "$2" >/dev/null
  cmd_release "$1" $((3 - $2))
  cmd_acquire "$1" "$2"
}

cmd_engine_restart() {
  [ "$#" -eq 3 ] || usage
  local node
  node=$(node_of "$1" "$2")
  set_restart "$node" "$3"
  say "$1-$2: docker.service Restart=$3"
}

# What a node says of itself; $1 is the floating IP.
# shellcheck disable=SC2016 # expanded in the node
state_script='vip=$1
if mountpoint -q /mnt/shared; then echo "  shared disk: mounted at /mnt/shared"; else echo "  shared disk: not mounted"; fi
if ip -4 -o addr show dev eth0 | grep -q " $vip/"; then echo "  floating IP: $vip, held here"; else echo "  floating IP: not here"; fi
units=
for u in docker containerd mongod postgresql-9.5; do units="$units $u=$(systemctl is-active $u.service)"; done
echo "  units:$units"
echo "  docker.service: Restart=$(systemctl show -p Restart --value docker.service)"
if docker info >/dev/null 2>&1; then
  echo "  containers on its engine:"
  docker ps -a --format "{{.Names}} {{.State}} ({{.Status}}) {{.Image}}" | sed "s/^/    /"
else
  echo "  engine: not running"
fi'

cmd_state() {
  [ "$#" -eq 1 ] || usage
  local name=$1 vip n
  vip=$(pair_vip "$name")
  for n in 1 2; do
    echo "$name-$n:"
    docker exec "$name-$n" sh -c "$state_script" sh "$vip" || echo "  (not running)"
  done
}

cmd_holder() {
  [ "$#" -eq 1 ] || usage
  local vip n
  vip=$(pair_vip "$1")
  for n in 1 2; do
    if holds_vip "$1-$n" "$vip"; then
      echo "$1-$n"
      return 0
    fi
  done
  echo none
}

# cmd_cluster's, for node N: configured once, the stack started when it is not running.
cluster_node() {
  if ! docker exec "$name-$1" test -e /etc/corosync/corosync.conf; then
    cluster_configure "$name" "$1" "$prefix" || return 1
  fi
  cluster_start_stack "$name" "$1" # a no-op where both run
}

cmd_cluster() {
  [ "$#" -eq 1 ] || usage
  local name=$1 prefix t0=$SECONDS
  prefix=$(pair_prefix "$name")
  pair_both cluster_node || die "corosync/pacemaker did not start on $name"
  cluster_wait_online "$name" 1 "${EVA_HA_CLUSTER_TIMEOUT:-90}" ||
    die "both nodes of $name not online within ${EVA_HA_CLUSTER_TIMEOUT:-90} s"
  say "cluster $name: both nodes online ($((SECONDS - t0)) s)"
}

pair_main "$@"
