// Package usb talks to USB printer-class label printers (interface class 7): it finds them, reads their
// IEEE 1284 device ID, claims the printer interface, sends jobs over the bulk OUT endpoint in timed
// chunks, asks Zebras for ~HS over bulk IN where the interface is bidirectional, and reads the class's
// GET_PORT_STATUS. The libusb (gousb) layer is in usb_linux.go, built with cgo on Linux unless the
// nousb tag is set; everything protocol-level lives in pure files and is unit-tested. Other builds get
// a stub that reports ErrNotBuiltIn.
//
// A printer's ID is usb://VID:PID/SERIAL (lower-case hex, the serial path-escaped), or usb://VID:PID for
// a device without a serial number (it then matches the first such device).
package usb

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"printdock/printer"
	"printdock/printer/zpl"
)

// ErrNotBuiltIn is returned by Scan and Open in builds without USB support (not Linux, no cgo, or the
// nousb tag).
var ErrNotBuiltIn = errors.New("USB support not built in")

// ErrBadID is returned for an ID that is not usb://VID:PID[/SERIAL].
var ErrBadID = errors.New("usb: bad printer ID")

// USB printer class constants (USB Device Class Definition for Printing Devices 1.1).
const (
	ClassPrinter           = 0x07
	SubClassPrinter        = 0x01
	ProtocolUnidirectional = 0x01
	ProtocolBidirectional  = 0x02
	Protocol1284_4         = 0x03

	requestTypeClassInterfaceIn = 0xA1 // device-to-host | class | interface
	requestGetDeviceID          = 0
	requestGetPortStatus        = 1
	requestSoftReset            = 2

	deviceIDMax = 1024 // buffer for GET_DEVICE_ID
)

// ID identifies a USB printer.
type ID struct {
	Vendor, Product uint16
	Serial          string // "" matches any serial
}

// String returns the ID as a URI: usb://0a5f:0181/XXQ123456.
func (id ID) String() string {
	s := fmt.Sprintf("usb://%04x:%04x", id.Vendor, id.Product)
	if id.Serial != "" {
		s += "/" + url.PathEscape(id.Serial)
	}
	return s
}

// Matches reports whether a device with these identifiers is the printer id names.
func (id ID) Matches(vid, pid uint16, serial string) bool {
	return id.Vendor == vid && id.Product == pid && (id.Serial == "" || id.Serial == serial)
}

// ParseID parses usb://VID:PID[/SERIAL] (hex VID and PID, case-insensitive).
func ParseID(s string) (ID, error) {
	bad := func(why string) (ID, error) { return ID{}, fmt.Errorf("%w: %q: %s", ErrBadID, s, why) }
	if len(s) < 6 || !strings.EqualFold(s[:6], "usb://") {
		return bad("want usb://VID:PID/SERIAL")
	}
	vp, serial, _ := strings.Cut(s[6:], "/")
	v, p, ok := strings.Cut(vp, ":")
	if !ok {
		return bad("want VID:PID")
	}
	vid, err1 := parseHex16(v)
	pid, err2 := parseHex16(p)
	if err1 != nil || err2 != nil {
		return bad("VID and PID are 4 hex digits")
	}
	serial, err := url.PathUnescape(serial)
	if err != nil {
		return bad("bad serial escaping")
	}
	if strings.ContainsAny(serial, "\x00/") {
		return bad("bad serial")
	}
	return ID{Vendor: vid, Product: pid, Serial: serial}, nil
}

func parseHex16(s string) (uint16, error) {
	if len(s) == 0 || len(s) > 4 {
		return 0, strconv.ErrSyntax
	}
	n, err := strconv.ParseUint(s, 16, 16)
	return uint16(n), err
}

// PortStatus is the byte GET_PORT_STATUS returns.
type PortStatus byte

// Port status bits; the others are reserved.
const (
	PortPaperEmpty PortStatus = 1 << 5 // 1 = out of paper
	PortSelected   PortStatus = 1 << 4 // 1 = selected (online)
	PortNotError   PortStatus = 1 << 3 // 1 = no error
)

// PaperEmpty reports the paper-empty bit.
func (s PortStatus) PaperEmpty() bool { return s&PortPaperEmpty != 0 }

// Selected reports the select (online) bit.
func (s PortStatus) Selected() bool { return s&PortSelected != 0 }

// NoError reports the not-error bit (set when all is well).
func (s PortStatus) NoError() bool { return s&PortNotError != 0 }

