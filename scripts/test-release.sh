#!/usr/bin/env bash
# Tests the release for RHEL 7 (scripts/release.sh): builds it, then checks what an admin
# gets, from the artefacts in dist/ alone:
#   - the binary, the RPM's and the tarball's: glibc ceiling 2.17 (scripts/check-binary.sh);
#   - the RPM: every expected path (rpm -qlp), modes, links, %config(noreplace) on
#     /etc/eva-ha/eva-ha.toml, requirements and payload that RHEL 7's rpm 4.11 accepts
#     (gzip payload, no rpmlib feature newer than 4.11, no GLIBC_2.18+), digests;
#   - unpacked (rpm2cpio | cpio): --version shows the version and the commit, a link runs
#     its command, the sample configuration parses (also with every system call newer than
#     RHEL 7.5's kernel 3.10 refused: scripts/kernel-3.10.py), every man page renders (man -l) and a
#     .so page resolves, bash completion completes;
#   - installed into a scratch root with rpm, edited, upgraded to a newer package whose
#     sample changed: the edited configuration is kept (eva-ha.toml.rpmnew beside it);
#   - the tarball holds everything listed, links as links; SHA256SUMS verify.
# Ends with "release: N passed, 0 failed"; any failed check exits 1.
#   scripts/test-release.sh
# shellcheck disable=SC2016 # the `bash -c '...' _ ARGS` checks expand their own "$1", "$2"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh # say, apt_install
passed=0 failed=0
ok() { passed=$((passed + 1)); say "ok   $*"; }
bad() { failed=$((failed + 1)); say "FAIL $*"; }
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
  printf 'release: %d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
}

need=()
command -v cpio >/dev/null || need+=(cpio)
command -v rpm2cpio >/dev/null || need+=(rpm)
command -v man >/dev/null || need+=(man-db)
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"

start=$SECONDS
unset EVA_HA_GIT_COMMIT    # the commit must come from git, as in a release from a checkout
scripts/release.sh
say "release.sh took $((SECONDS - start)) s"

