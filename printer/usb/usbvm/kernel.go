package usbvm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// guestModules are the kernel modules the guest loads (with their dependencies): dummy_hcd is a USB host
// and device controller connected to each other, usb_f_printer the printer gadget function (with
// libcomposite and configfs), usblp the host's printer driver, which printer/usb must detach.
var guestModules = []string{"dummy_hcd", "usb_f_printer", "usblp"}

// Kernel is a Debian kernel prepared for the guest: its image and the modules the guest loads.
type Kernel struct {
	Package string   `json:"package"` // linux-image-6.1.0-56-amd64
	Version string   `json:"version"` // the package version, 6.1.192-2
	Release string   `json:"release"` // uname -r, 6.1.0-56-amd64
	Modules []string `json:"modules"` // file names under Dir/modules, in load order
	Dir     string   `json:"-"`
	Cached  bool     `json:"-"` // found in the cache rather than downloaded now
}

// Vmlinuz is the path of the kernel image.
func (k Kernel) Vmlinuz() string { return filepath.Join(k.Dir, "vmlinuz") }

// ModulePath is the path of one of k.Modules.
func (k Kernel) ModulePath(name string) string { return filepath.Join(k.Dir, "modules", name) }

const kernelManifest = "kernel.json"

// PrepareKernel returns the current Debian amd64 kernel (the package linux-image-amd64 depends on),
// from cacheDir/kernel when it was prepared before, else downloaded with apt-get, unpacked with
// dpkg-deb, its module dependencies computed with depmod (kmod), and the image and the needed modules
// kept in the cache. When apt cannot say which kernel is current or cannot download it (offline), the
// newest cached kernel is used.
func PrepareKernel(ctx context.Context, cacheDir string, log io.Writer) (Kernel, error) {
	root := filepath.Join(cacheDir, "kernel")
	k, err := prepareKernel(ctx, root, log)
	if errors.Is(err, errDownload) && aptUpdate(ctx, log) {
		// Stale package lists name a kernel the mirror no longer has: ask again after the update.
		k, err = prepareKernel(ctx, root, log)
	}
	if errors.Is(err, errDownload) { // offline with package lists: an older kernel still proves the stack
		if cached, cerr := newestCachedKernel(root); cerr == nil {
			fmt.Fprintf(log, "usbvm: %v; using cached %s %s\n", err, cached.Package, cached.Version)
			return cached, nil
		}
	}
	return k, err
}

// errDownload marks a failed apt-get download.
var errDownload = errors.New("download failed")

func prepareKernel(ctx context.Context, root string, log io.Writer) (Kernel, error) {
	pkg, ver, err := currentKernelPackage(ctx, log)
	if err != nil {
		k, cerr := newestCachedKernel(root)
		if cerr != nil {
			return Kernel{}, fmt.Errorf("usbvm: kernel: %w (and no cached kernel: %w)", err, cerr)
		}
		fmt.Fprintf(log, "usbvm: cannot ask apt for the current kernel (%v); using cached %s %s\n", err, k.Package, k.Version)
		return k, nil
	}
	dir := filepath.Join(root, pkg+"_"+ver)
	if k, err := loadKernel(dir); err == nil {
		return k, nil
	}
	fmt.Fprintf(log, "usbvm: preparing kernel %s %s (download ~70 MB, unpack, depmod)\n", pkg, ver)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return Kernel{}, fmt.Errorf("usbvm: kernel cache: %w", err)
	}
	tmp, err := os.MkdirTemp(root, ".prepare-")
	if err != nil {
		return Kernel{}, fmt.Errorf("usbvm: kernel cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	k, err := unpackKernel(ctx, tmp, pkg, ver, log)
	if err != nil {
		return Kernel{}, err
	}
	if err := os.Rename(k.Dir, dir); err != nil {
		if k2, lerr := loadKernel(dir); lerr == nil { // a concurrent run got there first
			return k2, nil
		}
		return Kernel{}, fmt.Errorf("usbvm: kernel cache: %w", err)
	}
	k.Dir, k.Cached = dir, false
	// Older kernels are no longer current: drop them.
	if ents, err := os.ReadDir(root); err == nil {
		for _, e := range ents {
			if e.IsDir() && e.Name() != filepath.Base(dir) && !strings.HasPrefix(e.Name(), ".") {
				_ = os.RemoveAll(filepath.Join(root, e.Name()))
			}
		}
	}
	return k, nil
}

var dependsRE = regexp.MustCompile(`(?m)^\s*Depends:\s*(linux-image-[0-9][^\s:]*-amd64)\s*$`)

// currentKernelPackage asks apt which kernel package linux-image-amd64 pulls in now, and its version.
// With no package lists it runs apt-get update once (as root or with passwordless sudo).
func currentKernelPackage(ctx context.Context, log io.Writer) (pkg, version string, err error) {
	for attempt := 0; ; attempt++ {
		pkg, version, err = askAptForKernel(ctx)
		if err == nil || attempt > 0 || !aptUpdate(ctx, log) {
			return pkg, version, err
		}
	}
}

func askAptForKernel(ctx context.Context) (pkg, version string, err error) {
	out, err := exec.CommandContext(ctx, "apt-cache", "depends", "linux-image-amd64").CombinedOutput()
	if err != nil {
		return "", "", fmt.Errorf("apt-cache depends linux-image-amd64: %w: %s", err, bytes.TrimSpace(out))
	}
	m := dependsRE.FindSubmatch(out)
	if m == nil {
		return "", "", fmt.Errorf("apt-cache depends linux-image-amd64 names no linux-image-*-amd64 package: %s", bytes.TrimSpace(out))
	}
	pkg = string(m[1])
	out, err = exec.CommandContext(ctx, "apt-cache", "show", "--no-all-versions", pkg).Output()
	if err != nil {
		return "", "", fmt.Errorf("apt-cache show %s: %w", pkg, err)
	}
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(line, "Version:"); ok {
			return pkg, strings.TrimSpace(v), nil
		}
	}
	return "", "", fmt.Errorf("apt-cache show %s: no version", pkg)
}

