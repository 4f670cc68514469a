// Package usbvm proves printer/usb on a real Linux USB stack without USB hardware. It boots Debian's
// own kernel in QEMU (software emulation) with an initramfs in which the same kernel is both sides of a
// USB link: dummy_hcd connects a USB host controller to a device controller, and the configfs printer
// gadget function on the device side is served by a fake Zebra (package gadget, command gadget-zebra).
// The guest tests (package guest), a cgo test binary that uses the real printer/usb with gousb and
// libusb, find that printer-class device, print to it, read its status, take its paper away and pull
// its cable, and report timings on the serial console, which Run streams into its log.
//
// Run does everything on the host: checks the tools, prepares the current linux-image-*-amd64 package
// (cached under the build cache), builds the two guest binaries, packs the initramfs (a newc cpio
// writer here: no cpio tool needed), boots QEMU with an outer timeout and accepts nothing but a clean
// TEST_EXIT=0 with every guest test passed. Entry points: scripts/usb-qemu.sh (command usbvm) and
// TestUSBInQEMU. See docs/usb-qemu.md.
package usbvm

import (
	"context"
	"debug/elf"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrMissingTools is returned (wrapped, naming the apt packages) when a tool the harness needs is not
// installed.
var ErrMissingTools = errors.New("usbvm: missing tools")

//go:embed init.sh
var guestInit []byte

// Config tunes Run; zero values take the defaults.
type Config struct {
	ModuleDir   string        // the printdock module root; default: where `go env GOMOD` points
	CacheDir    string        // default DefaultCacheDir()
	Log         io.Writer     // progress and the guest's serial console; default os.Stdout
	BootTimeout time.Duration // QEMU from start to power-off; default 5 min
	TestTimeout time.Duration // the guest test binary's -test.timeout; default 3 min
	Run         string        // the guest test binary's -test.run; default all
	Accel       string        // QEMU accelerator; default tcg (KVM hangs on the probed machines)
	Keep        bool          // keep the work directory (binaries, initramfs) and print its path
}

// Step is one harness step and how long it took.
type Step struct {
	Name string
	D    time.Duration
	Note string
}

// Timing is one USBVM_TIMING line from the guest: a name and the rest of the line.
type Timing struct {
	Name, Text string
}

// Result is what a run did and measured.
type Result struct {
	Kernel  Kernel
	Steps   []Step
	Passed  []string // guest tests that passed, in order
	Timings []Timing
	// Guest uptimes (seconds since the guest kernel started) at boot, when the tests started and when
	// they ended, from the guest's USBVM_* lines.
	Booted, Ready, Done float64
	Total               time.Duration
	WorkDir             string // kept when Config.Keep
}

// Timing returns the text of the guest timing called name, or "".
func (r *Result) Timing(name string) string {
	for _, t := range r.Timings {
		if t.Name == name {
			return t.Text
		}
	}
	return ""
}

// requiredTimings are the measurements a clean run must report.
var requiredTimings = []string{"label_write", "hs_rtt", "tspl_discovery"}

// DefaultCacheDir is $PRINTDOCK_USBVM_CACHE, else printdock-usbvm next to Go's build cache
// ($(go env GOCACHE)/../printdock-usbvm), else under the user cache directory.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("PRINTDOCK_USBVM_CACHE"); d != "" {
		return d, nil
	}
	if out, err := exec.Command("go", "env", "GOCACHE").Output(); err == nil {
		if gc := strings.TrimSpace(string(out)); gc != "" && gc != "off" {
			return filepath.Join(filepath.Dir(gc), "printdock-usbvm"), nil
		}
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("usbvm: cache directory: %w", err)
	}
	return filepath.Join(d, "printdock-usbvm"), nil
}

// tool is a command the harness runs and the Debian package that has it.
type tool struct{ cmd, pkg string }

var tools = []tool{
	{"qemu-system-x86_64", "qemu-system-x86"},
	{"busybox", "busybox-static"},
	{"depmod", "kmod"},
	{"apt-get", "apt"},
	{"apt-cache", "apt"},
	{"dpkg-deb", "dpkg"},
	{"ldd", "libc-bin"},
	{"gcc", "gcc"},
	{"pkg-config", "pkg-config"},
	{"go", "Go 1.26"},
}

