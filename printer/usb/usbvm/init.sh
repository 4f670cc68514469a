#!/bin/busybox sh
# PID 1 of the usbvm guest (printer/usb/usbvm, docs/usb-qemu.md). Brings up a Linux USB host whose only
# device is a printer gadget on dummy_hcd (served by gadget-zebra), runs the guest tests against it with
# the real printer/usb (gousb/libusb), prints TEST_EXIT=<status> and powers off.
/bin/busybox --install -s
export PATH=/usr/bin:/bin:/usr/sbin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
. /etc/usbvm.env

up() { cut -d' ' -f1 /proc/uptime; }
finish() {
  echo "USBVM_DONE uptime=$(up)"
  echo "TEST_EXIT=$1"
  poweroff -f
  sleep 10
}
echo "USBVM_BOOTED uptime=$(up)"

for m in $(cat /mods/order); do
  insmod "/mods/$m" || { echo "USBVM_ERROR insmod $m failed"; finish 97; }
done
mount -t configfs configfs /sys/kernel/config || { echo "USBVM_ERROR mount configfs failed"; finish 96; }

/usr/bin/gadget-zebra -ctl /tmp/zebra.sock >/tmp/gadget-zebra.log 2>&1 &
echo "USBVM_READY uptime=$(up)"

PRINTDOCK_USBVM_GUEST=1 PRINTDOCK_USBVM_CTL=/tmp/zebra.sock \
  /usr/bin/guest.test -test.v -test.count=1 -test.timeout="$TEST_TIMEOUT" ${TEST_RUN:+-test.run="$TEST_RUN"}
rc=$?

echo "--- gadget-zebra log"
cat /tmp/gadget-zebra.log
if [ "$rc" -ne 0 ]; then
  echo "--- dmesg (last 60 lines)"
  dmesg | tail -n 60
fi
finish "$rc"
