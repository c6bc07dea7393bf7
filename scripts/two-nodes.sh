# shellcheck shell=bash
# Two eva-ha test nodes (scripts/node.sh) on a docker network of their own: what
# scripts/cluster.sh (a Pacemaker cluster) and scripts/drill-nodes.sh (the failover drills'
# nodes) share. Sourced after lib.sh, never run:
#   pair_network NAME LABEL...     create NAME-net on the first free 172.31.X.0/24 (labels
#                                  eva-ha-test=1 and LABEL...) and print its prefix, 172.31.X
#   pair_prefix NAME               print the prefix of NAME-net; die when there is none
#   pair_vip NAME                  print the floating IP of NAME: the prefix's .100
#   pair_run [--drill] NAME N PREFIX [ARG...]
#                                  node.sh run [--drill] NAME-N on NAME-net at PREFIX.1N, with
#                                  NET_ADMIN (the floating IP) and both nodes in /etc/hosts
#                                  (no reliance on docker's embedded DNS), plus docker ARGs
#   pair_both CMD...               run `CMD... N` for N = 1 and 2 at once; fail when either does
#   pair_install NAME BINARY       node.sh install BINARY on both nodes
#   pair_exec NAME N CMD...        replace the shell with `docker exec -i NAME-N CMD...`
#   pair_down NAME                 remove NAME-1, NAME-2, NAME-net and the volume
#                                  NAME-shared (a drill pair's shared disk) if there is one
#   pair_command SUB ARG...        the commands both scripts have, their arguments checked
#                                  (the script's usage otherwise): install NAME BINARY,
#                                  exec NAME N CMD..., ip NAME, down NAME
#   pair_main SUB ARG...           the script's command line: cmd_SUB ARG... (dashes in SUB
#                                  as underscores) when the script defines it, else
#                                  pair_command SUB ARG...
# The nodes are NAME-1 (PREFIX.11) and NAME-2 (PREFIX.12); NAME is a container name.

pair_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

pair_prefix() {
  local subnet
  subnet=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$1-net" 2>/dev/null) ||
    die "no nodes $1 (network $1-net is missing)"
  [[ "$subnet" =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.0/24$ ]] || die "$1-net has an unexpected subnet: $subnet"
  printf '%s\n' "${BASH_REMATCH[1]}"
}

pair_vip() {
  local prefix
  prefix=$(pair_prefix "$1") || exit 1
  printf '%s.100\n' "$prefix"
}

# The first free 172.31.X.0/24, X starting from a hash of NAME. "Free": no host route but
# the default reaches into it, and docker accepts it (docker refuses a subnet overlapping
# another network's: the check that settles a race between two pairs starting at once).
pair_network() {
  local name=$1 start x i prefix err label
  shift
  local -a labels=(--label eva-ha-test=1)
  for label in "$@"; do labels+=(--label "$label"); done
  start=$(($(printf '%s' "$name" | cksum | cut -d' ' -f1) % 256))
  for i in $(seq 0 255); do
    x=$(((start + i) % 256))
    prefix=172.31.$x
    if ip -4 route show to match "$prefix.1" 2>/dev/null | grep -qv '^default'; then
      continue
    fi
    if err=$(docker network create --driver bridge --subnet "$prefix.0/24" --gateway "$prefix.1" \
      "${labels[@]}" "$name-net" 2>&1 >/dev/null); then
      printf '%s\n' "$prefix"
      return 0
    fi
    case $err in
      *overlap*) continue ;;
      *) die "docker network create $name-net ($prefix.0/24): $err" ;;
    esac
  done
  die "no free /24 in 172.31.0.0/16 for $name-net"
}

pair_run() {
  local -a image=()
  if [ "$1" = --drill ]; then
    image=(--drill)
    shift
  fi
  local name=$1 n=$2 prefix=$3
  shift 3
  "$pair_here/node.sh" run "${image[@]}" "$name-$n" --network "$name-net" --ip "$prefix.1$n" \
    --cap-add NET_ADMIN \
    --add-host "$name-1:$prefix.11" --add-host "$name-2:$prefix.12" "$@"
}

pair_both() {
  local n pids=() failed=''
  for n in 1 2; do
    "$@" "$n" &
    pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || failed=1; done
  [ -z "$failed" ]
}

pair_install() {
  local name=$1 binary=$2
  pair_both pair_install_node || die "install on $name failed"
}

# pair_install's, for node N.
pair_install_node() { "$pair_here/node.sh" install "$name-$1" "$binary"; }

pair_exec() {
  local name=$1 n=$2
  shift 2
  exec docker exec -i "$name-$n" "$@"
}

pair_down() {
  docker rm -f "$1-1" "$1-2" >/dev/null 2>&1 || true
  if docker network inspect "$1-net" >/dev/null 2>&1; then
    docker network rm "$1-net" >/dev/null
  fi
  if docker volume inspect "$1-shared" >/dev/null 2>&1; then
    docker volume rm "$1-shared" >/dev/null
  fi
}

pair_command() {
  local sub=$1
  shift
  case $sub in
    install)
      [ "$#" -eq 2 ] || usage
      pair_install "$@"
      ;;
    exec)
      if [ "$#" -lt 3 ] || [[ "$2" != [12] ]]; then usage; fi
      pair_exec "$@"
      ;;
    ip)
      [ "$#" -eq 1 ] || usage
      pair_vip "$1"
      ;;
    down)
      [ "$#" -eq 1 ] || usage
      pair_down "$1"
      ;;
    *) usage ;;
  esac
}

pair_main() {
  [ "$#" -ge 1 ] || usage
  local sub=$1
  shift
  if [[ "$sub" =~ ^[a-z][a-z-]*$ ]] && declare -F "cmd_${sub//-/_}" >/dev/null; then
    "cmd_${sub//-/_}" "$@"
  else
    pair_command "$sub" "$@"
  fi
}
