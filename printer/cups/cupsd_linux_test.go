package cups

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"printdock/internal/testenv"
	"printdock/printer"
)

// captureBackend is the throwaway queue's CUPS backend: it writes each job's bytes to
// <out>/job-<id>.bin (atomically, through a rename) for the test to read. A job that begins with
// "#media-empty" plays a printer out of paper: the backend reports the media-empty-error state reason to
// cupsd (as real backends do, on stderr) until the test creates <out>/paper. Run without arguments
// (device discovery) it names itself.
const captureBackend = `#!/bin/sh
if [ $# -eq 0 ]; then echo 'direct capture "Unknown" "printdock test capture"'; exit 0; fi
out=${DEVICE_URI#capture:}
if [ -n "$6" ]; then cat "$6"; else cat; fi >"$out/job-$1.tmp"
if [ "$(head -c 12 "$out/job-$1.tmp")" = "#media-empty" ]; then
	echo "STATE: +media-empty-error" >&2
	n=0
	while [ ! -e "$out/paper" ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
	echo "STATE: -media-empty-error" >&2
fi
mv "$out/job-$1.tmp" "$out/job-$1.bin"
`

// cupsd is a throwaway CUPS server started by a test: its own configuration, spool, logs and unix
// socket in a temporary directory, and one raw queue "capture" whose backend hands the bytes to the
// test. Run as root, the test starts it as nobody:nogroup (it needs no privilege).
type cupsd struct {
	dir, sock, out string
}

func startCUPSD(t *testing.T) *cupsd {
	t.Helper()
	bin, err := exec.LookPath("cupsd")
	if err != nil {
		bin, err = exec.LookPath("/usr/sbin/cupsd")
	}
	testenv.RequireReal(t, "cupsd (Debian package cups)", err)
	// Not t.TempDir: its parents are private to this user, and cupsd may run as another.
	dir, err := os.MkdirTemp("", "printdock-cupsd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := &cupsd{dir: dir, sock: filepath.Join(dir, "cups.sock"), out: filepath.Join(dir, "out")}
	for _, d := range []string{"state", "cache", "spool", "tmp", "log", "out", "bin/backend"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"daemon", "filter"} { // cups-exec runs the backend; raw jobs need no filter
		if err := os.Symlink("/usr/lib/cups/"+d, filepath.Join(dir, "bin", d)); err != nil {
			t.Fatal(err)
		}
	}
	uid, gid, userName, groupName := os.Getuid(), os.Getgid(), "", ""
	if uid == 0 {
		uid, gid, userName, groupName = lookupIDs(t, "nobody", "nogroup")
	} else if u, err := user.Current(); err == nil {
		userName = u.Username
		if g, err := user.LookupGroupId(u.Gid); err == nil {
			groupName = g.Name
		}
	}
	files := map[string]string{
		"bin/backend/capture": captureBackend,
		"cupsd.conf": fmt.Sprintf(`Listen %s
LogLevel debug
WebInterface No
Browsing No
DefaultAuthType None
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
`, c.sock),
		"cups-files.conf": fmt.Sprintf(`ServerRoot %[1]s
StateDir %[1]s/state
CacheDir %[1]s/cache
RequestRoot %[1]s/spool
TempDir %[1]s/tmp
ServerBin %[1]s/bin
DataDir /usr/share/cups
AccessLog %[1]s/log/access_log
ErrorLog %[1]s/log/error_log
PageLog %[1]s/log/page_log
Printcap %[1]s/printcap
User %[2]s
Group %[3]s
SystemGroup %[3]s
`, dir, userName, groupName),
		"printers.conf": fmt.Sprintf(`<Printer capture>
Info printdock test capture
DeviceURI capture:%s
State Idle
Accepting Yes
Shared No
</Printer>
`, c.out),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "bin/backend/capture"), 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() == 0 {
		if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, uid, gid)
		}); err != nil {
			t.Fatal(err)
		}
	}
	var log testenv.SyncBuffer
	cmd := exec.Command(bin, "-f", "-c", filepath.Join(dir, "cupsd.conf"), "-s", filepath.Join(dir, "cups-files.conf"))
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if os.Getuid() == 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	}
	if err := cmd.Start(); err != nil {
		testenv.RequireReal(t, "cupsd", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "log/error_log"))
			t.Logf("cupsd output:\n%s\nerror_log (tail):\n%s", log.String(), tail(string(b), 40))
		}
	})
	testenv.WaitFor(t, "cupsd listening on "+c.sock, func() bool {
		select {
		case <-exited:
			t.Fatalf("cupsd exited: %s", log.String())
		default:
		}
		conn, err := net.Dial("unix", c.sock)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	return c
}

func lookupIDs(t *testing.T, userName, groupName string) (uid, gid int, u, g string) {
	t.Helper()
	pu, err := user.Lookup(userName)
	if err != nil {
		t.Fatalf("user %s: %v", userName, err)
	}
	pg, err := user.LookupGroup(groupName)
	if err != nil {
		t.Fatalf("group %s: %v", groupName, err)
	}
	uid, _ = strconv.Atoi(pu.Uid)
	gid, _ = strconv.Atoi(pg.Gid)
	return uid, gid, userName, groupName
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// jobs returns the bytes of the jobs the backend received, by CUPS job id.
func (c *cupsd) jobs(t *testing.T) [][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(c.out, "job-*.bin"))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(names, func(a, b string) int { return jobNumber(a) - jobNumber(b) })
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func jobNumber(path string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "job-"), ".bin"))
	return n
}

