#!/usr/bin/env bash
# Packaging: builds the three .debs and the agent's MSI with scripts/package.sh (into a temporary
# directory) and checks them: files and modes (dpkg-deb -c), control fields and Depends against the
# binaries' shared libraries (dpkg-deb -I/-f), the maintainer scripts (sh -n, and run against stub
# commands: groups made, nothing enabled or started), the shipped units equal packaging/, the binaries
# run and carry the version, the udev rule's syntax (udevadm verify where it exists), the desktop entry
# (desktop-file-validate), the server unit (systemd-analyze verify and security, where installed) and
# its flags, the MSI's service tables (wixl, msiinfo). Exits non-zero on any failure. docs/packaging.md.
#
# desktop-file-validate, wixl and msiinfo come from scripts/install-deps.sh: with
# PRINTDOCK_REQUIRE_REAL=1 a missing one fails the run; systemd-analyze and udevadm verify are optional.
set -euo pipefail
cd "$(dirname "$0")/../.."

require_real=${PRINTDOCK_REQUIRE_REAL:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "70-packaging: FAIL: $*" >&2; fail=$((fail + 1)); }
ok() { echo "70-packaging: ok: $*"; }
# since/passed: `since` marks a group of checks, `passed MSG` reports it ok when none of them failed.
mark=0
since() { mark=$fail; }
passed() { [ "$fail" -eq "$mark" ] && ok "$*"; return 0; }
# missing TOOL required|optional WHAT: a skipped check, a failure when required under REQUIRE_REAL.
missing() {
  if [ "$2" = required ] && [ "$require_real" = 1 ]; then
    bad "$1 is missing (scripts/install-deps.sh), cannot check $3"
  else
    echo "70-packaging: skip: $1 is not installed, not checking $3"
  fi
}
have() { command -v "$1" >/dev/null 2>&1; }

for tool in dpkg-deb go; do
  have "$tool" || { echo "70-packaging: $tool is missing" >&2; exit 1; }
done

# ---------------------------------------------------------------------------------------------------
# Build. A fixed version checks the MSI's numeric ProductVersion too; TRIMPATH=0 reuses the test builds' cache.
version=1.2.3~test1
msi_version=1.2.3
dist=$tmp/dist
msi_mode=auto
[ "$require_real" = 1 ] && msi_mode=1
# Authenticode: a throwaway self-signed code-signing certificate (PKCS#12, password in a file) for
# package.sh's signing hook (SIGN_PFX, SIGN_PASSWORD_FILE), verified with osslsigncode below.
sign_env=()
if have osslsigncode && have openssl; then
  mkdir -p "$tmp/sign"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/sign/key.pem" -out "$tmp/sign/cert.pem" -days 2 \
    -subj "/CN=printdock test code signing" -addext extendedKeyUsage=codeSigning -addext keyUsage=digitalSignature 2>/dev/null
  head -c 18 /dev/urandom | base64 >"$tmp/sign/password"
  openssl pkcs12 -export -inkey "$tmp/sign/key.pem" -in "$tmp/sign/cert.pem" -out "$tmp/sign/sign.pfx" -passout "file:$tmp/sign/password"
  sign_env=(SIGN_PFX="$tmp/sign/sign.pfx" SIGN_PASSWORD_FILE="$tmp/sign/password")
else
  missing osslsigncode required "Authenticode signing"
fi
echo "70-packaging: building packages (scripts/package.sh, version $version)"
if ! env "${sign_env[@]}" VERSION=$version DIST=$dist TRIMPATH=0 PACKAGE_MSI=$msi_mode scripts/package.sh >"$tmp/package.log" 2>&1; then
  cat "$tmp/package.log" >&2
  echo "70-packaging: FAIL: scripts/package.sh failed" >&2
  exit 1
fi
arch=$(go env GOARCH)