// State maps the port status to a printer state and reason. A selected, error-free printer with paper
// is StateReady: the port status cannot tell busy from idle.
func (s PortStatus) State() (printer.State, string) {
	switch {
	case s.PaperEmpty():
		return printer.StateMediaOut, "out of paper (port status)"
	case !s.NoError():
		return printer.StateError, "printer reports an error (port status): head open, ribbon out or a fault"
	case !s.Selected():
		return printer.StatePaused, "printer not selected (port status): paused or offline"
	}
	return printer.StateReady, ""
}

// deviceIDIndex is wIndex for GET_DEVICE_ID: interface number in the high byte, alternate setting in the
// low byte (printer class 1.1, 4.2.1).
func deviceIDIndex(iface, alt int) uint16 { return uint16(iface&0xff)<<8 | uint16(alt&0xff) }

// altSetting describes one printer-class interface alternate setting, as far as choosing one needs.
type altSetting struct {
	ConfigIndex int // zero-based index of the configuration (wValue of GET_DEVICE_ID)
	Config      int // bConfigurationValue
	Interface   int
	Alt         int
	Protocol    int
	OutEP       int // endpoint number of the bulk OUT endpoint; 0 = none
	InEP        int // endpoint number of the bulk IN endpoint; 0 = none
	OutMaxPkt   int
}

// chooseSetting picks the printer interface to use: a bulk OUT endpoint is required; bidirectional
// (protocol 2, with a bulk IN) is preferred over unidirectional; IEEE 1284.4 (protocol 3) is used only
// through its bulk endpoints when nothing else is offered. Ties go to the first listed.
func chooseSetting(settings []altSetting) (altSetting, bool) {
	rank := func(s altSetting) int {
		switch {
		case s.OutEP == 0:
			return 0
		case s.Protocol == ProtocolBidirectional && s.InEP != 0:
			return 3
		case s.Protocol == ProtocolUnidirectional || s.Protocol == ProtocolBidirectional:
			return 2
		default:
			return 1
		}
	}
	best, bestRank := altSetting{}, 0
	for _, s := range settings {
		if r := rank(s); r > bestRank {
			best, bestRank = s, r
		}
	}
	return best, bestRank > 0
}

// bidirectional reports whether s can read replies (~HS) from the printer.
func (s altSetting) bidirectional() bool {
	return s.Protocol == ProtocolBidirectional && s.InEP != 0
}

// transferSize is the bytes per bulk OUT transfer: about 16 KiB, a whole number of max-size packets so
// only the last transfer of a job ends with a short packet.
func transferSize(maxPacket int) int {
	const want = 16 << 10
	if maxPacket <= 0 {
		return want
	}
	if maxPacket >= want {
		return maxPacket
	}
	return want / maxPacket * maxPacket
}

// Errors of the transfer loops; the cgo layer maps libusb errors onto them.
var (
	errGone    = errors.New("device gone")        // unplugged: LIBUSB_ERROR_NO_DEVICE, TRANSFER_NO_DEVICE
	errTimeout = errors.New("transfer timed out") // the printer did not take data in time
	errShort   = errors.New("short write")
)

// bulkOut is the bulk OUT endpoint as the write loop needs it. WriteContext returns the bytes the device
// accepted, possibly fewer than asked with an error.
type bulkOut interface {
	WriteContext(ctx context.Context, b []byte) (int, error)
}

type bulkIn interface {
	ReadContext(ctx context.Context, b []byte) (int, error)
}

// writeAll sends data in transfers of size bytes, each bounded by timeout. It returns the bytes the
// device accepted. A transfer that returns fewer bytes than asked without an error is a short write.
// classify maps endpoint errors (it gets the per-transfer context to tell a timeout from a cancel).
func writeAll(ctx context.Context, ep bulkOut, data []byte, size int, timeout time.Duration,
	classify func(ctx, tctx context.Context, err error) error) (int, error) {
	written := 0
	for _, chunk := range printer.Chunks(data, size) {
		if err := ctx.Err(); err != nil {
			return written, err
		}
		tctx, cancel := context.WithTimeout(ctx, timeout)
		n, err := ep.WriteContext(tctx, chunk)
		err = classify(ctx, tctx, err)
		cancel()
		written += n
		if err != nil {
			return written, err
		}
		if n != len(chunk) {
			return written, fmt.Errorf("%w: %d of %d bytes", errShort, n, len(chunk))
		}
	}
	return written, nil
}