// ipp sends a bare operation on the queue (Pause-Printer, Resume-Printer) as an administrator would.
func (c *cupsd) ipp(t *testing.T, p *Printer, op uint16) {
	t.Helper()
	req := newRequest(op, requestIDs.Add(1), p.printerURI())
	req.add(tagName, "requesting-user-name", p.opts.User)
	resp, _, err := p.client.post(t.Context(), p.queue, req.bytes(), nil)
	if err != nil || !resp.ok() {
		t.Fatalf("IPP operation 0x%04x: %v %+v", op, err, resp)
	}
}

const (
	opPausePrinter  uint16 = 0x0010
	opResumePrinter uint16 = 0x0011
)

// TestCUPSRaw prints to a real cupsd's raw queue: each job reaches the backend byte-exact and once, the
// queue's state comes back through Get-Printer-Attributes, and a queue cupsd does not have is named.
func TestCUPSRaw(t *testing.T) {
	c := startCUPSD(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	p, err := Open(ctx, "cups://capture", Options{Server: c.sock})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if info := p.Info(); info.ID != "cups://capture" || info.Name != "capture" || info.Bidirectional {
		t.Fatalf("info %+v", info)
	}
	st, err := p.Status(ctx)
	if err != nil || st.State != printer.StateReady {
		t.Fatalf("status %+v, %v", st, err)
	}

	// Raw: a ZPL label, a TSPL label and 200 kB of every byte value (a ^GFB graphic could carry them).
	bin := make([]byte, 200_000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range bin {
		bin[i] = byte(rng.UintN(256))
	}
	want := [][]byte{
		[]byte("^XA^FO50,50^A0N,50,50^FDcups raw^FS^XZ\n"),
		[]byte("SIZE 100 mm, 150 mm\r\nCLS\r\nTEXT 50,50,\"3\",0,1,1,\"cups\"\r\nPRINT 1,1\r\n"),
		bin,
	}
	for i, job := range want {
		if err := p.Write(ctx, job); err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
		testenv.WaitFor(t, fmt.Sprintf("job %d at the backend", i+1), func() bool { return len(c.jobs(t)) == i+1 })
	}
	got := c.jobs(t)
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("job %d: backend got %d bytes, want %d byte-exact", i, len(got[i]), len(want[i]))
		}
	}

	// Paused in CUPS (cupsdisable): the state says so; jobs are still accepted and wait.
	c.ipp(t, p, opPausePrinter)
	st, err = p.Status(ctx)
	if err != nil || st.State != printer.StatePaused || !errors.Is(st.Err(), printer.ErrPaused) {
		t.Fatalf("paused: %+v, %v", st, err)
	}
	if err := p.Write(ctx, want[0]); err != nil {
		t.Fatal(err)
	}
	c.ipp(t, p, opResumePrinter)
	testenv.WaitFor(t, "the job held while paused", func() bool { return len(c.jobs(t)) == len(want)+1 })

	// Out of paper: the backend's printer-state-reasons media-empty-error comes back as media out; the
	// job prints once paper is loaded and the queue is ready again.
	paper := []byte("#media-empty\n^XA^FDafter paper^FS^XZ\n")
	if err := p.Write(ctx, paper); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "media out from CUPS", func() bool {
		st, err := p.Status(ctx)
		return err == nil && st.State == printer.StateMediaOut && errors.Is(st.Err(), printer.ErrMediaOut)
	})
	if err := os.WriteFile(filepath.Join(c.out, "paper"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "the job after paper", func() bool { return len(c.jobs(t)) == len(want)+2 })
	if got := c.jobs(t)[len(want)+1]; !bytes.Equal(got, paper) {
		t.Fatalf("job after paper: %q", got)
	}
	testenv.WaitFor(t, "ready again", func() bool {
		st, err := p.Status(ctx)
		return err == nil && st.State == printer.StateReady
	})

	// A queue cupsd does not have.
	q, err := Open(ctx, "cups://nosuchqueue", Options{Server: c.sock})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := q.Status(ctx); !errors.Is(err, printer.ErrNotFound) || st.State != printer.StateOffline {
		t.Fatalf("missing queue status: %+v, %v", st, err)
	}
	err = q.Write(ctx, want[0])
	if n, ok := printer.Written(err); !errors.Is(err, printer.ErrNotFound) || !ok || n != 0 {
		t.Fatalf("missing queue write: %v", err)
	}
}

// TestCUPSUnreachable: no cupsd at the address is offline, and a write reports nothing sent.
func TestCUPSUnreachable(t *testing.T) {
	p, err := Open(t.Context(), "cups://capture", Options{Server: filepath.Join(t.TempDir(), "none.sock")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Status(t.Context())
	if !errors.Is(err, printer.ErrDisconnected) || st.State != printer.StateOffline {
		t.Fatalf("status %+v, %v", st, err)
	}
	err = p.Write(t.Context(), []byte("^XA^XZ"))
	if n, ok := printer.Written(err); !errors.Is(err, printer.ErrDisconnected) || !ok || n != 0 {
		t.Fatalf("write: %v", err)
	}
}