# ---------------------------------------------------------------------------------------------------
# check_deb NAME EXPECTED: EXPECTED lines "MODE PATH" are exactly the package's files (directories
# aside), each owned by root/root; the control fields name the package, version and architecture.
check_deb() {
  local name=$1 expected=$2 deb="$dist/${1}_${version}_${arch}.deb"
  if [ ! -f "$deb" ]; then bad "$deb was not built"; return; fi
  dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $1, $2, $6 }' | sort >"$tmp/$name.files"
  printf '%s\n' "$expected" | awk 'NF { print $1, "root/root", $2 }' | sort >"$tmp/$name.want"
  if diff -u "$tmp/$name.want" "$tmp/$name.files" >"$tmp/$name.diff"; then
    ok "$name: files and modes ($(wc -l <"$tmp/$name.files") files)"
  else
    bad "$name: files differ from the expected list (- expected, + packaged):"
    cat "$tmp/$name.diff" >&2
  fi
  local field want got
  for field in Package Version Architecture Maintainer Description; do
    got=$(dpkg-deb -f "$deb" "$field")
    case $field in
    Package) want=$name ;;
    Version) want=$version ;;
    Architecture) want=$arch ;;
    *) want=${got:-"(empty)"} ;;
    esac
    if [ -z "$got" ] || [ "$got" != "$want" ]; then bad "$name: control field $field is '$got', want '$want'"; fi
  done
  dpkg-deb -x "$deb" "$tmp/root-$name"
  dpkg-deb -e "$deb" "$tmp/control-$name"
}

# depends_has NAME PKG...: the package's Depends names every PKG.
depends_has() {
  local name=$1 deb="$dist/${1}_${version}_${arch}.deb" p
  shift
  local deps
  deps=$(dpkg-deb -f "$deb" Depends | tr -d ' ' | tr ',' '\n' | sed 's/(.*//')
  for p in "$@"; do
    printf '%s\n' "$deps" | grep -qx "$p" || bad "$name: Depends lacks $p (has: ${deps//$'\n'/ })"
  done
}

# libs_covered NAME BINARY: every shared library the binary links (NEEDED) or loads by name (GLFW
# dlopens X11 and OpenGL) belongs to a package in Depends, as dpkg -S tells on this machine.
libs_covered() {
  local name=$1 bin=$2 lib owner libs
  since
  have objdump || { missing objdump optional "$name's shared libraries"; return; }
  libs=$(
    objdump -p "$bin" | awk '/NEEDED/ { print $2 }'
    strings -n 8 "$bin" | grep -xE 'lib(X11|X11-xcb|Xcursor|Xext|Xi|Xinerama|Xrandr|Xrender|Xxf86vm)\.so\.[0-9]+|libGL\.so\.1' || true
  )
  for lib in $(printf '%s\n' "$libs" | sort -u); do
    owner=$(dpkg -S "*/$lib" 2>/dev/null | head -1 | cut -d: -f1) || true
    if [ -z "$owner" ]; then
      missing "the package of $lib" optional "$name's Depends for it"
      continue
    fi
    depends_has "$name" "$owner"
  done
  passed "$name: Depends covers $(printf '%s\n' "$libs" | sort -u | wc -l) shared libraries"
}