// CheckTools reports the tools the harness needs that are missing, as ErrMissingTools naming the apt
// packages to install (scripts/install-deps.sh installs them all).
func CheckTools() error {
	var missing []string
	add := func(what string) {
		for _, m := range missing {
			if m == what {
				return
			}
		}
		missing = append(missing, what)
	}
	for _, t := range tools {
		p, err := exec.LookPath(t.cmd)
		if err != nil {
			add(t.pkg + " (" + t.cmd + ")")
			continue
		}
		if t.cmd == "busybox" && !isStatic(p) {
			add("busybox-static (" + p + " is dynamically linked)")
		}
	}
	if _, err := exec.LookPath("pkg-config"); err == nil {
		if exec.Command("pkg-config", "--exists", "libusb-1.0").Run() != nil {
			add("libusb-1.0-0-dev (pkg-config libusb-1.0)")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s; run scripts/install-deps.sh", ErrMissingTools, strings.Join(missing, ", "))
	}
	return nil
}

// isStatic reports whether the ELF executable at p needs no dynamic loader.
func isStatic(p string) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

func (c *Config) defaults() error {
	if c.Log == nil {
		c.Log = os.Stdout
	}
	if c.BootTimeout <= 0 {
		c.BootTimeout = 5 * time.Minute
	}
	if c.TestTimeout <= 0 {
		c.TestTimeout = 3 * time.Minute
	}
	if c.Accel == "" {
		c.Accel = "tcg"
	}
	if strings.ContainsAny(c.Run, "'\n") {
		return fmt.Errorf("usbvm: bad -run pattern %q", c.Run)
	}
	if c.CacheDir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return err
		}
		c.CacheDir = d
	}
	if c.ModuleDir == "" {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			return fmt.Errorf("usbvm: go env GOMOD: %w", err)
		}
		gomod := strings.TrimSpace(string(out))
		if gomod == "" || gomod == os.DevNull {
			return fmt.Errorf("usbvm: not inside the printdock module (go env GOMOD: %q)", gomod)
		}
		c.ModuleDir = filepath.Dir(gomod)
	}
	return nil
}

// Run builds and boots the guest and checks its verdict; see the package comment. The error says what
// failed; the guest's console is in cfg.Log.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	start := time.Now()
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if err := CheckTools(); err != nil {
		return nil, err
	}
	res := &Result{}
	log := cfg.Log
	step := func(name string, t0 time.Time, note string) {
		s := Step{name, time.Since(t0), note}
		res.Steps = append(res.Steps, s)
		fmt.Fprintf(log, "usbvm: %-10s %6.1fs  %s\n", s.Name, s.D.Seconds(), s.Note)
	}

	t0 := time.Now()
	k, err := PrepareKernel(ctx, cfg.CacheDir, log)
	if err != nil {
		return res, err
	}
	res.Kernel = k
	how := "downloaded"
	if k.Cached {
		how = "cached"
	}
	step("kernel", t0, fmt.Sprintf("%s %s (%s, %s)", k.Package, k.Version, how, k.Dir))

	if err := os.MkdirAll(cfg.CacheDir, 0o755); err != nil {
		return res, fmt.Errorf("usbvm: %w", err)
	}
	removeStale(cfg.CacheDir)
	work, err := os.MkdirTemp(cfg.CacheDir, "run-")
	if err != nil {
		return res, fmt.Errorf("usbvm: %w", err)
	}
	if cfg.Keep {
		res.WorkDir = work
	} else {
		defer os.RemoveAll(work)
	}

	t0 = time.Now()
	guestBin := filepath.Join(work, "guest.test")
	gadgetBin := filepath.Join(work, "gadget-zebra")
	if err := goCmd(ctx, cfg.ModuleDir, "1", "test", "-c", "-o", guestBin, "./printer/usb/usbvm/guest"); err != nil {
		return res, err
	}
	if err := goCmd(ctx, cfg.ModuleDir, "0", "build", "-o", gadgetBin, "./printer/usb/usbvm/cmd/gadget-zebra"); err != nil {
		return res, err
	}
	if !isStatic(gadgetBin) {
		return res, errors.New("usbvm: gadget-zebra is not statically linked")
	}
	step("build", t0, "guest.test (cgo, libusb) and gadget-zebra (CGO_ENABLED=0)")

	t0 = time.Now()
	initrd := filepath.Join(work, "initrd.gz")
	libs, size, err := packInitramfs(ctx, initrd, k, guestBin, gadgetBin, cfg)
	if err != nil {
		return res, err
	}
	step("initramfs", t0, fmt.Sprintf("%.1f MB uncompressed; libraries from ldd: %s", float64(size)/1e6, strings.Join(libs, " ")))

	t0 = time.Now()
	g, err := boot(ctx, cfg, k, initrd)
	res.Passed, res.Timings = g.passed, g.timings
	res.Booted, res.Ready, res.Done = g.booted, g.ready, g.done
	if err == nil {
		err = g.verdict(cfg.Run == "")
	}
	step("guest", t0, fmt.Sprintf("QEMU -accel %s; guest uptime: booted %.1fs, tests started %.1fs, done %.1fs", cfg.Accel, g.booted, g.ready, g.done))
	res.Total = time.Since(start)
	if err != nil {
		return res, err
	}
	return res, nil
}

