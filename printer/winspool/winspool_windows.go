//go:build windows

package winspool

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"printdock/printer"
)

var (
	modWinspool          = windows.NewLazySystemDLL("winspool.drv")
	procOpenPrinterW     = modWinspool.NewProc("OpenPrinterW")
	procClosePrinter     = modWinspool.NewProc("ClosePrinter")
	procStartDocPrinterW = modWinspool.NewProc("StartDocPrinterW")
	procEndDocPrinter    = modWinspool.NewProc("EndDocPrinter")
	procAbortPrinter     = modWinspool.NewProc("AbortPrinter")
	procStartPagePrinter = modWinspool.NewProc("StartPagePrinter")
	procEndPagePrinter   = modWinspool.NewProc("EndPagePrinter")
	procWritePrinter     = modWinspool.NewProc("WritePrinter")
	procGetPrinterW      = modWinspool.NewProc("GetPrinterW")
	procEnumPrintersW    = modWinspool.NewProc("EnumPrintersW")
)

const (
	printerEnumLocal       = 0x00000002
	printerEnumConnections = 0x00000004
	chunkSize              = 64 << 10
)

// docInfo1 is DOC_INFO_1W.
type docInfo1 struct {
	docName    *uint16
	outputFile *uint16
	datatype   *uint16
}

// printerInfo2 is PRINTER_INFO_2W.
type printerInfo2 struct {
	serverName         *uint16
	printerName        *uint16
	shareName          *uint16
	portName           *uint16
	driverName         *uint16
	comment            *uint16
	location           *uint16
	devMode            uintptr
	sepFile            *uint16
	printProcessor     *uint16
	datatype           *uint16
	parameters         *uint16
	securityDescriptor uintptr
	attributes         uint32
	priority           uint32
	defaultPriority    uint32
	startTime          uint32
	untilTime          uint32
	status             uint32
	jobs               uint32
	averagePPM         uint32
}

// Supported reports whether this system has the Windows spooler.
func Supported() bool { return true }

func call(p *windows.LazyProc, args ...uintptr) error {
	r, _, err := p.Call(args...)
	if r == 0 {
		if err == nil || errors.Is(err, windows.ERROR_SUCCESS) {
			err = windows.ERROR_GEN_FAILURE
		}
		return err
	}
	return nil
}

func openPrinter(name string) (windows.Handle, error) {
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return 0, err
	}
	var h windows.Handle
	if err := call(procOpenPrinterW, uintptr(unsafe.Pointer(n)), uintptr(unsafe.Pointer(&h)), 0); err != nil {
		return 0, err
	}
	return h, nil
}

func closePrinter(h windows.Handle) { _ = call(procClosePrinter, uintptr(h)) }

// getInfo2 returns PRINTER_INFO_2 for an open printer, with its strings copied out.
func getInfo2(h windows.Handle) (info printer.Info, status, attrs, jobs uint32, err error) {
	var need uint32
	_ = call(procGetPrinterW, uintptr(h), 2, 0, 0, uintptr(unsafe.Pointer(&need)))
	if need == 0 {
		return info, 0, 0, 0, errors.New("GetPrinter: no size")
	}
	buf := make([]byte, need)
	if err := call(procGetPrinterW, uintptr(h), 2, uintptr(unsafe.Pointer(&buf[0])), uintptr(need),
		uintptr(unsafe.Pointer(&need))); err != nil {
		return info, 0, 0, 0, err
	}
	pi := (*printerInfo2)(unsafe.Pointer(&buf[0]))
	return infoOf(pi), pi.status, pi.attributes, pi.jobs, nil
}

func infoOf(pi *printerInfo2) printer.Info {
	name := windows.UTF16PtrToString(pi.printerName)
	driver := windows.UTF16PtrToString(pi.driverName)
	return printer.Info{ID: URI(name), Name: name, Model: driver, Language: languageOf(driver)}
}

// Scan lists the printers installed in Windows (local and connections).
func Scan(ctx context.Context) ([]printer.Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	flags := uintptr(printerEnumLocal | printerEnumConnections)
	var need, count uint32
	_ = call(procEnumPrintersW, flags, 0, 2, 0, 0, uintptr(unsafe.Pointer(&need)), uintptr(unsafe.Pointer(&count)))
	if need == 0 {
		return nil, nil
	}
	buf := make([]byte, need)
	if err := call(procEnumPrintersW, flags, 0, 2, uintptr(unsafe.Pointer(&buf[0])), uintptr(need),
		uintptr(unsafe.Pointer(&need)), uintptr(unsafe.Pointer(&count))); err != nil {
		return nil, fmt.Errorf("winspool: enum printers: %w", err)
	}
	infos := unsafe.Slice((*printerInfo2)(unsafe.Pointer(&buf[0])), count)
	out := make([]printer.Info, 0, count)
	for i := range infos {
		out = append(out, infoOf(&infos[i]))
	}
	return out, nil
}

