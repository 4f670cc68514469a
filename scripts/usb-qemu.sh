#!/usr/bin/env bash
# The USB suite under QEMU: Debian's kernel with a USB printer gadget on dummy_hcd, and the real
# printer/usb (gousb/libusb) in a cgo test binary against it. Downloads the current
# linux-image-*-amd64 once (cached next to Go's build cache), builds the guest binaries, boots QEMU
# (-accel tcg) and streams the guest console. Exits 0 only on a clean TEST_EXIT=0; with qemu & co.
# missing it fails under PRINTDOCK_REQUIRE_REAL=1 and otherwise says it skipped. Flags go to the
# harness (go run ./printer/usb/usbvm/cmd/usbvm -h): -run, -keep, -timeout, … See docs/usb-qemu.md.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./printer/usb/usbvm/cmd/usbvm "$@"
