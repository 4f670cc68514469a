#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (DESIGN §4), only those that are missing.
set -euo pipefail
pkgs=(pkg-config gcc libc6-dev libgl1-mesa-dev xorg-dev libwayland-dev libxkbcommon-dev wayland-protocols libusb-1.0-0-dev xvfb xauth x11-apps imagemagick
  dbus dbus-x11 gnome-keyring libsecret-tools chromium postgresql
  qemu-system-x86 busybox-static cpio kmod
  cups nginx iproute2 util-linux mount
  wixl msitools desktop-file-utils osslsigncode
  wine wine64 gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64
  gcc-aarch64-linux-gnu qemu-user-static libc6:arm64 libusb-1.0-0-dev:arm64 rpm)
# The arm64 agent (scripts/test.d/75-arm64.sh) links Debian's arm64 libusb through multiarch. Adding the
# architecture makes apt-get update fetch arm64 lists too (about 10 s); the arm64 and cross packages
# install in about 1.5 min, once. Wine and mingw-w64 (scripts/test.d/80-wine.sh; mingw-w64 also builds the
# Windows desktop app for the MSI) take about 1 min more.
dpkg --print-foreign-architectures | grep -qx arm64 || {
  [ "$(id -u)" -eq 0 ] && dpkg --add-architecture arm64 || sudo dpkg --add-architecture arm64
}
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