// aptUpdate refreshes the package lists if it may (root, or sudo without a password).
func aptUpdate(ctx context.Context, log io.Writer) bool {
	var cmd *exec.Cmd
	switch {
	case os.Geteuid() == 0:
		cmd = exec.CommandContext(ctx, "apt-get", "update", "-qq")
	case exec.CommandContext(ctx, "sudo", "-n", "true").Run() == nil:
		cmd = exec.CommandContext(ctx, "sudo", "-n", "apt-get", "update", "-qq")
	default:
		return false
	}
	fmt.Fprintln(log, "usbvm: apt-get update")
	cmd.Stdout, cmd.Stderr = log, log
	return cmd.Run() == nil
}

func loadKernel(dir string) (Kernel, error) {
	b, err := os.ReadFile(filepath.Join(dir, kernelManifest))
	if err != nil {
		return Kernel{}, err
	}
	var k Kernel
	if err := json.Unmarshal(b, &k); err != nil {
		return Kernel{}, err
	}
	k.Dir, k.Cached = dir, true
	if _, err := os.Stat(k.Vmlinuz()); err != nil {
		return Kernel{}, err
	}
	for _, m := range k.Modules {
		if _, err := os.Stat(k.ModulePath(m)); err != nil {
			return Kernel{}, err
		}
	}
	return k, nil
}

func newestCachedKernel(root string) (Kernel, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return Kernel{}, err
	}
	var best Kernel
	var bestTime int64
	for _, e := range ents {
		k, err := loadKernel(filepath.Join(root, e.Name()))
		if err != nil {
			continue
		}
		if fi, err := os.Stat(filepath.Join(k.Dir, kernelManifest)); err == nil && fi.ModTime().UnixNano() > bestTime {
			best, bestTime = k, fi.ModTime().UnixNano()
		}
	}
	if best.Dir == "" {
		return Kernel{}, errors.New("none in " + root)
	}
	return best, nil
}

