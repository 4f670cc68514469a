package usbvm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// guestRun is what the serial console said.
type guestRun struct {
	exit                 int
	exitSeen             bool
	passed, failed       []string
	skipped              []string
	timings              []Timing
	booted, ready, done  float64
	errors               []string // USBVM_ERROR lines
	lastLines            []string
	consoleLinesReceived int
}

var (
	resultRE = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): (\S+)`)
	uptimeRE = regexp.MustCompile(`^USBVM_(BOOTED|READY|DONE) uptime=([0-9.]+)`)
)

// line takes one console line.
func (g *guestRun) line(s string) {
	g.consoleLinesReceived++
	g.lastLines = append(g.lastLines, s)
	if len(g.lastLines) > 20 {
		g.lastLines = g.lastLines[1:]
	}
	if v, ok := strings.CutPrefix(s, "TEST_EXIT="); ok {
		if _, err := fmt.Sscanf(v, "%d", &g.exit); err == nil {
			g.exitSeen = true
		}
		return
	}
	if v, ok := strings.CutPrefix(s, "USBVM_TIMING "); ok {
		name, text, _ := strings.Cut(strings.TrimSpace(v), " ")
		g.timings = append(g.timings, Timing{name, strings.TrimSpace(text)})
		return
	}
	if v, ok := strings.CutPrefix(s, "USBVM_ERROR "); ok {
		g.errors = append(g.errors, v)
		return
	}
	if m := uptimeRE.FindStringSubmatch(s); m != nil {
		var f float64
		fmt.Sscanf(m[2], "%g", &f)
		switch m[1] {
		case "BOOTED":
			g.booted = f
		case "READY":
			g.ready = f
		case "DONE":
			g.done = f
		}
		return
	}
	if m := resultRE.FindStringSubmatch(s); m != nil {
		switch m[1] {
		case "PASS":
			g.passed = append(g.passed, m[2])
		case "FAIL":
			g.failed = append(g.failed, m[2])
		case "SKIP":
			g.skipped = append(g.skipped, m[2])
		}
	}
}

// verdict accepts only a clean run: TEST_EXIT=0, tests passed, none failed or skipped, and (for a
// full run) the timings reported.
func (g *guestRun) verdict(full bool) error {
	switch {
	case len(g.errors) > 0:
		return fmt.Errorf("usbvm: guest setup failed: %s", strings.Join(g.errors, "; "))
	case !g.exitSeen:
		return fmt.Errorf("usbvm: the guest ended without TEST_EXIT (kernel panic or init failure?); last console lines:\n  %s",
			strings.Join(g.lastLines, "\n  "))
	case g.exit != 0:
		return fmt.Errorf("usbvm: guest tests failed: TEST_EXIT=%d, failed: %s", g.exit, strings.Join(g.failed, ", "))
	case len(g.failed) > 0:
		return fmt.Errorf("usbvm: TEST_EXIT=0 but tests failed: %s", strings.Join(g.failed, ", "))
	case len(g.skipped) > 0:
		return fmt.Errorf("usbvm: guest tests skipped: %s", strings.Join(g.skipped, ", "))
	case len(g.passed) == 0:
		return errors.New("usbvm: TEST_EXIT=0 but no guest test passed")
	}
	if !full {
		return nil
	}
	for _, name := range requiredTimings {
		found := false
		for _, t := range g.timings {
			found = found || t.Name == name
		}
		if !found {
			return fmt.Errorf("usbvm: the guest reported no %s timing", name)
		}
	}
	return nil
}

// boot runs QEMU until the guest powers off, streaming its console into cfg.Log.
func boot(ctx context.Context, cfg Config, k Kernel, initrd string) (*guestRun, error) {
	g := &guestRun{}
	ctx, cancel := context.WithTimeout(ctx, cfg.BootTimeout)
	defer cancel()
	args := []string{
		"-accel", cfg.Accel, "-m", "512", "-smp", "1",
		"-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
		"-kernel", k.Vmlinuz(), "-initrd", initrd,
		"-append", "console=ttyS0 quiet loglevel=3 panic=-1",
	}
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", args...)
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return g, err
	}
	cmd.Stderr = prefixWriter{cfg.Log, "qemu| "}
	fmt.Fprintf(cfg.Log, "usbvm: qemu-system-x86_64 %s\n", strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		return g, fmt.Errorf("usbvm: start qemu: %w", err)
	}
	r := bufio.NewReader(stdout)
	for {
		s, rerr := r.ReadString('\n')
		if s != "" {
			s = strings.TrimRight(s, "\r\n")
			fmt.Fprintf(cfg.Log, "guest| %s\n", s)
			g.line(s)
		}
		if rerr != nil {
			break
		}
	}
	err = cmd.Wait()
	if ctx.Err() != nil {
		return g, fmt.Errorf("usbvm: the guest did not finish (boot timeout %v): %w; QEMU killed", cfg.BootTimeout, ctx.Err())
	}
	if err != nil {
		return g, fmt.Errorf("usbvm: qemu: %w", err)
	}
	return g, nil
}

// prefixWriter prefixes each write (QEMU's stderr comes in lines) with a tag.
type prefixWriter struct {
	w   io.Writer
	tag string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	for l := range strings.Lines(string(b)) {
		fmt.Fprintf(p.w, "%s%s", p.tag, l)
	}
	return len(b), nil
}