# hygiene NAME SECTION BINARY: the Debian copyright file (machine-readable format; printdock under
# Apache-2.0; a Files paragraph with a recognised license for every Go module compiled into the binary,
# as `go version -m` lists them), the changelog (gzipped, this version first), the third-party notices
# (every module with its license text) and the man page (gzipped roff, every command of --help).
hygiene() {
  local name=$1 sec=$2 bin=$3 doc=$tmp/root-$1/usr/share/doc/$1 man
  man=$tmp/root-$1/usr/share/man/man$2/$1.$2.gz
  since
  local cr=$doc/copyright notices=$doc/THIRD-PARTY-NOTICES.txt mods m
  head -1 "$cr" | grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' ||
    bad "$name: copyright is not in the machine-readable format: $(head -1 "$cr")"
  awk '/^Files: \*$/ { f = 1; next } f && /^License:/ { print $2; exit }' "$cr" | grep -qx Apache-2.0 ||
    bad "$name: copyright does not put Files: * under Apache-2.0"
  # deb822: fields or continuation lines (one space) or blank lines between paragraphs, nothing else.
  grep -nvE '^([A-Za-z-]+: .*| .*|)$' "$cr" | head -3 | grep . && bad "$name: copyright has lines that are neither fields nor continuations"
  mods=$(go version -m "$bin" | awk '$1 == "dep" { print $2 } $1 == "=>" { print "replaced" }')
  [ -n "$mods" ] || bad "$name: go version -m lists no modules in $bin"
  for m in $mods; do
    awk -v f="Files: $m/*" '$0 == f { p = 1; next } p && /^License: / { ok = ($2 ~ /^(Apache-2.0|MPL-2.0|Expat|ISC|Zlib|BSD-[234]-clause|CC0-1.0|Unlicense|public-domain)$/); exit } END { exit !ok }' "$cr" ||
      bad "$name: copyright lacks a Files: $m/* paragraph with a recognised license"
    grep -qE "^  $m +v[^ ]+ +[A-Za-z0-9]" "$notices" || bad "$name: THIRD-PARTY-NOTICES.txt's summary lacks $m"
  done
  grep -q '^Files: go/src/\*$' "$cr" || bad "$name: copyright lacks the Go standard library"
  [ "$(grep -c '^--- \(LICEN[CS]E\|COPYING\)' "$notices")" -gt "$(wc -w <<<"$mods")" ] ||
    bad "$name: THIRD-PARTY-NOTICES.txt holds fewer license texts than modules"
  zcat "$doc/changelog.gz" | head -1 | grep -qxF "$name ($version) unstable; urgency=medium" ||
    bad "$name: changelog does not start with this version: $(zcat "$doc/changelog.gz" | head -1)"
  zcat "$doc/changelog.gz" | grep -qE '^ -- .+ <.+>  [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} ' ||
    bad "$name: changelog has no valid trailer line"
  if have man; then
    local rendered
    rendered=$(MANWIDTH=100 man -l "$man" 2>"$tmp/man.err") || bad "$name: man -l $man failed"
    grep -q . "$tmp/man.err" && bad "$name: man page warnings: $(head -3 "$tmp/man.err")"
    grep -q "^NAME" <<<"$rendered" && grep -q "^SYNOPSIS" <<<"$rendered" || bad "$name: man page lacks NAME or SYNOPSIS"
    zcat "$man" | head -3 | grep -q "^\.TH \"$(tr a-z A-Z <<<"$name" | sed 's/-/\\\\-/g')\" $sec " ||
      bad "$name: man page is not $name($sec): $(zcat "$man" | grep '^\.TH')"
    # Every command of the binary's --help has a subsection.
    local cmd
    for cmd in $("$bin" --help 2>&1 | awk '/^Commands:/ { c = 1; next } c && /^$/ { c = 0 } c && /^  [a-z]/ { print $1 }' | sort -u); do
      zcat "$man" | grep -qF ".SS $(sed 's/-/\\-/g' <<<"$cmd")" || bad "$name: man page has no section for command $cmd"
    done
  else
    missing man optional "$name's man page"
  fi
  passed "$name: copyright ($(wc -w <<<"$mods") modules), changelog, third-party notices, man page $name($sec)"
}

# stub_run SCRIPT ARGS...: runs a maintainer script with PATH holding only logging stubs (nothing on
# this machine changes); prints the log. getent answers "not found" unless STUB_GETENT_FOUND=1.
stubs=$tmp/stubs
mkdir -p "$stubs"
for cmd in addgroup adduser getent install udevadm systemctl rm; do
  cat >"$stubs/$cmd" <<EOF
#!/bin/sh
echo "$cmd \$*" >>"$tmp/stub.log"
[ "$cmd" = getent ] && [ "\${STUB_GETENT_FOUND:-0}" != 1 ] && exit 2
exit 0
EOF
  chmod +x "$stubs/$cmd"
done
stub_run() {
  : >"$tmp/stub.log"
  env -i PATH="$stubs" STUB_GETENT_FOUND="${STUB_GETENT_FOUND:-0}" /bin/sh "$@" >/dev/null 2>"$tmp/stub.err" ||
    { bad "$* failed: $(cat "$tmp/stub.err")"; return 0; }
  cat "$tmp/stub.log"
}

# enables_service SCRIPT: the script runs systemctl (or deb-systemd-*) for anything but daemon-reload
# and try-restart (the stubs cannot see this: /run/systemd/system does not exist here).
enables_service() {
  grep -E '^[[:space:]]*(systemctl|deb-systemd-(helper|invoke))' "$1" | grep -vE 'daemon-reload|try-restart' | grep -q .
}

# ---------------------------------------------------------------------------------------------------
# printdock-agent
check_deb printdock-agent "
-rwxr-xr-x ./usr/bin/printdock-agent
-rw-r--r-- ./lib/systemd/system/printdock-agent.service
-rw-r--r-- ./lib/udev/rules.d/60-printdock.rules
-rw-r--r-- ./usr/share/doc/printdock-agent/packaging.md
-rw-r--r-- ./usr/share/doc/printdock-agent/agent.md
-rw-r--r-- ./usr/share/doc/printdock-agent/copyright
-rw-r--r-- ./usr/share/doc/printdock-agent/changelog.gz
-rw-r--r-- ./usr/share/doc/printdock-agent/THIRD-PARTY-NOTICES.txt
-rw-r--r-- ./usr/share/man/man1/printdock-agent.1.gz"
r=$tmp/root-printdock-agent c=$tmp/control-printdock-agent
depends_has printdock-agent libusb-1.0-0 adduser
libs_covered printdock-agent "$r/usr/bin/printdock-agent"
cmp -s "$r/lib/systemd/system/printdock-agent.service" packaging/systemd/printdock-agent.service ||
  bad "printdock-agent: the packaged unit differs from packaging/systemd/printdock-agent.service"
