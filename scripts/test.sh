#!/usr/bin/env bash
# The test command (README, "Try it, test it"; docs/development.md, "The test command"):
# installs and starts what the tests need, then runs
# all three tiers with cargo test:
#   1. unit tests (token vs jq vectors, configuration, process runner, parsers);
#   2. integration tests: the built binary against fake systemctl/journalctl/master scripts;
#   3. end to end: real systemd node containers with the real PostgreSQL (eva-start/stop),
#      pairs of drill nodes with real Docker engines (scripts/drill-nodes.sh),
#      private real Docker engines (eva-genw);
#   3b. the fake-node suites (start, stop, status, ocf, genw, cli, platform, verify, check, restart) once
#      more as RHEL 7.5 (EVA_TEST_SYSTEMD=219: the fake systemctl as systemd 219;
#      EVA_TEST_KERNEL=3.10: every run under scripts/kernel-3.10.py, the system calls newer
#      than Linux 3.10 refused with ENOSYS) and as RHEL 8 (systemd 239); the first run was
#      252's, RHEL 9's. Run when no cargo test arguments are given;
#   4. the release for RHEL 7 (scripts/test-release.sh: builds dist/ with scripts/release.sh,
#      checks the glibc 2.17 ceiling, the RPM and the tarball). Run when no cargo test
#      arguments are given (a run of a subset of the cargo tests skips it);
#   5. the short failover drill (scripts/drill.sh with its defaults: eva-ha, each fault
#      once, on a pair of drill nodes; it fails when eva-ha lost a row, failed over for
#      nothing, missed a recovery or ran anything on both nodes). Also only without
#      arguments; its records stay in target/drill/.
# Before all of them, when no arguments are given, the gates: `cargo fmt --check`
# (rustfmt.toml), `cargo clippy --all-targets -- -D warnings` and scripts/lint.sh
# (shellcheck) and the unit tests of the drills' verdict (scripts/drill/test_verdict.py);
# each fails the run.
# Every prerequisite is required here: a missing one fails the run, it never skips.
#   scripts/test.sh [cargo test arguments...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SAY_PREFIX=test.sh
# shellcheck source=scripts/private-engine.sh
. scripts/private-engine.sh # and scripts/lib.sh: say, apt_install

if [ $# -eq 0 ]; then
  say "gate: cargo fmt --check"
  cargo fmt --check
  say "gate: cargo clippy --all-targets -- -D warnings"
  cargo clippy --quiet --locked --all-targets -- -D warnings
  say "gate: scripts/lint.sh (shellcheck)"
  scripts/lint.sh
  say "gate: the drills' verdict and report (scripts/drill/test_verdict.py)"
  python3 -m unittest discover -s scripts/drill -p 'test_*.py'
fi

command -v jq >/dev/null || apt_install jq
command -v curl >/dev/null || apt_install curl         # eva-verify is checked against curl --cacert
command -v openssl >/dev/null || apt_install openssl   # and its certificates are made by openssl
engine_ensure_busybox # a static /bin/busybox: the containers of the eva-genw tests
command -v podman >/dev/null || apt_install podman
command -v runc >/dev/null || apt_install runc      # podman's OCI runtime where crun refuses hybrid cgroups
command -v psql >/dev/null || apt_install postgresql-client # the drill's writer, through the floating IP
scripts/ensure-docker.sh
say "node image: $(scripts/node-image.sh)"
say "drill node image: $(scripts/node-image.sh --drill)"

export EVA_HA_REQUIRE_ALL=1
say "cargo test $*"
cargo test --quiet --locked "$@"

if [ $# -eq 0 ]; then
  /usr/bin/python3 -c 'import seccomp' 2>/dev/null || apt_install python3-seccomp # kernel-3.10.py
  fake_node_suites=(--test start --test stop --test status --test ocf --test genw --test cli --test platform --test verify --test check --test restart)
  say "cargo test, the fake-node suites as RHEL 7.5: systemd 219, kernel 3.10"
  EVA_TEST_SYSTEMD=219 EVA_TEST_KERNEL=3.10 cargo test --quiet --locked "${fake_node_suites[@]}"
  say "cargo test, the fake-node suites as RHEL 8: systemd 239"
  EVA_TEST_SYSTEMD=239 cargo test --quiet --locked "${fake_node_suites[@]}"
  say "release: scripts/test-release.sh"
  scripts/test-release.sh
  say "drill: scripts/drill.sh (each fault once)"
  scripts/drill.sh
fi
