package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is the browser the console tests drive: HIKYAKU_CHROMIUM,
// else /usr/bin/chromium (Debian's package, which .ci/run installs), else
// chromium on PATH. Without one the test skips on a developer's machine
// and fails under CI (CI set), where a skip would pass unseen.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HIKYAKU_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium (/usr/bin/chromium or chromium on PATH, or HIKYAKU_CHROMIUM) and CI is set: install it (apt-get install chromium); the console's browser test must run in CI")
	}
	t.Skip("no Chromium: install it (apt-get install chromium) or set HIKYAKU_CHROMIUM to run the console's browser test")
	return ""
}

// lockedBuffer is Chromium's output, written by its process while the
// test may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newChromium starts a headless Chromium with a fresh profile (no cookies,
// no cache) and returns the context of its first tab. Root needs
// --no-sandbox; the rest keeps it from reaching anything but loopback.
// Its output is logged if the test fails; it is stopped when the test ends.
func newChromium(t *testing.T, width, height int) context.Context {
	t.Helper()
	out := &lockedBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
		chromedp.CombinedOutput(out),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	// One minute for the whole test's browsing: a page that never loads
	// fails the test instead of hanging it.
	ctx, cancelTime := context.WithTimeout(ctx, time.Minute)
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
		if t.Failed() {
			t.Logf("chromium's output:\n%s", out.String())
		}
	})
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v\n%s", err, out.String())
	}
	t.Logf("chromium started in %s", time.Since(start).Round(time.Millisecond))
	return ctx
}

// screenshotDir is where the console test's screenshots go:
// HIKYAKU_SCREENSHOTS if set (kept), else the test's temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("HIKYAKU_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("HIKYAKU_SCREENSHOTS: %v", err)
	}
	return dir
}

// screenshot saves the whole page as dir/name.png (quality 100 is PNG)
// and logs its path.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}
