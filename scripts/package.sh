#!/usr/bin/env bash
# Builds printdock's installable packages into dist/ (docs/packaging.md):
#   dist/printdock-agent_VERSION_ARCH.deb   agent binary, systemd unit, udev rule, groups (postinst)
#   dist/printdock-server_VERSION_ARCH.deb  server binary, systemd unit, /etc/default/printdock-server
#   dist/printdock_VERSION_ARCH.deb         desktop app, desktop entry, icons
#   dist/printdock-agent-MSIVERSION-x64.msi Windows agent as a service (needs wixl), Authenticode-signed
#                                           with its .exe when SIGN_PFX is set (osslsigncode)
#   dist/arm64/                             target arm64: agent and server for linux/arm64 as .deb and
#                                           .rpm, with SHA256SUMS
# and the binaries they hold (dist/bin/, dist/windows/, dist/arm64/bin/). Every package carries the
# third-party notices (internal/notices); each .deb also a Debian copyright file, a changelog and the
# command's man page (internal/manpages, from the binary's help).
#
# Usage: scripts/package.sh [agent] [server] [desktop] [msi] [arm64]   (default: the first four)
# Environment:
#   VERSION      package version (default: from `git describe --tags --always --dirty`; an untagged
#                tree gives 0.0.0+gitYYYYMMDD.HASH, as a Debian version must start with a digit)
#   MAINTAINER   the .debs' Maintainer field (default "printdock <printdock@localhost>")
#   DIST         output directory (default dist)
#   TRIMPATH     1 (default) builds with -trimpath; 0 shares the build cache with the test builds
#   PACKAGE_MSI  auto (default: build the MSI when wixl is installed), 1 (wixl required), 0 (skip)
#   NFPM         the nfpm command (default: go run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.0)
#   SIGN_PFX     a PKCS#12 file with the Authenticode code-signing certificate and key: signs the .exe
#                files and the MSI (osslsigncode); unset: unsigned
#   SIGN_PASSWORD_FILE  the file holding the PFX's password (never on the command line)
#   SIGN_TIMESTAMP_URL  an RFC 3161 time-stamping server (optional; the signature outlives the certificate)
#   WIN_APP_EXE  a prebuilt printdock.exe for the MSI instead of building it (tests)
#   ARM64_USB    auto (default: cgo with arm64 libusb when aarch64-linux-gnu-gcc and libusb-1.0-0-dev:arm64
#                are installed, else -tags nousb), 1 (USB required), 0 (nousb)
set -euo pipefail
cd "$(dirname "$0")/.."

DIST=${DIST:-dist}
MAINTAINER=${MAINTAINER:-printdock <printdock@localhost>}
TRIMPATH=${TRIMPATH:-1}
PACKAGE_MSI=${PACKAGE_MSI:-auto}
NFPM=${NFPM:-go run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.0}
ARM64_USB=${ARM64_USB:-auto}

log() { echo "package: $*" >&2; }
die() { log "$*"; exit 1; }

# git_version turns `git describe` into a Debian version: v1.2.3 → 1.2.3,
# v1.2.3-4-gabc1234-dirty → 1.2.3+4.gabc1234.dirty, abc1234 → 0.0.0+git20261123.abc1234.
git_version() {
  local d date
  d=$(git describe --tags --always --dirty 2>/dev/null) || { echo "0.0.0+unknown"; return; }
  if [[ $d =~ ^v?([0-9]+(\.[0-9]+)*)(-(.*))?$ ]]; then
    local v=${BASH_REMATCH[1]} rest=${BASH_REMATCH[4]}
    [ -n "$rest" ] && v="$v+${rest//-/.}"
    echo "$v"
    return
  fi
  date=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d 2>/dev/null || echo 0)
  echo "0.0.0+git$date.${d//-/.}"
}

VERSION=${VERSION:-$(git_version)}
[[ $VERSION =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || die "VERSION $VERSION is not a Debian version (digits first; then letters, digits, . + ~)"
# MSI: ProductVersion is major.minor.build (≤ 255.255.65535), taken from the front of VERSION.
MSI_VERSION=0.0.0
if [[ $VERSION =~ ^([0-9]+)\.([0-9]+)\.([0-9]+) ]]; then
  MSI_VERSION="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
  if [ "${BASH_REMATCH[1]}" -gt 255 ] || [ "${BASH_REMATCH[2]}" -gt 255 ] || [ "${BASH_REMATCH[3]}" -gt 65535 ]; then
    die "VERSION $VERSION does not fit an MSI ProductVersion (at most 255.255.65535)"
  fi
fi
ARCH=$(go env GOARCH)
# Reproducible timestamps inside the packages: the commit's time.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export VERSION ARCH MAINTAINER SOURCE_DATE_EPOCH

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(agent server desktop msi)
for t in "${targets[@]}"; do
  case $t in agent | server | desktop | msi | arm64) ;; *) die "unknown target $t (agent, server, desktop, msi, arm64)" ;; esac
