package portal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"printdock/internal/testenv"
	"printdock/server/store"
)

// The portal's workflows end to end in a real, headless Chromium against a real server (SQLite,
// keys.Service, hub, REST API with the agent websocket, portal). Every console error, uncaught exception
// or CSP violation fails the test.
//
// PRINTDOCK_SCREENSHOTS=1 writes a screenshot of every page to docs/screenshots/portal-*.png.

type uiTest struct {
	t       *testing.T
	e       *env
	ctx     context.Context
	shots   string
	dlDir   string
	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

func findChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium, chromium-browser or google-chrome in PATH")
}

func newUITest(t *testing.T, e *env) *uiTest {
	t.Helper()
	path, err := findChromium()
	testenv.RequireReal(t, "Chromium", err)
	profile := t.TempDir()
	u := &uiTest{t: t, e: e, shots: t.TempDir(), dlDir: t.TempDir()}
	if os.Getenv("PRINTDOCK_SCREENSHOTS") == "1" {
		u.shots = filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(u.shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout
		testenv.RequireReal(t, "Chromium (start)", err)
	}
	u.ctx = ctx
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			u.mu.Lock()
			u.console = append(u.console, m)
			u.mu.Unlock()
		}
	}()
	u.do(chromedp.EmulateViewport(1280, 860))
	_, err = chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: u.dlDir,
	})
	if err != nil {
		t.Fatalf("set download behaviour: %v", err)
	}
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: e.srv.URL,
		})
		if err != nil {
			t.Logf("grant %s: %v (the Copy check falls back to the button label)", name, err)
		}
	}
	return u
}

// checkConsole fails the test on console errors, uncaught exceptions and CSP violations seen so far. A
// failed page load (a 403 the test asked for) is a network entry for a page, not for an asset: allowed.
func (u *uiTest) checkConsole() {
	u.t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, m := range u.console {
		bad := m.IsException() || m.Type == chromedp.ConsoleError
		if bad && m.Source == "network" && !strings.Contains(m.URL, "/static/") && !strings.Contains(m.URL, "favicon") {
			bad = false
		}
		if bad {
			u.t.Errorf("browser console: %s (source %q, url %s:%d)", m, m.Source, m.URL, m.Line+1)
		}
	}
	u.console = nil
}

func (u *uiTest) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(u.ctx, 30*time.Second)
}

func (u *uiTest) do(actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := u.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		u.t.Fatalf("browser: %v", err)
	}
}

// submit clicks sel, waits for the page it leads to, and checks its HTTP status.
func (u *uiTest) submit(sel string, wantStatus int) {
	u.t.Helper()
	ctx, cancel := u.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		u.t.Fatalf("click %s: %v", sel, err)
	}
	if resp == nil {
		u.t.Fatalf("click %s: no page loaded", sel)
	}
	if int(resp.Status) != wantStatus {
		u.t.Fatalf("click %s: status %d, want %d", sel, resp.Status, wantStatus)
	}
}

// open navigates to path and checks the status of the page.
func (u *uiTest) open(path string, wantStatus int) {
	u.t.Helper()
	ctx, cancel := u.step()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u.e.srv.URL+path))
	if err != nil {
		u.t.Fatalf("open %s: %v", path, err)
	}
	if int(resp.Status) != wantStatus {
		u.t.Fatalf("open %s: status %d, want %d", path, resp.Status, wantStatus)
	}
}

func (u *uiTest) value(sel string) string {
	u.t.Helper()
	ctx, cancel := u.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		u.t.Fatalf("value of %s: %v", sel, err)
	}
	return v
}

func (u *uiTest) text(sel string) string {
	u.t.Helper()
	ctx, cancel := u.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		u.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

func (u *uiTest) eval(expr string) any {
	u.t.Helper()
	ctx, cancel := u.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		u.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (u *uiTest) present(sel string) bool {
	u.t.Helper()
	return u.eval(fmt.Sprintf("document.querySelector(%q) !== null", sel)) == true
}

func (u *uiTest) location() string {
	u.t.Helper()
	ctx, cancel := u.step()
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		u.t.Fatal(err)
	}
	return strings.TrimPrefix(loc, u.e.srv.URL)
}

// shot saves a full-page screenshot as portal-<name>.png.
func (u *uiTest) shot(name string) {
	u.t.Helper()
	ctx, cancel := u.step()
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		u.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(u.shots, "portal-"+name+".png"), buf, 0o644); err != nil {
		u.t.Fatal(err)
	}
}

func (u *uiTest) keyID(description string) string {
	u.t.Helper()
	list, err := u.e.svc.ListClientKeys(context.Background(), u.e.adminActor(), store.Page{})
	if err != nil {
		u.t.Fatal(err)
	}
	for _, k := range list {
		if k.Description == description {
			return k.ID
		}
	}
	u.t.Fatalf("no key %q", description)
	return ""
}