version=$(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="eva-ha"))')
head=$(git rev-parse --short=12 HEAD)
links=(eva-start eva-stop eva-genw eva-check eva-verify)
# The documentation the packages ship, as in the source: README.md's docs/ (the man pages
# name docs/admin-guide.md and docs/pacemaker.md).
docs=(docs/*.md docs/ja/README.md)
name=eva-ha-$version-x86_64-linux-glibc2.17
rpm=dist/eva-ha-$version-1.x86_64.rpm
tarball=dist/$name.tar.gz
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- the artefacts -----------------------------------------------------------
check "dist/ has the binary, tarball, RPM and SHA256SUMS" test -x dist/eva-ha -a -s "$tarball" -a -s "$rpm" -a -s dist/SHA256SUMS
check "SHA256SUMS verify" bash -c 'cd dist && sha256sum --quiet -c SHA256SUMS'
if highest=$(scripts/check-binary.sh dist/eva-ha 2>/dev/null); then ok "dist/eva-ha: glibc ceiling 2.17 (highest $highest)"; else bad "dist/eva-ha: glibc ceiling"; fi

# --- the RPM: metadata -------------------------------------------------------
q() { rpm -qp "$@" "$rpm" 2>/dev/null; }
check "RPM is eva-ha $version-1 x86_64" test "$(q --qf '%{NAME} %{VERSION}-%{RELEASE} %{ARCH}')" = "eva-ha $version-1 x86_64"
check "RPM license is Cargo.toml's (Apache-2.0)" test "$(q --qf '%{LICENSE}')" = Apache-2.0
listing=$(q -l)
expected=(/usr/sbin/eva-ha /etc/eva-ha /etc/eva-ha/eva-ha.toml
  /usr/share/doc/eva-ha/README.md /usr/share/doc/eva-ha/LICENSE
  /usr/share/doc/eva-ha/docs /usr/share/doc/eva-ha/docs/ja /usr/share/doc/eva-ha/docs/ja/README.md
  /usr/share/man/man1/eva-ha.1.gz /usr/share/man/man1/eva-ha-config.1.gz
  /usr/share/bash-completion/completions/eva-ha
  /usr/share/zsh/site-functions/_eva-ha /usr/share/fish/vendor_completions.d/eva-ha.fish
  /usr/lib/ocf/resource.d/eva-ha /usr/lib/ocf/resource.d/eva-ha/eva-master)
for doc in "${docs[@]}"; do
  expected+=("/usr/share/doc/eva-ha/$doc")
done
for link in "${links[@]}"; do
  sub=${link#eva-}
  expected+=("/usr/sbin/$link" "/usr/share/man/man1/$link.1.gz" "/usr/share/man/man1/eva-ha-$sub.1.gz"
    "/usr/share/bash-completion/completions/$link")
done
missing=()
for path in "${expected[@]}"; do
  grep -qxF "$path" <<<"$listing" || missing+=("$path")
done
check "rpm -qlp lists all ${#expected[@]} expected paths${missing:+ (missing: ${missing[*]})}" test ${#missing[@]} -eq 0
stray=$(grep -Ev '^(/usr/sbin/eva-|/etc/eva-ha(/|$)|/usr/lib/ocf/resource.d/eva-ha(/eva-master)?$|/usr/share/(man/man1|bash-completion/completions|zsh/site-functions|fish/vendor_completions.d)/|/usr/share/doc/eva-ha(/|$))' <<<"$listing" || true)
check "rpm -qlp lists nothing else${stray:+ (stray: $stray)}" test -z "$stray"
files=$(q --qf '[%{FILENAMES} %{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags} ->%{FILELINKTOS}\n]')
check "/usr/sbin/eva-ha is 0755 root:root" grep -qx '/usr/sbin/eva-ha -rwxr-xr-x root:root  ->' <<<"$files"
for link in "${links[@]}"; do
  check "/usr/sbin/$link is a link to eva-ha" grep -qE "^/usr/sbin/$link l[rwx-]{9} root:root  ->eva-ha\$" <<<"$files"
done
check "the OCF agent is a link to /usr/sbin/eva-ha" grep -qE "^/usr/lib/ocf/resource.d/eva-ha/eva-master l[rwx-]{9} root:root  ->/usr/sbin/eva-ha\$" <<<"$files"
check "/etc/eva-ha/eva-ha.toml is %config(noreplace), 0644" grep -qx '/etc/eva-ha/eva-ha.toml -rw-r--r-- root:root cn ->' <<<"$files"
check "rpm -qp --configfiles is /etc/eva-ha/eva-ha.toml alone" test "$(q --configfiles)" = /etc/eva-ha/eva-ha.toml
check "LICENSE is marked %license" grep -qE '^/usr/share/doc/eva-ha/LICENSE \S+ root:root d?l ->' <<<"$files"

# What RHEL 7's rpm 4.11 must accept: its rpmlib features, a gzip/xz/bzip2 payload, the
# SHA1 header and MD5 digests it verifies, and only libraries and versions EL7's glibc has.
check "payload is gzip (rpm 4.11 reads no zstd)" test "$(q --qf '%{PAYLOADCOMPRESSOR}')" = gzip
el7_rpmlib='CompressedFileNames|FileDigests|PayloadFilesHavePrefix|PayloadIsBzip2|PayloadIsXz|PayloadIsLzma|VersionedDependencies|ExplicitPackageProvide|PartialHardlinkSets|ScriptletInterpreterArgs|TildeInVersions|FileCaps'
requires=$(q --requires)
bad_rpmlib=$(grep '^rpmlib(' <<<"$requires" | grep -Ev "^rpmlib\(($el7_rpmlib)\)" || true)
check "rpmlib requirements are all rpm 4.11's${bad_rpmlib:+ (not: $bad_rpmlib)}" test -z "$bad_rpmlib"
bad_req=$(grep -v -e '^rpmlib(' -e "^config(eva-ha) = $version-1\$" <<<"$requires" |
  grep -Ev '^(libc\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libm\.so\.6|libgcc_s\.so\.1|ld-linux-x86-64\.so\.2)\((GLIBC_2\.([0-9]|1[0-7])(\.[0-9]+)?|GCC_[34]\.[0-9.]+)?\)\(64bit\)$' || true)
check "requires only EL7 glibc/libgcc up to GLIBC_2.17${bad_req:+ (not: $bad_req)}" test -z "$bad_req"
sig=$(rpm -Kv "$rpm" 2>&1)
check "rpm -K: header SHA1 and MD5 digests OK (what rpm 4.11 checks)" \
  bash -c 'grep -q "Header SHA1 digest: OK" <<<"$1" && grep -q "MD5 digest: OK" <<<"$1" && ! grep -qi "BAD\|NOT OK" <<<"$1"' _ "$sig"

# --- the RPM unpacked ----------------------------------------------------------
unpacked=$tmp/rpm
mkdir -p "$unpacked"
(cd "$unpacked" && rpm2cpio "$OLDPWD/$rpm" | cpio -idm --quiet)
bin=$unpacked/usr/sbin/eva-ha
if highest=$(scripts/check-binary.sh "$bin" 2>/dev/null); then ok "packaged eva-ha: glibc ceiling 2.17 (highest $highest)"; else bad "packaged eva-ha: glibc ceiling"; fi
shown=$("$bin" --version 2>&1 || true)
check "packaged eva-ha --version shows $version and commit $head ('$shown')" \
  grep -qE "^eva-ha $version \($head(-dirty)?\)\$" <<<"$shown"
for link in "${links[@]}"; do
  out=$("$unpacked/usr/sbin/$link" --help 2>&1 || true)
  check "packaged $link --help says 'Usage: $link'" grep -q "^Usage: $link " <<<"$out"
  check "packaged $link --version shows the commit" grep -qE "^$link $version \($head(-dirty)?\)\$" <<<"$("$unpacked/usr/sbin/$link" --version 2>&1)"
done
check "packaged eva-ha.toml is the sample (eva-ha.toml.example)" cmp -s "$unpacked/etc/eva-ha/eva-ha.toml" eva-ha.toml.example
check "packaged eva-ha config parses the packaged sample" \
  bash -c '"$1" config --config "$2" | grep -q "^# install_dir is not configured"' _ "$bin" "$unpacked/etc/eva-ha/eva-ha.toml"
check "packaged eva-ha parses the sample with the system calls of Linux 3.10 alone (scripts/kernel-3.10.py)" \
  bash -c 'scripts/kernel-3.10.py "$1" config --config "$2" | grep -q "^# install_dir is not configured"' _ "$bin" "$unpacked/etc/eva-ha/eva-ha.toml"
check "packaged README.md, docs/ and LICENSE are the source's" \
  bash -c 'cmp -s "$1/usr/share/doc/eva-ha/README.md" README.md && cmp -s "$1/usr/share/doc/eva-ha/LICENSE" LICENSE &&
    for f in "${@:2}"; do cmp -s "$1/usr/share/doc/eva-ha/$f" "$f" || exit 1; done' _ "$unpacked" "${docs[@]}"
docs_stray=$(find "$unpacked/usr/share/doc/eva-ha/docs" -type f -printf 'docs/%P\n' | sort | { grep -vxF -f <(printf '%s\n' "${docs[@]}") || true; })
check "the packaged docs/ is the source's docs/, no more${docs_stray:+ (stray: $docs_stray)}" test -z "$docs_stray"
mandir=$unpacked/usr/share/man
pages=0 unrendered=()
for page in "$mandir"/man1/*.1.gz; do
  pages=$((pages + 1))
  text=$(zcat "$page")
  if [[ $text == .so\ * ]]; then continue; fi
  grep -q '^\.TH ' <<<"$text" && MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q '^NAME' || unrendered+=("${page##*/}")
