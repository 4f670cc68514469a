package gadget

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// ioctls of the printer gadget (include/uapi/linux/usb/g_printer.h): the status byte is passed by value.
const ioctlSetPrinterStatus = 0xC0016722 // _IOWR('g', 0x22, unsigned char)

// ConfigFS is a USB printer gadget made through configfs (libcomposite + usb_f_printer), bound to a
// UDC (dummy_udc.0 from dummy_hcd in the guest).
type ConfigFS struct {
	Dir  string // the gadget's configfs directory
	UDC  string // the controller it binds to
	Node string // its device node, /dev/g_printer0

	mu    sync.Mutex
	bound bool
}

var _ Port = (*ConfigFS)(nil)

// NewConfigFS creates gadget name under configfsRoot (/sys/kernel/config/usb_gadget) with one
// configuration holding one printer function that answers with id, to be bound to udc ("" = the first
// one under /sys/class/udc). It does not plug it in.
func NewConfigFS(configfsRoot, name, udc string, id Identity) (*ConfigFS, error) {
	if udc == "" {
		ents, err := os.ReadDir("/sys/class/udc")
		if err != nil {
			return nil, fmt.Errorf("gadget: no USB device controller (is dummy_hcd loaded?): %w", err)
		}
		if len(ents) == 0 {
			return nil, errors.New("gadget: no USB device controller (is dummy_hcd loaded?): /sys/class/udc is empty")
		}
		udc = ents[0].Name()
	}
	g := &ConfigFS{Dir: filepath.Join(configfsRoot, name), UDC: udc, Node: "/dev/g_printer0"}
	var err error
	mkdir := func(p string) {
		if err == nil {
			if e := os.Mkdir(filepath.Join(g.Dir, p), 0o755); e != nil && !errors.Is(e, os.ErrExist) {
				err = e
			}
		}
	}
	write := func(p, v string) {
		if err == nil {
			err = os.WriteFile(filepath.Join(g.Dir, p), []byte(v), 0)
		}
	}
	mkdir(".")
	if err == nil {
		err = g.writeIdentity(id)
	}
	mkdir("configs/c.1")
	mkdir("configs/c.1/strings/0x409")
	write("configs/c.1/strings/0x409/configuration", "printer")
	write("configs/c.1/MaxPower", "2")
	mkdir("functions/printer.usb0")
	if err == nil {
		e := os.Symlink(filepath.Join(g.Dir, "functions/printer.usb0"), filepath.Join(g.Dir, "configs/c.1/printer.usb0"))
		if e != nil && !errors.Is(e, os.ErrExist) {
			err = e
		}
	}
	if err != nil {
		return nil, fmt.Errorf("gadget: configfs: %w", err)
	}
	return g, nil
}

// writeIdentity writes what the gadget tells the host: USB IDs, strings and the 1284 device ID.
func (g *ConfigFS) writeIdentity(id Identity) error {
	var err error
	write := func(p, v string) {
		if err == nil {
			err = os.WriteFile(filepath.Join(g.Dir, p), []byte(v), 0)
		}
	}
	if err = os.MkdirAll(filepath.Join(g.Dir, "strings/0x409"), 0o755); err != nil {
		return err
	}
	if err = os.MkdirAll(filepath.Join(g.Dir, "functions/printer.usb0"), 0o755); err != nil {
		return err
	}
	write("idVendor", fmt.Sprintf("0x%04x", id.Vendor))
	write("idProduct", fmt.Sprintf("0x%04x", id.Product))
	write("bcdUSB", "0x0200")
	write("bcdDevice", "0x0100")
	write("strings/0x409/manufacturer", id.Manufacturer)
	write("strings/0x409/product", id.ProductName)
	write("strings/0x409/serialnumber", id.Serial)
	// f_printer (Debian's 6.1) answers GET_DEVICE_ID with strlen(pnp_string) as the length prefix and
	// sends that many bytes including the 2-byte prefix, so the last two characters would be cut off.
	// Two padding bytes make the answer exactly what a printer sends: a length that counts itself, then
	// the whole ID. (Were the kernel to send them, they would be two spaces after the last ';', which
	// parsers ignore.)
	write("functions/printer.usb0/pnp_string", id.DeviceID+"  ")
	return err
}

// SetIdentity changes what the gadget tells the host; the gadget must be unplugged.
func (g *ConfigFS) SetIdentity(id Identity) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.bound {
		return errors.New("gadget: set identity: still plugged in")
	}
	if err := g.writeIdentity(id); err != nil {
		return fmt.Errorf("gadget: set identity: %w", err)
	}
	return nil
}

// Plug binds the gadget to its UDC: the host enumerates the printer.
func (g *ConfigFS) Plug() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.bound {
		return nil
	}
	if err := os.WriteFile(filepath.Join(g.Dir, "UDC"), []byte(g.UDC+"\n"), 0); err != nil {
		return fmt.Errorf("gadget: bind %s: %w", g.UDC, err)
	}
	g.bound = true
	return nil
}

// Unplug unbinds the gadget: the host sees a disconnect, and the device node goes away.
func (g *ConfigFS) Unplug() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.bound {
		return nil
	}
	if err := os.WriteFile(filepath.Join(g.Dir, "UDC"), []byte("\n"), 0); err != nil {
		return fmt.Errorf("gadget: unbind: %w", err)
	}
	g.bound = false
	return nil
}

// Open waits for the device node to appear and opens it. The file is in Go's poller, so read deadlines
// work; ioctls go through SyscallConn (File.Fd would switch the descriptor back to blocking mode).
func (g *ConfigFS) Open(ctx context.Context) (Device, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := os.OpenFile(g.Node, os.O_RDWR, 0)
		if err == nil {
			return charDevice{f}, nil
		}
		// ENOENT until devtmpfs has the node; EBUSY while an old descriptor is still being released.
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("gadget: open %s: %w", g.Node, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

type charDevice struct{ *os.File }

func (d charDevice) SetPortStatus(s byte) error {
	rc, err := d.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, ioctlSetPrinterStatus, uintptr(s))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return fmt.Errorf("ioctl GADGET_SET_PRINTER_STATUS: %w", errno)
	}
	return nil
}