cmp -s "$r/lib/udev/rules.d/60-printdock.rules" packaging/udev/60-printdock.rules ||
  bad "printdock-agent: the packaged udev rule differs from packaging/udev/60-printdock.rules"
out=$("$r/usr/bin/printdock-agent" version 2>&1) || bad "printdock-agent version failed: $out"
grep -qF "$version" <<<"$out" || bad "printdock-agent version says '$out', not $version"
hygiene printdock-agent 1 "$r/usr/bin/printdock-agent"
since
for s in postinst prerm postrm; do
  [ -x "$c/$s" ] || bad "printdock-agent: $s missing or not executable"
  sh -n "$c/$s" || bad "printdock-agent: $s has a syntax error"
done
log=$(stub_run "$c/postinst" configure "")
for g in printdock printdock-admin; do
  grep -qx "addgroup --quiet --system $g" <<<"$log" || bad "printdock-agent postinst (install) did not create group $g: $log"
done
grep -q "^adduser .*--system.*--ingroup printdock.* printdock-agent$" <<<"$log" || bad "printdock-agent postinst did not create the service user: $log"
enables_service "$c/postinst" && bad "printdock-agent postinst enables or starts the service (docs/packaging.md says it does not)"
log=$(STUB_GETENT_FOUND=1 stub_run "$c/postinst" configure 1.0.0)
grep -q "addgroup\|adduser" <<<"$log" && bad "printdock-agent postinst (upgrade) made groups or users that exist: $log"
log=$(stub_run "$c/prerm" remove)
grep -qx "systemctl --no-reload disable printdock-agent.service" <<<"$log" || bad "printdock-agent prerm remove did not disable the unit: $log"
log=$(stub_run "$c/prerm" upgrade 1.2.4)
[ -z "$log" ] || bad "printdock-agent prerm upgrade did something: $log"
log=$(stub_run "$c/postrm" purge)
grep -qx "rm -rf /var/lib/printdock /etc/printdock /run/printdock" <<<"$log" || bad "printdock-agent postrm purge did not delete the state: $log"
log=$(stub_run "$c/postrm" remove)
grep -q "^rm" <<<"$log" && bad "printdock-agent postrm remove deleted files: $log"
passed "printdock-agent: maintainer scripts (groups on install, nothing enabled, disable on remove, state gone on purge)"