// readHostStatus reads a ~HS reply from the bulk IN endpoint until it is complete or timeout passes. It
// returns what it got; an empty reply after the timeout means the printer stayed silent.
func readHostStatus(ctx context.Context, ep bulkIn, maxPacket int, timeout time.Duration,
	classify func(ctx, tctx context.Context, err error) error) ([]byte, error) {
	if maxPacket <= 0 {
		maxPacket = 64
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var reply []byte
	buf := make([]byte, max(512, maxPacket)/maxPacket*maxPacket) // a multiple of the packet size: no overflow
	for !zpl.HostStatusComplete(reply) {
		n, err := ep.ReadContext(tctx, buf)
		reply = append(reply, buf[:n]...)
		if err = classify(ctx, tctx, err); err != nil {
			return reply, err
		}
	}
	return reply, nil
}

// makeInfo builds a printer's Info from its descriptors and device ID. The serial number comes from the
// USB string descriptor, else the device ID's SN field.
func makeInfo(vid, pid uint16, mfr, product, serial string, devID printer.DeviceID, bidir bool) printer.Info {
	if serial == "" {
		serial = devID.Serial
	}
	info := printer.Info{
		ID:            ID{Vendor: vid, Product: pid, Serial: serial}.String(),
		Make:          firstNonEmpty(devID.Manufacturer, mfr),
		Model:         firstNonEmpty(devID.Model, product),
		Serial:        serial,
		Language:      devID.Language(),
		Bidirectional: bidir,
	}
	info.Name = strings.TrimSpace(info.Make + " " + info.Model)
	if info.Name == "" {
		info.Name = fmt.Sprintf("USB printer %04x:%04x", vid, pid)
	}
	if info.Language == printer.LangUnknown && strings.Contains(strings.ToLower(info.Make), "zebra") {
		info.Language = printer.LangZPL
	}
	return info
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return strings.TrimSpace(b)
}

// Options tune an opened printer; zero values take the defaults.
type Options struct {
	TransferTimeout time.Duration // each bulk OUT transfer; default 10 s
	StatusTimeout   time.Duration // waiting for the ~HS reply; default 3 s
	ControlTimeout  time.Duration // control requests (device ID, port status); default 2 s
	// PortStatusOnly never sends ~HS: Status reports GET_PORT_STATUS only (status mode none). It is
	// implied for a printer whose 1284 ID names a language other than ZPL.
	PortStatusOnly bool
}

// asksHostStatus reports whether Status may send ~HS to a printer: it speaks ZPL or nobody knows.
func asksHostStatus(info printer.Info, o Options) bool {
	return !o.PortStatusOnly && (info.Language == printer.LangZPL || info.Language == printer.LangUnknown || info.Language == "")
}

func (o Options) withDefaults() Options {
	if o.TransferTimeout <= 0 {
		o.TransferTimeout = 10 * time.Second
	}
	if o.StatusTimeout <= 0 {
		o.StatusTimeout = 3 * time.Second
	}
	if o.ControlTimeout <= 0 {
		o.ControlTimeout = 2 * time.Second
	}
	return o
}

// statusFrom combines a ~HS reply (possibly empty) and the port status into a Status. silent is true
// when a bidirectional printer did not answer ~HS: that is printer.ErrNoStatus, with the port status
// used to give a better state when it shows a problem.
func statusFrom(reply []byte, silent bool, port PortStatus, havePort bool, now time.Time) (printer.Status, error) {
	if !silent && len(reply) > 0 {
		h, err := zpl.ParseHostStatus(reply)
		if err == nil {
			return h.Status(now), nil
		}
		if !havePort {
			return printer.Status{State: printer.StateUnknown, Reason: "unreadable ~HS reply", CheckedAt: now}, err
		}
	}
	st := printer.Status{State: printer.StateUnknown, CheckedAt: now}
	if havePort {
		st.State, st.Reason = port.State()
	}
	if silent {
		if st.State == printer.StateReady || st.State == printer.StateUnknown {
			st.State, st.Reason = printer.StateUnknown, zpl.ReasonNoReply
		}
		return st, fmt.Errorf("%s: %w", zpl.ReasonNoReply, printer.ErrNoStatus)
	}
	return st, nil
}

// hostStatusParses reports whether reply holds a usable ~HS answer.
func hostStatusParses(reply []byte) bool {
	_, err := zpl.ParseHostStatus(reply)
	return err == nil
}
