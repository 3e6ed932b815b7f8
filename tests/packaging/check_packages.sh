#!/usr/bin/env bash
# ctest packaging_test: builds the Debian packages with scripts/package (only
# packaging when scripts/build already ran), unpacks each into a scratch root
# with `dpkg -x` and runs its program's --help from there (no LD_LIBRARY_PATH:
# the packages bundle no library), and checks that nothing is setuid/setgid
# and that neither package has a maintainer script.
# Usage: check_packages.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src="$1"
build="$2"
fail() { echo "FAIL: $*" >&2; exit 1; }

start=$(date +%s%N)
TACIT_BUILD_DIR="$build" TACIT_JOBS="${TACIT_JOBS:-2}" "$src/scripts/package" >"$build/packages.log" 2>&1 ||
  { cat "$build/packages.log" >&2; fail "scripts/package failed"; }
end=$(date +%s%N)
echo "scripts/package took $(((end - start) / 1000000)) ms"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

check_deb() {  # deb, then the program whose --help must work, then words the help must name
  local deb="$1" program="$2"
  shift 2
  [ -f "$deb" ] || fail "no package $deb"
  echo "== $(basename "$deb"): $(du -k "$deb" | cut -f1) KiB"
  local listing
  listing=$(dpkg-deb -c "$deb")
  # Mode strings like -rwsr-xr-x: an s/S in the owner or group execute place.
  # (grep reads a here-string, not a pipe: `echo | grep -q` under pipefail
  # fails at random when grep exits before echo has written everything.)
  if awk '{print $1}' <<<"$listing" | grep '^...[sS]\|^......[sS]' >/dev/null; then
    fail "$deb holds a setuid or setgid file: $(echo "$listing" | grep -E '^...[sS]|^......[sS]')"
  fi
  mkdir -p "$scratch/control"
  rm -rf "$scratch/control"/*
  dpkg-deb -e "$deb" "$scratch/control"
  for script in preinst postinst prerm postrm config triggers; do
    [ ! -e "$scratch/control/$script" ] || fail "$deb has a maintainer script: $script"
  done
  local root="$scratch/root-$(basename "$deb" .deb)"
  dpkg -x "$deb" "$root"
  local help code=0
  help=$(env -u LD_LIBRARY_PATH "$root/usr/bin/$program" --help 2>&1) || code=$?
  [ "$code" -eq 0 ] || fail "$program --help from the unpacked package exited $code: $help"
  for word in "$@"; do
    grep -q -- "$word" <<<"$help" || fail "$program --help does not name '$word'"
  done
  echo "$program --help from $root: exit 0, names: $*"
}

client_deb=$(ls "$build"/packages/tacit-client_*.deb)
coordinator_deb=$(ls "$build"/packages/tacit-coordinator_*.deb)
check_deb "$client_deb" tacit-client inspect erase pause resume collect shell-hook install-service privacy
check_deb "$coordinator_deb" tacit-coordinator serve pki

client_root="$scratch/root-$(basename "$client_deb" .deb)"
for program in tacit-client tacit-shell-event; do
  [ -x "$client_root/usr/bin/$program" ] || fail "the client package lacks /usr/bin/$program"
done
if [ -x "$build/bin/tacit-collector" ]; then
  [ -x "$client_root/usr/bin/tacit-collector" ] || fail "the client package lacks tacit-collector"
  grep -qx 'ExecStart=/usr/bin/tacit-collector --dir %h/.local/share/tacit' \
    "$client_root/usr/lib/systemd/user/tacit-collector.service" ||
    fail "the packaged collector unit does not run /usr/bin/tacit-collector"
fi
grep -qx 'ExecStart=/usr/bin/tacit-client --dir %h/.local/share/tacit run' \
  "$client_root/usr/lib/systemd/user/tacit-daemon.service" ||
  fail "the packaged daemon unit does not run /usr/bin/tacit-client run"
# The shell hook from the unpacked package names the sender beside it.
hook=$(env -u LD_LIBRARY_PATH "$client_root/usr/bin/tacit-client" --dir "$scratch/dir" shell-hook bash)
grep -q "'$client_root/usr/bin/tacit-shell-event'" <<<"$hook" ||
  fail "the shell hook does not name the packaged tacit-shell-event"

coordinator_root="$scratch/root-$(basename "$coordinator_deb" .deb)"
grep -qx 'User=tacit-coordinator' "$coordinator_root/usr/lib/systemd/system/tacit-coordinator.service" ||
  fail "the coordinator's system unit does not run as tacit-coordinator"
[ -f "$coordinator_root/usr/lib/sysusers.d/tacit-coordinator.conf" ] ||
  fail "the coordinator package lacks its sysusers.d entry"
echo "packages OK"