# The udev rule: syntax (every line KEY[{attr}]OP"value", pairs separated by commas, match-only keys
# not assigned, assignment-only keys not compared, GOTO targets defined), then its content.
rule=packaging/udev/60-printdock.rules
if awk '
  function err(msg) { printf "%s:%d: %s\n", FILENAME, lineno, msg; bad = 1 }
  BEGIN {
    split("ACTION DEVPATH KERNEL KERNELS SUBSYSTEM SUBSYSTEMS DRIVER DRIVERS ATTRS TAGS TEST PROGRAM RESULT CONST SYSCTL", m, " ")
    for (i in m) matchonly[m[i]] = 1
    split("OWNER GROUP MODE SECLABEL RUN LABEL GOTO IMPORT OPTIONS", a, " ")
    for (i in a) assignonly[a[i]] = 1
    split("NAME SYMLINK ATTR ENV TAG", b, " ")
    for (i in b) both[b[i]] = 1
  }
  { raw = $0 }
  /\\$/ { buf = buf substr(raw, 1, length(raw) - 1); next }
  {
    line = buf raw; buf = ""; lineno = FNR
    sub(/^[ \t]+/, "", line)
    if (line == "" || line ~ /^#/) next
    n = 0
    while (line != "") {
      if (!match(line, /^[A-Z_]+(\{[^}]*\})?/)) { err("expected a key at: " line); break }
      key = substr(line, 1, RLENGTH); line = substr(line, RLENGTH + 1)
      base = key; sub(/\{.*/, "", base)
      if (!(base in matchonly) && !(base in assignonly) && !(base in both)) err("unknown key " key)
      sub(/^[ \t]*/, "", line)
      if (!match(line, /^(==|!=|\+=|-=|:=|=)/)) { err("expected an operator after " key); break }
      op = substr(line, 1, RLENGTH); line = substr(line, RLENGTH + 1)
      if ((base in matchonly) && op != "==" && op != "!=") err(key " can only be compared, not assigned (" op ")")
      if ((base in assignonly) && (op == "==" || op == "!=")) err(key " can only be assigned, not compared")
      sub(/^[ \t]*/, "", line)
      if (!match(line, /^"([^"\\]|\\.)*"/)) { err("expected a double-quoted value after " key op); break }
      val = substr(line, 2, RLENGTH - 2); line = substr(line, RLENGTH + 1)
      if (base == "GOTO") gotos[val] = lineno
      if (base == "LABEL") labels[val] = 1
      if (base == "MODE" && val !~ /^0?[0-7][0-7][0-7]$/) err("MODE " val " is not octal")
      n++
      sub(/^[ \t]*/, "", line)
      if (line == "") break
      if (substr(line, 1, 1) != ",") { err("expected a comma at: " line); break }
      line = substr(line, 2); sub(/^[ \t]*/, "", line)
    }
    if (n == 0) err("empty rule")
  }
  END {
    for (g in gotos) if (!(g in labels)) { lineno = gotos[g]; err("GOTO " g " has no LABEL") }
    exit bad
  }' "$rule" >"$tmp/udev.err"; then
  ok "udev rule: syntax"
else
  bad "udev rule: syntax errors:"
  cat "$tmp/udev.err" >&2
fi
for want in 'SUBSYSTEM!="usb"' 'ENV{DEVTYPE}!="usb_device"' 'ENV{ID_USB_INTERFACES}=="*:07????:*", MODE="0660", GROUP="printdock"' \
  'ATTR{idVendor}=="0a5f", MODE="0660", GROUP="printdock"'; do
  grep -qF -- "$want" "$rule" || bad "udev rule lacks: $want"
done
if have udevadm && udevadm verify --help >/dev/null 2>&1; then
  if udevadm verify --no-summary "$rule" >"$tmp/udevadm.log" 2>&1 || udevadm verify "$rule" >"$tmp/udevadm.log" 2>&1; then
    ok "udev rule: udevadm verify"
  else
    bad "udev rule: udevadm verify: $(cat "$tmp/udevadm.log")"
  fi
else
  missing "udevadm verify (systemd ≥ 254)" optional "the udev rule with udevadm"
fi

# ---------------------------------------------------------------------------------------------------
# printdock-server
check_deb printdock-server "
-rwxr-xr-x ./usr/bin/printdock-server
-rw-r--r-- ./lib/systemd/system/printdock-server.service
-rw------- ./etc/default/printdock-server
-rw-r--r-- ./usr/share/lintian/overrides/printdock-server
-rw-r--r-- ./usr/share/doc/printdock-server/packaging.md
-rw-r--r-- ./usr/share/doc/printdock-server/server.md
-rw-r--r-- ./usr/share/doc/printdock-server/postgres.md
-rw-r--r-- ./usr/share/doc/printdock-server/copyright
-rw-r--r-- ./usr/share/doc/printdock-server/changelog.gz
-rw-r--r-- ./usr/share/doc/printdock-server/THIRD-PARTY-NOTICES.txt
-rw-r--r-- ./usr/share/man/man8/printdock-server.8.gz"
r=$tmp/root-printdock-server c=$tmp/control-printdock-server
depends_has printdock-server adduser
grep -qx /etc/default/printdock-server "$c/conffiles" 2>/dev/null || bad "printdock-server: /etc/default/printdock-server is not a conffile"
if objdump -p "$r/usr/bin/printdock-server" 2>/dev/null | grep -q NEEDED; then
  bad "printdock-server is not static (CGO_ENABLED=0): $(objdump -p "$r/usr/bin/printdock-server" | grep NEEDED | tr -s ' ')"
fi
out=$("$r/usr/bin/printdock-server" version 2>&1) || bad "printdock-server version failed: $out"
grep -qF "$version" <<<"$out" || bad "printdock-server version says '$out', not $version"
unit=$r/lib/systemd/system/printdock-server.service
since
cmp -s "$unit" packaging/systemd/printdock-server.service || bad "printdock-server: packaged unit differs from packaging/"
for want in User=printdock-server StateDirectory=printdock-server NoNewPrivileges=yes ProtectSystem=strict \
  ProtectHome=yes PrivateTmp=yes 'CapabilityBoundingSet=' 'EnvironmentFile=-/etc/default/printdock-server' \
  'ExecStart=/usr/bin/printdock-server serve --data-dir /var/lib/printdock-server $PRINTDOCK_SERVER_OPTS'; do
  grep -qxF -- "$want" "$unit" || bad "printdock-server unit lacks the line: $want"
done
# Every flag the unit and /etc/default/printdock-server use (commented examples too) is a serve flag.
"$r/usr/bin/printdock-server" serve --help >"$tmp/serve.help" 2>&1 || true
for flag in $(grep -ohE -- '--[a-z][a-z-]+' <(grep ^ExecStart= "$unit") "$r/etc/default/printdock-server" | grep -vx -- --help | sort -u); do
  grep -qE -- "^ +--?${flag#--}( |\$)" "$tmp/serve.help" || bad "printdock-server serve has no flag $flag (used in the unit or /etc/default)"
done
passed "printdock-server: unit lines and flags"
hygiene printdock-server 8 "$r/usr/bin/printdock-server"
since
for s in postinst prerm postrm; do
  [ -x "$c/$s" ] || bad "printdock-server: $s missing or not executable"
  sh -n "$c/$s" || bad "printdock-server: $s has a syntax error"
done
log=$(stub_run "$c/postinst" configure "")
grep -q "^adduser .*--system.*printdock-server" <<<"$log" || bad "printdock-server postinst did not create the user: $log"
enables_service "$c/postinst" && bad "printdock-server postinst enables or starts the service (docs/packaging.md says it does not)"
log=$(stub_run "$c/postrm" purge)
grep -q "^rm" <<<"$log" && bad "printdock-server postrm purge deleted data: $log"
passed "printdock-server: maintainer scripts (user on install, nothing enabled, data kept on purge)"
if have systemd-analyze; then
  # verify wants ExecStart's binary on this machine: point it at the extracted one.
  mkdir -p "$tmp/units"
  for u in "$unit" "$tmp/root-printdock-agent/lib/systemd/system/printdock-agent.service"; do
    [ -f "$u" ] || continue
    sed -E "s#^ExecStart=/usr/bin/(printdock-[a-z]+)#ExecStart=$tmp/root-\1/usr/bin/\1#" "$u" >"$tmp/units/$(basename "$u")"
  done
  if systemd-analyze verify "$tmp/units/"*.service >"$tmp/verify.log" 2>&1 && ! grep -q . "$tmp/verify.log"; then
    ok "systemd-analyze verify (server and agent units)"
  else
    bad "systemd-analyze verify: $(cat "$tmp/verify.log")"
  fi
  if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
    if systemd-analyze security --offline=yes --threshold=20 "$tmp/units/printdock-server.service" >"$tmp/security.log" 2>&1; then
      ok "systemd-analyze security: server $(grep -o 'exposure level.*' "$tmp/security.log")"
    else
      bad "systemd-analyze security: the server unit's exposure is above 2.0: $(tail -1 "$tmp/security.log")"
    fi
    if systemd-analyze security --offline=yes --threshold=25 "$tmp/units/printdock-agent.service" >"$tmp/security-agent.log" 2>&1; then
      ok "systemd-analyze security: agent $(grep -o 'exposure level.*' "$tmp/security-agent.log")"
    else
      bad "systemd-analyze security: the agent unit's exposure is above 2.5: $(tail -1 "$tmp/security-agent.log")"
    fi
  fi
else
  missing systemd-analyze optional "the systemd units"
fi

# ---------------------------------------------------------------------------------------------------
# printdock (desktop app)
check_deb printdock "
-rwxr-xr-x ./usr/bin/printdock
-rw-r--r-- ./usr/share/applications/printdock.desktop
-rw-r--r-- ./usr/share/icons/hicolor/scalable/apps/printdock.svg
-rw-r--r-- ./usr/share/icons/hicolor/256x256/apps/printdock.png
-rw-r--r-- ./usr/share/doc/printdock/packaging.md
-rw-r--r-- ./usr/share/doc/printdock/gui.md
-rw-r--r-- ./usr/share/doc/printdock/copyright
-rw-r--r-- ./usr/share/doc/printdock/changelog.gz
-rw-r--r-- ./usr/share/doc/printdock/THIRD-PARTY-NOTICES.txt
-rw-r--r-- ./usr/share/man/man1/printdock.1.gz"
r=$tmp/root-printdock
libs_covered printdock "$r/usr/bin/printdock"
hygiene printdock 1 "$r/usr/bin/printdock"
desktop=$r/usr/share/applications/printdock.desktop
if have desktop-file-validate; then
  if desktop-file-validate "$desktop" >"$tmp/desktop.log" 2>&1 && ! grep -q . "$tmp/desktop.log"; then
    ok "desktop-file-validate"
  else
    bad "desktop-file-validate: $(cat "$tmp/desktop.log")"
  fi
else
  missing desktop-file-validate required "the desktop entry"
fi
since
exec_cmd=$(sed -n 's/^Exec=\([^ ]*\).*/\1/p' "$desktop")
icon=$(sed -n 's/^Icon=//p' "$desktop")
[ -x "$r/usr/bin/$exec_cmd" ] || bad "desktop entry: Exec=$exec_cmd is not /usr/bin/$exec_cmd in the package"
[ -f "$r/usr/share/icons/hicolor/scalable/apps/$icon.svg" ] || bad "desktop entry: Icon=$icon has no scalable icon"
head -c 8 "$r/usr/share/icons/hicolor/256x256/apps/printdock.png" | od -An -tx1 | tr -d ' \n' | grep -qx 89504e470d0a1a0a ||
  bad "the 256x256 icon is not a PNG"
grep -q '<svg ' "$r/usr/share/icons/hicolor/scalable/apps/printdock.svg" || bad "the scalable icon is not an SVG"
passed "printdock: desktop entry, icons"

# ---------------------------------------------------------------------------------------------------
# lintian, where installed (not by install-deps.sh): no errors, but for what is chosen on purpose — the
# default Maintainer's mail host, the static server, the app's description naming it.
if have lintian; then
  lintian --suppress-tags bogus-mail-host,bogus-mail-host-in-debian-changelog,statically-linked-binary,description-starts-with-package-name \
    "$dist"/*_"$version"_"$arch".deb >"$tmp/lintian.log" 2>&1 || true
  if grep -q '^E: ' "$tmp/lintian.log"; then
    bad "lintian errors: $(grep '^E: ' "$tmp/lintian.log" | head -5)"
  else
    ok "lintian: no errors ($(grep -c '^W: ' "$tmp/lintian.log") warnings)"
  fi
else
  missing lintian optional "the .debs with lintian"
fi

# ---------------------------------------------------------------------------------------------------
# Windows: the MSI (wixl) with the agent as a service.
msi=$dist/printdock-agent-$msi_version-x64.msi
if ! have wixl; then
  missing wixl required "the MSI"
elif [ ! -f "$msi" ]; then
  bad "$msi was not built"
else
  head -c 2 "$dist/windows/printdock-agent.exe" | grep -q MZ || bad "printdock-agent.exe is not a Windows executable"
  if ! have msiinfo; then
    missing msiinfo required "the MSI's tables"
  else
    since
    tab() { msiinfo export "$msi" "$1" | tail -n +4 | tr -d '\r'; }
    # ServiceInstall: name, display name, type 16 (own process), start 2 (auto), error control 1,
    # LocalSystem, arguments "run", component.
    tab ServiceInstall | awk -F'\t' '$2 == "printdock-agent" && $4 == 16 && $5 == 2 && $9 == "LocalSystem" && $11 == "run" { f = 1 } END { exit !f }' ||
      bad "MSI: no ServiceInstall of printdock-agent (own process, auto start, LocalSystem, run): $(tab ServiceInstall)"
    # ServiceControl: 162 = stop on install and uninstall, delete on uninstall; no start event.
    tab ServiceControl | awk -F'\t' '$2 == "printdock-agent" && $3 == 162 { f = 1 } END { exit !f }' ||
      bad "MSI: ServiceControl is not stop(both)+remove(uninstall): $(tab ServiceControl)"
    tab File | grep -q $'\tprintdock-agent.exe\t' || bad "MSI: no printdock-agent.exe"
    tab Directory | grep -qP '^INSTALLDIR\tProgramFiles64Folder\tprintdock$' || bad "MSI: not installed into ProgramFiles64Folder\\printdock"
    tab Property | grep -qP "^ProductVersion\t$msi_version\$" || bad "MSI: ProductVersion is not $msi_version"
    # The deferred sc.exe actions run inside the install script (InstallInitialize < seq < InstallFinalize).
    tab InstallExecuteSequence | awk -F'\t' '
      { seq[$1] = $3 }
      END { exit !(seq["InstallInitialize"] < seq["AgentRecovery"] && seq["AgentRecovery"] < seq["InstallFinalize"] &&
                   seq["InstallServices"] < seq["AgentDelayedStart"] && seq["RemoveExistingProducts"] < seq["InstallFiles"]) }' ||
      bad "MSI: InstallExecuteSequence out of order: $(tab InstallExecuteSequence | tr '\n' ' ')"
    tab File | grep -q $'\tLICENSE.txt\t' || bad "MSI: no LICENSE.txt beside the agent"
    tab File | grep -q $'\tTHIRD-PARTY-NOTICES.txt\t' || bad "MSI: no THIRD-PARTY-NOTICES.txt beside the agent"
    grep -q '^  golang.org/x/sys ' "$dist/windows/THIRD-PARTY-NOTICES.txt" || bad "MSI: the notices do not list golang.org/x/sys"
    # docs/windows.md: the desktop app, Start menu, Run key (AUTOSTART), PATH, configure, REMOVE_SECRET.
    tab File | grep -q $'\tprintdock.exe\t' || bad "MSI: no printdock.exe (the desktop app)"
    tab Shortcut | grep -qP '^AppStartMenu\tProgramMenuFolder\tprintdock\tApp\t\[#AppExe\]\t' || bad "MSI: no Start-menu shortcut to the app: $(tab Shortcut)"
    tab Component | awk -F'\t' '$1 == "AppAutostart" && $5 == "AUTOSTART=\"1\"" { f = 1 } END { exit !f }' || bad "MSI: the Run key is not conditional on AUTOSTART"
    tab Environment | grep -qP '^PathEnv\t=-\*PATH\t\[~\];\[INSTALLDIR\]\tAgentService$' || bad "MSI: the install directory is not appended to PATH: $(tab Environment)"
    tab CustomAction | grep -qP '^AgentConfigure\t\d+\tAgentExe\tconfigure --server-url "\[SERVER_URL\]"' || bad "MSI: no configure action for SERVER_URL"
    tab InstallExecuteSequence | grep -qP '^AgentForget\tREMOVE="ALL" AND REMOVE_SECRET="1"' || bad "MSI: the secret is not removed only with REMOVE_SECRET=1"
    passed "MSI: $(basename "$msi") ($(du -k "$msi" | cut -f1) KiB), service tables, app, Start menu, Run key, PATH, properties, license and notices"
  fi
  # Authenticode: the .exe and the MSI carry an intact signature by the test certificate (trusted
  # through -CAfile; Windows would not trust it), and a changed byte breaks it.
  if [ ${#sign_env[@]} -gt 0 ]; then
    since
    for f in "$dist/windows/printdock-agent.exe" "$dist/windows/printdock.exe" "$msi"; do
      [ -f "$f" ] || continue
      if ! osslsigncode verify -in "$f" -CAfile "$tmp/sign/cert.pem" >"$tmp/verify.out" 2>&1; then
        bad "Authenticode: $(basename "$f") does not verify: $(grep -iE 'fail|mismatch|error' "$tmp/verify.out" | head -3)"
        continue
      fi
      grep -q "Subject: /CN=printdock test code signing" "$tmp/verify.out" || bad "Authenticode: $(basename "$f") is not signed by the test certificate"
      grep -qx "Signature verification: ok" "$tmp/verify.out" || bad "Authenticode: $(basename "$f"): no 'Signature verification: ok'"
    done
    cp "$dist/windows/printdock-agent.exe" "$tmp/tampered.exe"
    printf 'X' | dd of="$tmp/tampered.exe" bs=1 seek=4096 conv=notrunc 2>/dev/null
    osslsigncode verify -in "$tmp/tampered.exe" -CAfile "$tmp/sign/cert.pem" >"$tmp/verify.out" 2>&1 &&
      bad "Authenticode: a changed byte in the signed .exe still verifies"
    passed "Authenticode: printdock-agent.exe, printdock.exe and the MSI signed (osslsigncode verify ok; a changed byte fails)"
  fi
fi

if [ "$fail" -ne 0 ]; then
  echo "70-packaging: FAILED" >&2
  exit 1
fi
echo "70-packaging: all packaging checks passed"
