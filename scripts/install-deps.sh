#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (DESIGN §4), only those that are missing.
set -euo pipefail
pkgs=(pkg-config gcc libc6-dev libgl1-mesa-dev xorg-dev libwayland-dev libxkbcommon-dev wayland-protocols libusb-1.0-0-dev xvfb xauth x11-apps imagemagick
  dbus dbus-x11 gnome-keyring libsecret-tools chromium postgresql
  qemu-system-x86 busybox-static cpio kmod
  cups nginx
  wixl msitools desktop-file-utils)
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
