#!/usr/bin/env bash
# arm64 Linux: builds the agent (cgo against Debian's arm64 libusb through multiarch) and the server
# (pure Go) for linux/arm64 as .deb and .rpm with scripts/package.sh arm64, checks the packages (arch,
# files, checksums, the binaries' ELF machine and the agent's libusb link), and smoke-runs the arm64
# agent under qemu-user: `version --json` and `status --json` (exit 3, not logged in). docs/packaging.md.
#
# gcc-aarch64-linux-gnu, libusb-1.0-0-dev:arm64, libc6:arm64 and qemu-user-static come from
# scripts/install-deps.sh; with PRINTDOCK_REQUIRE_REAL=1 a missing one fails the run.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail=0 tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
say() { echo "75-arm64: $*"; }
bad() { say "FAIL: $*" >&2; fail=$((fail + 1)); }
ok() { say "ok: $*"; }
have() { command -v "$1" >/dev/null 2>&1; }
# skip_or_fail WHAT: a part that cannot be checked; a failure when the real parts are required.
skip_or_fail() {
  case ${PRINTDOCK_REQUIRE_REAL:-0} in 1) bad "$1 (scripts/install-deps.sh)" ;; *) say "skip: $1" ;; esac
}

version=1.2.3~arm1
dist=$tmp/dist
usb_mode=auto
[ "${PRINTDOCK_REQUIRE_REAL:-0}" = 1 ] && usb_mode=1
start=$(date +%s)
if ! VERSION=$version DIST=$dist TRIMPATH=0 ARM64_USB=$usb_mode scripts/package.sh arm64 >"$tmp/package.log" 2>&1; then
  cat "$tmp/package.log" >&2
  echo "75-arm64: FAIL: scripts/package.sh arm64 failed" >&2
  exit 1
fi
ok "built in $(($(date +%s) - start)) s: $(grep -o 'arm64 (USB: [a-z]*)' "$tmp/package.log")"
a64=$dist/arm64

# The packages: architecture, files, checksums.
(cd "$a64" && sha256sum --quiet -c SHA256SUMS) || bad "SHA256SUMS does not match the packages"
for name in printdock-agent printdock-server; do
  deb=$a64/${name}_${version}_arm64.deb
  if [ ! -f "$deb" ]; then
    bad "$deb was not built"
    continue
  fi
  [ "$(dpkg-deb -f "$deb" Architecture)" = arm64 ] || bad "$name: .deb Architecture is $(dpkg-deb -f "$deb" Architecture)"
  dpkg-deb -c "$deb" >"$tmp/$name.files"
  grep -q "\./usr/bin/$name\$" "$tmp/$name.files" || bad "$name: .deb lacks /usr/bin/$name"
  grep -q "\./usr/share/doc/$name/copyright\$" "$tmp/$name.files" || bad "$name: .deb lacks its copyright file"
  grep -qE "  ${name}_${version}_arm64\.deb\$" "$a64/SHA256SUMS" || bad "$name: .deb not in SHA256SUMS"
  rpm=$(ls "$a64/$name"-*.aarch64.rpm 2>/dev/null | head -1)
  if [ -z "$rpm" ]; then
    bad "$name: no .rpm (aarch64)"
    continue
  fi
  grep -qF "  $(basename "$rpm")" "$a64/SHA256SUMS" || bad "$name: .rpm not in SHA256SUMS"
  # An RPM is a 96-byte lead (magic ed ab ee db) and a cpio payload; rpm(8) is not needed to check that.
  head -c 4 "$rpm" | od -An -tx1 | tr -d ' \n' | grep -qx edabeedb || bad "$name: $(basename "$rpm") is not an RPM"
  if have rpm; then
    rpm -qp --qf '%{ARCH}\n' "$rpm" 2>/dev/null | grep -qx aarch64 || bad "$name: rpm's arch is not aarch64"
    rpm -qpl "$rpm" >"$tmp/$name.rpmfiles" 2>/dev/null
    grep -qx "/usr/lib/systemd/system/$name.service" "$tmp/$name.rpmfiles" || bad "$name: rpm lacks its unit under /usr/lib/systemd"
    grep -qx "/usr/share/man/man[18]/$name.[18].gz" "$tmp/$name.rpmfiles" || bad "$name: rpm lacks its man page"
    if [ "$name" = printdock-agent ]; then
      rpm -qpR "$rpm" 2>/dev/null | grep -qxF 'libusb-1.0.so.0()(64bit)' || bad "$name: rpm does not require libusb-1.0.so.0()(64bit)"
    fi
    rpm -qp --scripts "$rpm" 2>/dev/null | grep -q 'groupadd\|useradd' || bad "$name: rpm's scripts do not use groupadd/useradd"
  else
    skip_or_fail "rpm is not installed: the .rpm headers were not read"
  fi
