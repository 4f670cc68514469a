#!/usr/bin/env bash
# Builds printdock's installable packages into dist/ (docs/packaging.md):
#   dist/printdock-agent_VERSION_ARCH.deb   agent binary, systemd unit, udev rule, groups (postinst)
#   dist/printdock-server_VERSION_ARCH.deb  server binary, systemd unit, /etc/default/printdock-server
#   dist/printdock_VERSION_ARCH.deb         desktop app, desktop entry, icons
#   dist/printdock-agent-MSIVERSION-x64.msi Windows agent as a service (needs wixl)
# and the binaries they hold (dist/bin/, dist/windows/).
#
# Usage: scripts/package.sh [agent] [server] [desktop] [msi]     (default: all four)
# Environment:
#   VERSION      package version (default: from `git describe --tags --always --dirty`; an untagged
#                tree gives 0.0.0+gitYYYYMMDD.HASH, as a Debian version must start with a digit)
#   MAINTAINER   the .debs' Maintainer field (default "printdock <printdock@localhost>")
#   DIST         output directory (default dist)
#   TRIMPATH     1 (default) builds with -trimpath; 0 shares the build cache with the test builds
#   PACKAGE_MSI  auto (default: build the MSI when wixl is installed), 1 (wixl required), 0 (skip)
#   NFPM         the nfpm command (default: go run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.0)
set -euo pipefail
cd "$(dirname "$0")/.."

DIST=${DIST:-dist}
MAINTAINER=${MAINTAINER:-printdock <printdock@localhost>}
TRIMPATH=${TRIMPATH:-1}
PACKAGE_MSI=${PACKAGE_MSI:-auto}
NFPM=${NFPM:-go run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.0}

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
  case $t in agent | server | desktop | msi) ;; *) die "unknown target $t (agent, server, desktop, msi)" ;; esac
done
want() { local t; for t in "${targets[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }

mkdir -p "$DIST/bin" "$DIST/windows"
# dist/ ignores itself, whatever the repository's .gitignore says.
[ -e "$DIST/.gitignore" ] || echo '*' >"$DIST/.gitignore"
PRINTDOCK_BIN=$(cd "$DIST/bin" && pwd)
export PRINTDOCK_BIN

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

if want agent; then
  log "building printdock-agent (cgo, libusb)"
  go build "${flags[@]}" -ldflags "$agent_ldflags" -o "$DIST/bin/printdock-agent" ./cmd/printdock-agent
  nfpm printdock-agent
fi
if want server; then
  log "building printdock-server (pure Go, static)"
  CGO_ENABLED=0 go build "${flags[@]}" -ldflags "-s -w -X main.version=$VERSION" -o "$DIST/bin/printdock-server" ./cmd/printdock-server
  nfpm printdock-server
fi
if want desktop; then
  log "building printdock (cgo, Fyne X11 build; a cold build takes minutes)"
  go build "${flags[@]}" -tags x11 -ldflags "$agent_ldflags" -o "$DIST/bin/printdock" ./cmd/printdock
  nfpm printdock
fi
if want msi; then
  msi="printdock-agent-$MSI_VERSION-x64.msi"
  if [ "$PACKAGE_MSI" = 0 ]; then
    log "MSI skipped (PACKAGE_MSI=0)"
  elif ! command -v wixl >/dev/null; then
    [ "$PACKAGE_MSI" = 1 ] && die "wixl is missing (apt-get install wixl) and PACKAGE_MSI=1"
    log "MSI skipped: wixl is not installed (apt-get install wixl)"
  else
    log "building printdock-agent.exe (windows/amd64, no cgo) and $msi"
    GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build "${flags[@]}" -ldflags "$agent_ldflags" \
      -o "$DIST/windows/printdock-agent.exe" ./cmd/printdock-agent
    wxs=$(pwd)/packaging/windows/printdock-agent.wxs
    rm -f "$DIST"/printdock-agent-*.msi
    # wixl wants File/@Source relative: it resolves it from the working directory.
    (cd "$DIST/windows" && wixl -a x64 -D "Version=$MSI_VERSION" -D AgentExe=printdock-agent.exe -o "../$msi" "$wxs")
    ls "$DIST/$msi" >/dev/null
  fi
fi

log "done:"
ls -l "$DIST"/*.deb "$DIST"/*.msi 2>/dev/null | sed 's/^/  /' >&2 || true
