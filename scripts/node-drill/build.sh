# shellcheck shell=bash
# shellcheck disable=SC2154 # root, here and base are node-image.sh's
# The drill node image's recipe, sourced by `scripts/node-image.sh --drill`, which defines
# root, in_root, put, tidy_root and import_root, sets base (the node image's tag) and calls
# build_drill TAG: the node image's root file system (docker export), plus what makes a
# drill node "the real thing", imported as TAG (label eva-ha-drill=1):
# - a real Docker engine: Debian's docker.io (dockerd, containerd, runc) run by
#   docker.service (this directory's: Docker's own unit without the socket, dockerd
#   --iptables=false --bridge=none --ip-masq=false --storage-driver=vfs), Restart= from the
#   drop-in docker.service.d/restart.conf (docker-restart-always.conf, as installed, or
#   docker-restart-no.conf); docker.socket masked; containerd.service disabled (docker.service
#   pulls it in);
# - the application image evadrill-usecase:1 (a static busybox, private-engine.sh
#   busybox-tar, imported into the host's engine, `docker save`d into
#   /usr/share/eva-drill/images/usecase.tar and removed again), for `docker load` into each
#   node's own engine (no registry);
# - PostgreSQL behind RHEL's paths: postgresql-9.5.service shaped like PGDG's (Type=forking,
#   pg_ctl), /usr/pgsql-9.5/bin linking to Debian's PostgreSQL 15, PGDATA
#   /var/lib/pgsql/9.5/data;
# - mongod.service: a stand-in that keeps its data in /var/lib/mongo;
# - the EVA master stand-in in /home/eva/eva-master (start-master-rhel.sh, stop-master.sh,
#   configuration.json) and EVA's REST API stand-in, eva-rest.py (the node's python3, run
#   by the start script as the container eva-rest on the node's engine; HTTPS with a
#   self-signed certificate made here by openssl, the same on every node, as a master's
#   certificate is);
# - the guide's links into the shared disk, mounted at /mnt/shared on the active node:
#   /opt/pulse -> /mnt/shared/pulse, /var/lib/mongo -> /mnt/shared/pulse/mongo (chown -h
#   mongod), /var/lib/pgsql/9.5/data -> /mnt/shared/pulse/pg_data (chown -h postgres); the
#   test node's /opt/pulse (the worker configuration with its workerToken) is kept as
#   /usr/share/eva-drill/pulse, which prepare-shared-disk copies onto a new shared disk;
# - /etc/eva-ha/eva-ha.toml: install_dir /home/eva/eva-master, shared_mount /mnt/shared.
# Every unit stays disabled at boot: only the cluster (or the drill) starts them.