done
[ "$fail" -eq 0 ] && ok "agent and server .deb and .rpm for arm64, SHA256SUMS"
passed_before=$fail

agent=$a64/bin/printdock-agent
server=$a64/bin/printdock-server
file -b "$agent" | grep -q 'ARM aarch64' || bad "the agent is not an arm64 ELF: $(file -b "$agent")"
file -b "$server" | grep -q 'ARM aarch64' || bad "the server is not an arm64 ELF: $(file -b "$server")"
file -b "$server" | grep -q 'statically linked' || bad "the arm64 server is not static: $(file -b "$server")"
usb=no
if grep -q 'arm64 (USB: yes)' "$tmp/package.log"; then
  usb=yes
  grep -q "NEEDED.*libusb-1.0.so.0" <<<"$(objdump -p "$agent" 2>/dev/null)" || bad "the arm64 agent (USB) does not link libusb-1.0.so.0"
else
  skip_or_fail "the arm64 agent was built without USB (no aarch64-linux-gnu-gcc or libusb-1.0-0-dev:arm64)"
fi

# Smoke run under qemu-user. The agent is dynamically linked (libc, libusb): -L / finds the arm64 loader
# and libraries multiarch installed (/lib/ld-linux-aarch64.so.1, /usr/lib/aarch64-linux-gnu). The cross
# toolchain's own sysroot (/usr/aarch64-linux-gnu) hangs cgo binaries in qemu 7.2, so it is not used.
qemu=
for q in qemu-aarch64-static qemu-aarch64; do have "$q" && { qemu=$q; break; }; done
if [ -z "$qemu" ]; then
  skip_or_fail "qemu-user is not installed: the arm64 agent was not run"
elif [ "$usb" = yes ] && [ ! -e /lib/ld-linux-aarch64.so.1 ]; then
  skip_or_fail "libc6:arm64 is not installed: the dynamically linked arm64 agent cannot run under qemu"
else
  start=$(date +%s)
  out=$(timeout -s KILL 120 "$qemu" -L / "$agent" version --json 2>&1) || bad "qemu: printdock-agent version --json failed: $out"
  grep -qF "\"version\": \"$version\"" <<<"$out" || bad "qemu: version --json says $out, not $version"
  out=$(timeout -s KILL 120 "$qemu" -L / "$server" version 2>&1) || bad "qemu: printdock-server version failed: $out"
  grep -qF "$version" <<<"$out" || bad "qemu: printdock-server version says $out"
  mkdir -p "$tmp/home"
  rc=0
  out=$(HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config timeout -s KILL 120 "$qemu" -L / "$agent" \
    --state-dir "$tmp/state" --keystore file status --json 2>"$tmp/status.err") || rc=$?
  [ "$rc" = 3 ] || bad "qemu: status --json exited $rc, want 3 (not logged in): $(cat "$tmp/status.err")"
  grep -qF '"state": "not_logged_in"' <<<"$out" || bad "qemu: status --json lacks state not_logged_in: $out"
  grep -qF "\"version\": \"$version\"" <<<"$out" || bad "qemu: status --json lacks the version: $out"
  grep -qF "\"state_dir\": \"$tmp/state\"" <<<"$out" || bad "qemu: status --json lacks the state dir: $out"
  [ "$fail" -eq "$passed_before" ] && ok "qemu ($qemu): arm64 agent version --json, status --json (exit 3, not_logged_in), server version in $(($(date +%s) - start)) s"
fi

if [ "$fail" -ne 0 ]; then
  echo "75-arm64: FAILED" >&2
  exit 1
fi
echo "75-arm64: all arm64 checks passed"