done
want() { local t; for t in "${targets[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }

mkdir -p "$DIST/bin" "$DIST/windows" "$DIST/gen"
# dist/ ignores itself, whatever the repository's .gitignore says.
[ -e "$DIST/.gitignore" ] || echo '*' >"$DIST/.gitignore"
PRINTDOCK_BIN=$(cd "$DIST/bin" && pwd)
# PRINTDOCK_GEN/NAME/ holds what is generated for package NAME: copyright, changelog.gz,
# THIRD-PARTY-NOTICES.txt and the man page (docs_for below).
PRINTDOCK_GEN=$(cd "$DIST/gen" && pwd)
export PRINTDOCK_BIN PRINTDOCK_GEN

flags=()
[ "$TRIMPATH" = 1 ] && flags+=(-trimpath)
agent_ldflags="-s -w -X printdock/agent.Version=$VERSION"

log "version $VERSION (MSI $MSI_VERSION), $ARCH, into $DIST/"

nfpm() {
  local name=$1
  rm -f "$DIST/${name}_"*.deb
  # shellcheck disable=SC2086 # NFPM is a command line
  $NFPM package --packager deb --config "packaging/nfpm/$name.yaml" --target "$DIST/" >&2
  ls "$DIST/${name}_${VERSION}_${ARCH}.deb" >/dev/null
}

# The generators (internal/notices, internal/manpages), built for this machine once per run.
tools=$PRINTDOCK_GEN/tools
built_tools=" "
tool() {
  if [[ $built_tools != *" $1 "* ]]; then
    go build -o "$tools/$1" "./internal/$1"
    built_tools+="$1 "
  fi
  "$tools/$@"
}

# docs_for NAME [MAN_SECTION MAN_SUMMARY MAN_SEE_ALSO HELP_BINARY] -- BINARY...: the generated files of
# package NAME in $PRINTDOCK_GEN/NAME/: the third-party notices and the Debian copyright file of the
# Go modules compiled into BINARY..., a Debian changelog (gzipped), and the man page NAME.SECTION.gz
# from HELP_BINARY's help (a binary this machine can run).
docs_for() {
  local name=$1 out=$PRINTDOCK_GEN/$1
  shift
  mkdir -p "$out"
  if [ "$1" != -- ]; then
    local section=$1 summary=$2 see=$3 helpbin=$4
    shift 4
    tool manpages -bin "$helpbin" -name "$name" -section "$section" -summary "$summary" -version "$VERSION" \
      -see-also "$see" -o "$out/$name.$section"
    gzip -9nf "$out/$name.$section"
  fi
  shift
  tool notices -format notices -package "${name%-windows}" -o "$out/THIRD-PARTY-NOTICES.txt" "$@"
  tool notices -format copyright -package "${name%-windows}" -o "$out/copyright" "$@"
  local date commit
  date=$(TZ=UTC date -d "@$SOURCE_DATE_EPOCH" -R)
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  printf '%s (%s) unstable; urgency=medium\n\n  * printdock %s, built from commit %s.\n    The changes are in the project'"'"'s history and docs/.\n\n -- %s  %s\n' \
    "$name" "$VERSION" "$VERSION" "$commit" "$MAINTAINER" "$date" | gzip -9n >"$out/changelog.gz"
}
man_agent=(1 "prints label jobs from printdock-server on this PC's printers" "printdock-server(8),printdock(1)")
man_server=(8 "printdock server: credentials, print jobs and web portal for label printing" "printdock-agent(1),printdock(1)")
man_app=(1 "printdock desktop app: sign this PC in and watch its label printers" "printdock-agent(1),printdock-server(8)")

# sign FILE DESCRIPTION: Authenticode-signs FILE in place with SIGN_PFX (osslsigncode), when set.
sign() {
  [ -n "${SIGN_PFX:-}" ] || return 0
  command -v osslsigncode >/dev/null || die "SIGN_PFX is set but osslsigncode is missing (apt-get install osslsigncode)"
  [ -r "${SIGN_PASSWORD_FILE:-}" ] || die "SIGN_PFX is set but SIGN_PASSWORD_FILE is not a readable file"
  local ts=()
  [ -n "${SIGN_TIMESTAMP_URL:-}" ] && ts=(-ts "$SIGN_TIMESTAMP_URL")
  osslsigncode sign -pkcs12 "$SIGN_PFX" -readpass "$SIGN_PASSWORD_FILE" -h sha256 -n "$2" \
    -i https://github.com/printdock "${ts[@]}" -in "$1" -out "$1.signed" >&2
  mv "$1.signed" "$1"
  log "signed $(basename "$1") (Authenticode)"
}

if want agent; then
  log "building printdock-agent (cgo, libusb)"
  go build "${flags[@]}" -ldflags "$agent_ldflags" -o "$DIST/bin/printdock-agent" ./cmd/printdock-agent
  docs_for printdock-agent "${man_agent[@]}" "$DIST/bin/printdock-agent" -- "$DIST/bin/printdock-agent"
  nfpm printdock-agent
fi
if want server; then
  log "building printdock-server (pure Go, static)"
  CGO_ENABLED=0 go build "${flags[@]}" -ldflags "-s -w -X main.version=$VERSION" -o "$DIST/bin/printdock-server" ./cmd/printdock-server
  docs_for printdock-server "${man_server[@]}" "$DIST/bin/printdock-server" -- "$DIST/bin/printdock-server"
  nfpm printdock-server
fi
if want desktop; then
  log "building printdock (cgo, Fyne X11 build; a cold build takes minutes)"
  go build "${flags[@]}" -tags x11 -ldflags "$agent_ldflags" -o "$DIST/bin/printdock" ./cmd/printdock
  docs_for printdock "${man_app[@]}" "$DIST/bin/printdock" -- "$DIST/bin/printdock"
  nfpm printdock
fi
# win_app OUT: the Windows desktop app (cmd/printdock) cross-built with mingw-w64, with a resource
# .syso (icon, manifest, version info) compiled by windres from packaging/windows/printdock.rc.
WIN_CC=${WIN_CC:-x86_64-w64-mingw32-gcc}
win_app() {
  if [ -n "${WIN_APP_EXE:-}" ]; then # a prebuilt app (the Wine suite's second MSI)
    cp "$WIN_APP_EXE" "$1"
    return
  fi
  local syso=cmd/printdock/rsrc_windows_amd64.syso
  local v=${MSI_VERSION//./,}
  convert packaging/icons/printdock-256.png -define icon:auto-resize=256,64,48,32,16 "$PRINTDOCK_GEN/printdock.ico"
  x86_64-w64-mingw32-windres -DPD_VERSION="$v,0" -DPD_VERSION_STR="\\\"$VERSION\\\"" \
    -I packaging/windows -I "$PRINTDOCK_GEN" -O coff -o "$syso" packaging/windows/printdock.rc
  CC=$WIN_CC GOOS=windows GOARCH=amd64 CGO_ENABLED=1 go build "${flags[@]}" \
    -ldflags "$agent_ldflags -H windowsgui" -o "$1" ./cmd/printdock || { rm -f "$syso"; return 1; }
  rm -f "$syso"
}

# msi_fixups MSI: what wixl 0.101 cannot express, added with msibuild (msitools): the agent on the
# system PATH (Environment table, packaging/windows/environment.idt, and its two standard actions),
# the condition AUTOSTART="1" of the Run-key component, the Start-menu shortcut's target (wixl
# writes the feature, as for an advertised shortcut), and the public properties in
# SecureCustomProperties (so that a managed, elevated install passes them to the server side).
msi_fixups() {
  msibuild "$1" -i packaging/windows/environment.idt \
    -q "INSERT INTO InstallExecuteSequence (Action, Condition, Sequence) VALUES ('RemoveEnvironmentStrings', '', 3300)" \
    -q "INSERT INTO InstallExecuteSequence (Action, Condition, Sequence) VALUES ('WriteEnvironmentStrings', '', 5200)" \
    -q "UPDATE Component SET Condition = 'AUTOSTART=\"1\"' WHERE Component = 'AppAutostart'" \
    -q "UPDATE Shortcut SET Target = '[#AppExe]' WHERE Shortcut = 'AppStartMenu'" \
    -q "UPDATE Property SET Value = 'WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED;SERVER_URL;CA_FILE;STATUS_MODE;AUTOSTART;REMOVE_SECRET' WHERE Property = 'SecureCustomProperties'"
}

if want msi; then
  msi="printdock-agent-$MSI_VERSION-x64.msi"
  if [ "$PACKAGE_MSI" = 0 ]; then
    log "MSI skipped (PACKAGE_MSI=0)"
  elif ! command -v wixl >/dev/null; then
    [ "$PACKAGE_MSI" = 1 ] && die "wixl is missing (apt-get install wixl) and PACKAGE_MSI=1"
    log "MSI skipped: wixl is not installed (apt-get install wixl)"
  else
    log "building printdock-agent.exe (windows/amd64, no cgo), printdock.exe (Fyne, cgo with mingw-w64) and $msi"
    command -v "$WIN_CC" >/dev/null || die "$WIN_CC is missing (apt-get install gcc-mingw-w64-x86-64): the MSI holds the desktop app"
    GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build "${flags[@]}" -ldflags "$agent_ldflags" \
      -o "$DIST/windows/printdock-agent.exe" ./cmd/printdock-agent
    # The desktop app: a GUI-subsystem .exe with its icon, manifest and version info (a .syso made
    # from packaging/windows/printdock.rc with mingw's windres; a cold cgo build takes minutes).
    win_app "$DIST/windows/printdock.exe"
    sign "$DIST/windows/printdock-agent.exe" "printdock agent"
    sign "$DIST/windows/printdock.exe" "printdock"
    docs_for printdock-agent-windows -- "$DIST/windows/printdock-agent.exe" "$DIST/windows/printdock.exe"
    cp "$PRINTDOCK_GEN/printdock-agent-windows/THIRD-PARTY-NOTICES.txt" "$DIST/windows/THIRD-PARTY-NOTICES.txt"
    cp LICENSE "$DIST/windows/LICENSE.txt"
    wxs=$(pwd)/packaging/windows/printdock-agent.wxs
    rm -f "$DIST"/printdock-agent-*.msi
    # wixl wants File/@Source relative: it resolves it from the working directory.
    (cd "$DIST/windows" && wixl -a x64 -D "Version=$MSI_VERSION" -D AgentExe=printdock-agent.exe -D AppExe=printdock.exe \
      -o "../$msi" "$wxs")
    ls "$DIST/$msi" >/dev/null
    msi_fixups "$DIST/$msi"
    sign "$DIST/$msi" "printdock agent $MSI_VERSION"
  fi
fi

if want arm64; then
  # linux/arm64 (Raspberry Pi-class stations): the server pure Go; the agent with cgo against Debian's
  # arm64 libusb (multiarch: libusb-1.0-0-dev:arm64, gcc-aarch64-linux-gnu), else without USB (nousb).
  a64=$DIST/arm64
  mkdir -p "$a64/bin"
  rm -f "$a64"/*.deb "$a64"/*.rpm "$a64/SHA256SUMS"
  usb=0
  if [ "$ARM64_USB" != 0 ] && command -v aarch64-linux-gnu-gcc >/dev/null &&
    PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig pkg-config --exists libusb-1.0 2>/dev/null; then
    usb=1
  elif [ "$ARM64_USB" = 1 ]; then
    die "ARM64_USB=1 needs aarch64-linux-gnu-gcc and libusb-1.0-0-dev:arm64 (scripts/install-deps.sh)"
  fi
  if [ "$usb" = 1 ]; then
    log "building printdock-agent for linux/arm64 (cgo, arm64 libusb)"
    CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=aarch64-linux-gnu-gcc PKG_CONFIG_PATH='' \
      PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig \
      go build "${flags[@]}" -ldflags "$agent_ldflags" -o "$a64/bin/printdock-agent" ./cmd/printdock-agent
  else
    log "building printdock-agent for linux/arm64 WITHOUT USB (-tags nousb): no aarch64-linux-gnu-gcc or arm64 libusb"
    CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build "${flags[@]}" -tags nousb -ldflags "$agent_ldflags" \
      -o "$a64/bin/printdock-agent" ./cmd/printdock-agent
  fi
  log "building printdock-server for linux/arm64 (pure Go)"
  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build "${flags[@]}" -ldflags "-s -w -X main.version=$VERSION" \
    -o "$a64/bin/printdock-server" ./cmd/printdock-server
  # The man pages come from this machine's binaries (same help): built here when missing.
  host=$PRINTDOCK_GEN/host
  mkdir -p "$host"
  [ -x "$host/printdock-agent" ] || CGO_ENABLED=0 go build -tags nousb -o "$host/printdock-agent" ./cmd/printdock-agent
  [ -x "$host/printdock-server" ] || CGO_ENABLED=0 go build -o "$host/printdock-server" ./cmd/printdock-server
  (
    export PRINTDOCK_BIN=$(cd "$a64/bin" && pwd) PRINTDOCK_GEN=$PRINTDOCK_GEN/arm64 ARCH=arm64
    docs_for printdock-agent "${man_agent[@]}" "$host/printdock-agent" -- "$a64/bin/printdock-agent"
    docs_for printdock-server "${man_server[@]}" "$host/printdock-server" -- "$a64/bin/printdock-server"
    for name in printdock-agent printdock-server; do
      for p in deb rpm; do
        # shellcheck disable=SC2086 # NFPM is a command line
        $NFPM package --packager "$p" --config "packaging/nfpm/$name.yaml" --target "$a64/" >&2
      done
    done
  )
  (cd "$a64" && sha256sum -- *.deb *.rpm >SHA256SUMS)
  log "arm64 (USB: $([ "$usb" = 1 ] && echo yes || echo no)):"
  sed 's/^/  /' "$a64/SHA256SUMS" >&2
fi

log "done:"
ls -l "$DIST"/*.deb "$DIST"/*.msi 2>/dev/null | sed 's/^/  /' >&2 || true