done
check "all $pages man pages are roff (.TH) and render with man -l${unrendered:+ (not: ${unrendered[*]})}" test ${#unrendered[@]} -eq 0
check "man eva-start shows the eva-start page with its synopsis and FILES" \
  bash -c 'MANWIDTH=80 man -M "$1" eva-start 2>/dev/null | grep -q "eva-start \[OPTIONS\]" && MANWIDTH=80 man -M "$1" eva-start 2>/dev/null | grep -q "/etc/eva-ha/eva-ha.toml"' _ "$mandir"
check "man eva-ha-start (.so) resolves to the eva-start page" \
  bash -c 'MANWIDTH=80 man -M "$1" eva-ha-start 2>/dev/null | grep -q "eva-start \[OPTIONS\]"' _ "$mandir"
check "man eva-ha lists the commands" \
  bash -c 'MANWIDTH=80 man -M "$1" eva-ha 2>/dev/null | grep -q "eva-ha-start(1)"' _ "$mandir"
completes() { # completes FILE COMMAND WORD EXPECTED: bash completion of "COMMAND WORD" offers EXPECTED
  bash -c 'source "$1" && COMP_WORDS=("$2" "$3") && COMP_CWORD=1 && fn=$(complete -p "$2" | sed -n "s/.*-F \([^ ]*\) .*/\1/p") &&
    "$fn" "$2" "$3" "$2" && printf "%s\n" "${COMPREPLY[@]}" | grep -qx -- "$4"' _ "$@" 2>/dev/null
}
comp=$unpacked/usr/share/bash-completion/completions
check "bash completion: eva-start --inst<TAB> offers --install-dir" completes "$comp/eva-start" eva-start --inst --install-dir
check "bash completion: eva-ha sta<TAB> offers start" completes "$comp/eva-ha" eva-ha sta start

# --- installed with rpm, then upgraded: the configuration is kept ------------
# Debian's rpm into a scratch root, without dependencies (the root has no glibc package).
root=$tmp/root
rpm_root() { rpm --root "$root" --nodeps "$@" 2>&1 | grep -v -e 'use Alien instead' -e 'assuming you know what you are doing' || true; }
mkdir -p "$root"
rpm --root "$root" --initdb
rpm_root -i "$rpm"
check "rpm -i installs eva-ha-$version-1" test "$(rpm --root "$root" -q eva-ha 2>/dev/null)" = "eva-ha-$version-1.x86_64"
check "rpm -V: installed files as packaged" bash -c 'rpm --root "$1" -V --nodeps eva-ha >/dev/null 2>&1' _ "$root"
sed -i 's|^#install_dir = .*|install_dir = "/home/eva/eva-master"|' "$root/etc/eva-ha/eva-ha.toml"
check "the edited configuration sets install_dir" \
  bash -c '"$1" config --config "$2" | grep -q "^install_dir = \"/home/eva/eva-master\"  # file"' _ "$bin" "$root/etc/eva-ha/eva-ha.toml"
# The next version, whose sample changed: built from the tarball's tree with the same spec.
next=$version.1
mkdir -p "$tmp/next"
tar -C "$tmp/next" -xzf "$tarball"
echo "# a line the next version added" >>"$tmp/next/$name/eva-ha.toml.example"
rpmbuild -bb --quiet --target x86_64 --define "_topdir $tmp/rpmbuild" --define "eva_version $next" \
  --define "eva_stage $tmp/next/$name" packaging/eva-ha.spec >"$tmp/rpmbuild.log" 2>&1 || cat "$tmp/rpmbuild.log" >&2
rpm_root -U "$tmp/rpmbuild/RPMS/x86_64/eva-ha-$next-1.x86_64.rpm"
check "rpm -U upgrades to eva-ha-$next-1" test "$(rpm --root "$root" -q eva-ha 2>/dev/null)" = "eva-ha-$next-1.x86_64"
check "upgrade keeps the edited /etc/eva-ha/eva-ha.toml (noreplace)" \
  grep -qx 'install_dir = "/home/eva/eva-master"' "$root/etc/eva-ha/eva-ha.toml"
check "upgrade puts the new sample beside it as eva-ha.toml.rpmnew" \
  grep -q '^# a line the next version added' "$root/etc/eva-ha/eva-ha.toml.rpmnew"
rpm_root -e eva-ha
check "rpm -e removes the binary and links, keeps the edited configuration (.rpmsave)" \
  bash -c '! test -e "$1/usr/sbin/eva-ha" && ! test -L "$1/usr/sbin/eva-start" && grep -q "^install_dir" "$1/etc/eva-ha/eva-ha.toml.rpmsave"' _ "$root"

# --- the tarball ---------------------------------------------------------------
tarlist=$(tar -tvzf "$tarball")
tar_expected=("$name/sbin/eva-ha" "$name/eva-ha.toml.example" "$name/README.md" "$name/LICENSE"
  "$name/share/man/man1/eva-ha.1.gz" "$name/share/bash-completion/completions/eva-ha"
  "$name/share/zsh/site-functions/_eva-ha" "$name/share/fish/vendor_completions.d/eva-ha.fish")
for link in "${links[@]}"; do
  tar_expected+=("$name/share/man/man1/$link.1.gz" "$name/share/bash-completion/completions/$link")
done
for doc in "${docs[@]}"; do
  tar_expected+=("$name/$doc")
done
missing=()
for path in "${tar_expected[@]}"; do
  grep -qE " $path\$" <<<"$tarlist" || missing+=("$path")
done
for link in "${links[@]}"; do
  grep -qE "^l.* $name/sbin/$link -> eva-ha\$" <<<"$tarlist" || missing+=("$name/sbin/$link -> eva-ha")
done
check "the tarball holds the binary, ${#links[@]} links, sample, man pages, completions, README, docs/, LICENSE${missing:+ (missing: ${missing[*]})}" test ${#missing[@]} -eq 0
check "the tarball's man pages are the RPM's" \
  test "$(tar -tzf "$tarball" | sed -n "s|^$name/share/man/man1/||p" | grep . | sort)" = "$(find "$mandir/man1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort)"
mkdir -p "$tmp/tar"
tar -C "$tmp/tar" -xzf "$tarball"
check "the tarball's binary is the RPM's and dist/'s" \
  bash -c 'cmp -s "$1" "$2" && cmp -s "$1" dist/eva-ha' _ "$tmp/tar/$name/sbin/eva-ha" "$bin"
check "the tarball's eva-stop runs eva-stop" \
  bash -c '"$1" --help | grep -q "^Usage: eva-stop "' _ "$tmp/tar/$name/sbin/eva-stop"

finish