build_drill() {
  # shellcheck disable=SC2034 # recipe_dir: put's
  local tag=$1 recipe_dir=$here/node-drill pg=/usr/lib/postgresql/15/bin cid f app=evadrill-usecase:1
  say "building $tag on $base (docker.io, python3, openssl, kmod and psmisc from the node's Debian mirror)"
  cid=$(docker create --name "evadrill-build-$$" "$base" /bin/true)
  if ! docker export "$cid" | tar -C "$root" -x --numeric-owner; then
    docker rm -f "$cid" >/dev/null
    die "cannot export $base"
  fi
  docker rm -f "$cid" >/dev/null
  rm -f "$root/.dockerenv"

  # Debian's packages, as debootstrap got the node's: apt in the chroot, services never
  # started there (policy-rc.d), the host's resolver.
  mount -t proc proc "$root/proc"
  mount --bind /dev "$root/dev"
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  rm -f "$root/usr/bin/docker" # the test node's stand-in client: docker.io brings the real one
  in_root apt-get -qq -o Acquire::Check-Valid-Until=false update
  # kmod and psmisc: modprobe and fuser, which resource-agents' Filesystem (the Pacemaker
  # drill driver's shared disk resource) insists on finding.
  in_root apt-get install -y -qq --no-install-recommends docker.io python3 openssl kmod psmisc >/dev/null
  rm -f "$root/usr/sbin/policy-rc.d"
  say "packages installed after ${SECONDS} s"

  # The engine: Docker's own unit, no socket activation, not at boot.
  in_root systemctl disable docker.service docker.socket containerd.service >/dev/null 2>&1 || true
  in_root systemctl mask docker.socket >/dev/null
  put 0644 docker.service /etc/systemd/system/docker.service
  put 0644 docker-restart-always.conf /usr/share/eva-drill/docker-restart-always.conf
  put 0644 docker-restart-no.conf /usr/share/eva-drill/docker-restart-no.conf
  put 0644 docker-restart-always.conf /etc/systemd/system/docker.service.d/restart.conf

  # PostgreSQL as RHEL's packages lay it out, data on the shared disk.
  put 0644 postgresql-9.5.service /etc/systemd/system/postgresql-9.5.service
  put 0755 postgresql95-check-db-dir /usr/pgsql-9.5/bin/postgresql95-check-db-dir
  for f in postgres pg_ctl initdb psql pg_isready; do ln -s "$pg/$f" "$root/usr/pgsql-9.5/bin/$f"; done
  put 0600 pg-drill.env /etc/eva-drill/pg-drill.env
  put 0755 prepare-shared-disk /usr/lib/eva-drill/prepare-shared-disk

  # The MongoDB stand-in, the master stand-in and its REST API.
  put 0644 mongod.service /etc/systemd/system/mongod.service
  put 0755 mongod-standin /usr/lib/eva-drill/mongod-standin
  put 0755 eva-rest.py /usr/lib/eva-drill/eva-rest.py
  put 0600 eva-rest.env /etc/eva-drill/eva-rest.env
  put 0755 start-master-rhel.sh /home/eva/eva-master/start-master-rhel.sh
  put 0755 stop-master.sh /home/eva/eva-master/stop-master.sh
  put 0644 configuration.json /home/eva/eva-master/configuration.json
  put 0644 eva-ha.toml /etc/eva-ha/eva-ha.toml
  rm -rf "$root/opt/eva" "$root/etc/eva-standin" # the test node's stand-ins
  install -d -m 0755 "$root/etc/eva-drill/tls"
  in_root openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=eva-master \
    -addext subjectAltName=DNS:eva-master -keyout /etc/eva-drill/tls/key.pem \
    -out /etc/eva-drill/tls/cert.pem 2>/dev/null
  chmod 0600 "$root/etc/eva-drill/tls/key.pem"
  in_root systemctl disable docker.service mongod.service postgresql-9.5.service >/dev/null 2>&1 || true
  umount "$root/dev" "$root/proc"

  # The applications' image, for docker load in each node.
  "$here/private-engine.sh" ensure-busybox
  "$here/private-engine.sh" busybox-tar | docker import --change 'CMD ["/bin/sh"]' - "$app" >/dev/null
  install -d -m 0755 "$root/usr/share/eva-drill/images"
  if ! docker save "$app" >"$root/usr/share/eva-drill/images/usecase.tar"; then
    docker rmi "$app" >/dev/null 2>&1 || true
    die "docker save $app failed"
  fi
  docker rmi "$app" >/dev/null

  # The guide's layout: the data's places are links into the shared disk, owned by the
  # databases' users.
  mv "$root/opt/pulse" "$root/usr/share/eva-drill/pulse"
  ln -s /mnt/shared/pulse "$root/opt/pulse"
  install -d -m 0755 "$root/mnt/shared" "$root/shared-disk" "$root/var/lib/pgsql/9.5"
  rm -rf "$root/var/lib/mongo"
  ln -s /mnt/shared/pulse/mongo "$root/var/lib/mongo"
  ln -s /mnt/shared/pulse/pg_data "$root/var/lib/pgsql/9.5/data"
  in_root chown -h mongod:mongod /var/lib/mongo
  in_root chown postgres:postgres /var/lib/pgsql /var/lib/pgsql/9.5
  in_root chown -h postgres:postgres /var/lib/pgsql/9.5/data

  printf 'eva-ha-drill\n' >"$root/etc/hostname"
  tidy_root
  import_root "$tag" "eva-ha drill node (a real Docker engine, PostgreSQL on the shared disk)" eva-ha-drill=1
}