// Summary writes the run's steps, passed tests and guest timings.
func (r *Result) Summary(w io.Writer) {
	fmt.Fprintf(w, "usbvm: PASS: %d guest tests (%s) in %.1fs\n", len(r.Passed), strings.Join(r.Passed, ", "), r.Total.Seconds())
	for _, t := range r.Timings {
		fmt.Fprintf(w, "usbvm: timing %-12s %s\n", t.Name, t.Text)
	}
	if r.WorkDir != "" {
		fmt.Fprintf(w, "usbvm: work directory kept: %s\n", r.WorkDir)
	}
}

// removeStale removes work directories that runs killed before they could clean up left behind.
func removeStale(cacheDir string) {
	for _, pat := range []string{"run-*", "kernel/.prepare-*"} {
		dirs, _ := filepath.Glob(filepath.Join(cacheDir, pat))
		for _, d := range dirs {
			if fi, err := os.Stat(d); err == nil && time.Since(fi.ModTime()) > 24*time.Hour {
				_ = os.RemoveAll(d)
			}
		}
	}
}

// goCmd runs the go command in dir with CGO_ENABLED=cgo.
func goCmd(ctx context.Context, dir, cgo string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("usbvm: go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// sharedLibs lists the shared libraries (and the dynamic loader) the executable at bin needs, as ldd
// resolves them on this machine.
func sharedLibs(ctx context.Context, bin string) ([]string, error) {
	out, err := exec.CommandContext(ctx, "ldd", bin).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("usbvm: ldd %s: %w: %s", bin, err, out)
	}
	var libs []string
	for line := range strings.Lines(string(out)) {
		if strings.Contains(line, "not found") {
			return nil, fmt.Errorf("usbvm: ldd %s: %s", bin, strings.TrimSpace(line))
		}
		for f := range strings.FieldsSeq(line) {
			if strings.HasPrefix(f, "/") {
				libs = append(libs, f)
			}
		}
	}
	return libs, nil
}

// packInitramfs writes the guest's initramfs: busybox, /init, the kernel modules, the two binaries and
// the test binary's shared libraries. It returns the libraries and the uncompressed size.
func packInitramfs(ctx context.Context, out string, k Kernel, guestBin, gadgetBin string, cfg Config) ([]string, int64, error) {
	libs, err := sharedLibs(ctx, guestBin)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Create(out)
	if err != nil {
		return nil, 0, fmt.Errorf("usbvm: %w", err)
	}
	defer f.Close()
	c := newCPIO(f)
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "run", "etc", "mods"} {
		c.Dir(d)
	}
	c.CharDev("dev/console", 0o600, 5, 1)
	c.CharDev("dev/null", 0o666, 1, 3)
	add := func(from, to string, perm uint32) {
		b, err := os.ReadFile(from) // follows symlinks: the guest gets the file itself
		if err != nil {
			c.err = errors.Join(c.err, fmt.Errorf("usbvm: initramfs: %w", err))
			return
		}
		c.File(to, perm, b)
	}
	busybox, _ := exec.LookPath("busybox")
	add(busybox, "bin/busybox", 0o755)
	c.File("init", 0o755, guestInit)
	c.File("etc/usbvm.env", 0o644, fmt.Appendf(nil, "TEST_TIMEOUT=%ds\nTEST_RUN='%s'\n", int(cfg.TestTimeout.Seconds()), cfg.Run))
	for _, m := range k.Modules {
		add(k.ModulePath(m), "mods/"+m, 0o644)
	}
	c.File("mods/order", 0o644, []byte(strings.Join(k.Modules, "\n")+"\n"))
	add(guestBin, "usr/bin/guest.test", 0o755)
	add(gadgetBin, "usr/bin/gadget-zebra", 0o755)
	for _, l := range libs {
		add(l, l, 0o755)
	}
	if err := c.Close(); err != nil {
		return nil, 0, err
	}
	if err := f.Close(); err != nil {
		return nil, 0, fmt.Errorf("usbvm: %w", err)
	}
	return libs, c.size, nil
}