// unpackKernel downloads and unpacks pkg in work and lays out a cache entry in work/out.
func unpackKernel(ctx context.Context, work, pkg, ver string, log io.Writer) (Kernel, error) {
	run := func(dir, name string, args ...string) error {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("usbvm: %s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
	}
	dl := filepath.Join(work, "dl")
	if err := os.Mkdir(dl, 0o755); err != nil {
		return Kernel{}, err
	}
	if err := run(dl, "apt-get", "download", pkg+"="+ver); err != nil {
		return Kernel{}, fmt.Errorf("%w: %w", errDownload, err)
	}
	debs, _ := filepath.Glob(filepath.Join(dl, "*.deb"))
	if len(debs) != 1 {
		return Kernel{}, fmt.Errorf("usbvm: apt-get download %s left %d .deb files", pkg, len(debs))
	}
	x := filepath.Join(work, "x")
	if err := run(work, "dpkg-deb", "-x", debs[0], x); err != nil {
		return Kernel{}, err
	}
	rels, _ := os.ReadDir(filepath.Join(x, "lib/modules"))
	if len(rels) != 1 {
		return Kernel{}, fmt.Errorf("usbvm: %s: want one lib/modules/<release>, found %d", pkg, len(rels))
	}
	rel := rels[0].Name()
	// The package does not ship modules.dep (its postinst runs depmod): make it.
	if err := run(work, "depmod", "-b", x, rel); err != nil {
		return Kernel{}, err
	}
	modDir := filepath.Join(x, "lib/modules", rel)
	dep, err := os.ReadFile(filepath.Join(modDir, "modules.dep"))
	if err != nil {
		return Kernel{}, fmt.Errorf("usbvm: %w", err)
	}
	order, err := loadOrder(dep, guestModules)
	if err != nil {
		return Kernel{}, fmt.Errorf("usbvm: %s: %w", pkg, err)
	}

	out := filepath.Join(work, "out")
	if err := os.MkdirAll(filepath.Join(out, "modules"), 0o755); err != nil {
		return Kernel{}, err
	}
	k := Kernel{Package: pkg, Version: ver, Release: rel, Dir: out}
	if err := copyFile(filepath.Join(x, "boot", "vmlinuz-"+rel), k.Vmlinuz()); err != nil {
		return Kernel{}, fmt.Errorf("usbvm: %w", err)
	}
	for _, rp := range order {
		name, data, err := readModule(ctx, filepath.Join(modDir, rp))
		if err != nil {
			return Kernel{}, err
		}
		if err := os.WriteFile(k.ModulePath(name), data, 0o644); err != nil {
			return Kernel{}, err
		}
		k.Modules = append(k.Modules, name)
	}
	b, _ := json.MarshalIndent(k, "", "  ")
	if err := os.WriteFile(filepath.Join(out, kernelManifest), b, 0o644); err != nil {
		return Kernel{}, err
	}
	return k, nil
}

// moduleName is a module's name from its path: base name without .ko[.xz|.zst|.gz], '-' as '_'.
func moduleName(p string) string {
	b := filepath.Base(p)
	if i := strings.Index(b, ".ko"); i >= 0 {
		b = b[:i]
	}
	return strings.ReplaceAll(b, "-", "_")
}

// loadOrder reads modules.dep ("path: dep dep …", each line listing a module's whole dependency
// closure) and returns the module paths to load for roots, each after its dependencies.
func loadOrder(modulesDep []byte, roots []string) ([]string, error) {
	deps := map[string][]string{}
	byName := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(modulesDep))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		mod, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		mod = strings.TrimSpace(mod)
		deps[mod] = strings.Fields(rest)
		byName[moduleName(mod)] = mod
	}
	var order []string
	done := map[string]bool{}
	var visit func(string, int) error
	visit = func(m string, depth int) error {
		if done[m] {
			return nil
		}
		if depth > 64 {
			return fmt.Errorf("modules.dep: dependency loop at %s", m)
		}
		// modules.dep lists the closure with the most basic module last: load from the end.
		for _, d := range slices.Backward(deps[m]) {
			if err := visit(d, depth+1); err != nil {
				return err
			}
		}
		done[m] = true
		order = append(order, m)
		return nil
	}
	for _, r := range roots {
		m, ok := byName[moduleName(r)]
		if !ok {
			return nil, fmt.Errorf("modules.dep: no module %s (built into the kernel, or missing?)", r)
		}
		if err := visit(m, 0); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// readModule returns a module's file name and contents, decompressed (busybox insmod takes plain .ko).
func readModule(ctx context.Context, p string) (string, []byte, error) {
	name := moduleName(p) + ".ko"
	var tool string
	switch {
	case strings.HasSuffix(p, ".ko"):
		b, err := os.ReadFile(p)
		return name, b, err
	case strings.HasSuffix(p, ".ko.xz"):
		tool = "xz"
	case strings.HasSuffix(p, ".ko.zst"):
		tool = "zstd"
	case strings.HasSuffix(p, ".ko.gz"):
		tool = "gzip"
	default:
		return "", nil, fmt.Errorf("usbvm: unknown module format %s", p)
	}
	b, err := exec.CommandContext(ctx, tool, "-dc", p).Output()
	if err != nil {
		return "", nil, fmt.Errorf("usbvm: decompress %s with %s: %w", p, tool, err)
	}
	return name, b, nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}
