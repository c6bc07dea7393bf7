# shellcheck shell=bash
# A two-node Corosync/Pacemaker cluster on a pair of nodes (scripts/two-nodes.sh): what
# scripts/cluster.sh (the cluster tests) and scripts/drill-nodes.sh (the failover drills'
# nodes, `cluster`) share. Sourced after lib.sh and two-nodes.sh, never run:
#   corosync_conf NAME PREFIX      print NAME's corosync.conf (nodes PREFIX.11, PREFIX.12)
#   seed_cib                       a script for `sh -c` in a node: its first CIB, written
#                                  before Pacemaker starts
#   cluster_configure NAME N PREFIX
#                                  write corosync.conf and the first CIB on NAME-N
#   cluster_start_stack NAME N     start corosync and pacemaker on NAME-N
#   cluster_online_count NAME N    print how many nodes NAME-N's Pacemaker has online,
#                                  once a DC is elected (0 before, or when it does not answer)
#   cluster_wait_online NAME N SECONDS
#                                  until NAME-N's Pacemaker has both nodes online; fails
#                                  (after printing crm_mon and corosync-cfgtool -s) otherwise
# Corosync: knet over the network, no crypto (no authkey), votequorum two_node (a lone
# survivor keeps quorum, so the default no-quorum-policy=stop is right); logs to the
# journal. Pacemaker: no fencing device in containers, so stonith-enabled=false. The nodes
# need a /dev/shm of 256 MB (docker run --shm-size 256m): Corosync and Pacemaker's IPC
# (libqb) take about 33 MB of it idle, more per client; docker's default 64 MB is too tight.

corosync_conf() {
  local name=$1 prefix=$2
  cat <<EOF
# Written by eva-ha's scripts/corosync.sh for the cluster $name.
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

cluster_configure() {
  local name=$1 n=$2 prefix=$3
  corosync_conf "$name" "$prefix" | docker exec -i "$name-$n" sh -c \
    'umask 022 && mkdir -p /etc/corosync && cat >/etc/corosync/corosync.conf'
  docker exec "$name-$n" sh -c "$seed_cib"
}

cluster_start_stack() { docker exec "$1-$2" systemctl start corosync.service pacemaker.service; }

cluster_online_count() {
  local xml
  xml=$(docker exec "$1-$2" crm_mon -1 --output-as=xml 2>/dev/null) || {
    echo 0
    return
  }
  if ! grep -q '<current_dc present="true"' <<<"$xml"; then
    echo 0
    return
  fi
  grep -c '<node name=.* online="true".* pending="false"' <<<"$xml" || true
}

cluster_wait_online() {
  local name=$1 n=$2 limit=$3 t0=$SECONDS count=0
  while [ $((SECONDS - t0)) -lt "$limit" ]; do
    count=$(cluster_online_count "$name" "$n")
    [ "$count" -ge 2 ] && return 0
    sleep 1
  done
  docker exec "$name-$n" crm_mon -1 >&2 || true
  docker exec "$name-$n" corosync-cfgtool -s >&2 || true
  return 1
}
