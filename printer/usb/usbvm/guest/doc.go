// Package guest holds the tests that run inside the usbvm QEMU guest (package printdock/printer/usb/usbvm):
// the real printer/usb, with gousb and libusb, against the printer gadget served by gadget-zebra. They
// are compiled with `go test -c` on the host and skip anywhere but in the guest, where the guest's init
// sets PRINTDOCK_USBVM_GUEST=1 and PRINTDOCK_USBVM_CTL (the gadget's control socket). The tests run in
// file order and print USBVM_TIMING lines that the harness collects.
package guest
