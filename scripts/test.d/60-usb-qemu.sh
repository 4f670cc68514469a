#!/usr/bin/env bash
# USB under QEMU (docs/usb-qemu.md): the real printer/usb against a USB printer gadget in a Linux guest.
# Exits non-zero on failure. Without qemu-system-x86 & co. it fails when PRINTDOCK_REQUIRE_REAL=1 (the
# test command) and otherwise prints why it skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
scripts/usb-qemu.sh
echo "60-usb-qemu: done in $(( $(date +%s) - start ))s"