// Printer is a printer installed in Windows.
type Printer struct {
	name string
	mu   sync.Mutex
	info printer.Info
}

var _ printer.Printer = (*Printer)(nil)

// Open checks that the spooler knows the printer and returns it.
func Open(ctx context.Context, uri string) (printer.Printer, error) {
	name, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h, err := openPrinter(name)
	if err != nil {
		return nil, fmt.Errorf("winspool: open %q: %w: %v", name, printer.ErrNotFound, err)
	}
	defer closePrinter(h)
	info, _, _, _, err := getInfo2(h)
	if err != nil {
		info = printer.Info{ID: URI(name), Name: name}
	}
	return &Printer{name: name, info: info}, nil
}

// Info implements printer.Printer.
func (p *Printer) Info() printer.Info { return p.info }

// Close implements printer.Printer; handles are opened per call.
func (p *Printer) Close() error { return nil }

// Write implements printer.Printer: one RAW spooler document holding data. On failure or cancellation
// the document is aborted, so the spooler prints nothing of it.
func (p *Printer) Write(ctx context.Context, data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	fail := func(n int, err error) error {
		return fmt.Errorf("winspool: write %q: %w", p.name, &printer.WriteError{Written: n, Total: len(data), Err: err})
	}
	if err := ctx.Err(); err != nil {
		return fail(0, err)
	}
	h, err := openPrinter(p.name)
	if err != nil {
		return fail(0, fmt.Errorf("%w: %v", printer.ErrDisconnected, err))
	}
	defer closePrinter(h)
	docName, _ := windows.UTF16PtrFromString("printdock job " + time.Now().Format(time.RFC3339))
	raw, _ := windows.UTF16PtrFromString("RAW")
	di := docInfo1{docName: docName, datatype: raw}
	if err := call(procStartDocPrinterW, uintptr(h), 1, uintptr(unsafe.Pointer(&di))); err != nil {
		return fail(0, fmt.Errorf("start document: %w", err))
	}
	abort := func(n int, err error) error {
		_ = call(procAbortPrinter, uintptr(h))
		return fail(n, err)
	}
	if err := call(procStartPagePrinter, uintptr(h)); err != nil {
		return abort(0, fmt.Errorf("start page: %w", err))
	}
	written := 0
	for _, chunk := range printer.Chunks(data, chunkSize) {
		if err := ctx.Err(); err != nil {
			return abort(written, err)
		}
		var n uint32
		if err := call(procWritePrinter, uintptr(h), uintptr(unsafe.Pointer(&chunk[0])), uintptr(len(chunk)),
			uintptr(unsafe.Pointer(&n))); err != nil {
			return abort(written+int(n), fmt.Errorf("%w: %v", printer.ErrDisconnected, err))
		}
		written += int(n)
		if int(n) != len(chunk) {
			return abort(written, fmt.Errorf("short write: %d of %d bytes", n, len(chunk)))
		}
	}
	if err := call(procEndPagePrinter, uintptr(h)); err != nil {
		return abort(written, fmt.Errorf("end page: %w", err))
	}
	if err := call(procEndDocPrinter, uintptr(h)); err != nil {
		return abort(written, fmt.Errorf("end document: %w", err))
	}
	return nil
}

// Status implements printer.Printer with what the spooler knows (GetPrinter level 2). The spooler
// cannot relay ~HS, so this printer is not bidirectional.
func (p *Printer) Status(ctx context.Context) (printer.Status, error) {
	now := time.Now()
	if err := ctx.Err(); err != nil {
		return printer.Status{State: printer.StateUnknown, CheckedAt: now}, err
	}
	h, err := openPrinter(p.name)
	if err != nil {
		return printer.Status{State: printer.StateOffline, Reason: "printer not installed", CheckedAt: now},
			fmt.Errorf("winspool: status %q: %w: %v", p.name, printer.ErrDisconnected, err)
	}
	defer closePrinter(h)
	_, status, attrs, jobs, err := getInfo2(h)
	if err != nil {
		return printer.Status{State: printer.StateUnknown, CheckedAt: now}, nil
	}
	st, reason := stateFromSpooler(status, attrs, jobs)
	return printer.Status{State: st, Reason: reason, CheckedAt: now}, nil
}
