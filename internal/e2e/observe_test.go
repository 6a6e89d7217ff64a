package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hikyaku/hikyaku/internal/redistest"
)

// scrape GETs /metrics and returns its status and body.
func scrape(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	return resp.StatusCode, string(body)
}

func parseMetrics(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mfs
}

// sample is the value of the first series of name in a scrape, and whether there is one.
func sample(t *testing.T, body, name string) (float64, bool) {
	t.Helper()
	mfs := parseMetrics(t, body)
	mf, ok := mfs[name]
	if !ok || len(mf.GetMetric()) == 0 {
		return 0, false
	}
	m := mf.GetMetric()[0]
	if g := m.GetGauge(); g != nil {
		return g.GetValue(), true
	}
	return m.GetCounter().GetValue(), true
}

// timedStatus is a GET's status code and how long the answer took.
func timedStatus(addr, path string) (int, time.Duration) {
	start := time.Now()
	code := statusOf(addr, path)
	return code, time.Since(start)
}

// TestMetricsWhileRedisIsDown: with Redis killed, /metrics still answers
// 200 (Prometheus must not see up == 0 exactly when the store is down),
// with hikyaku_store_up 0 and /-/ready 503; both come back with Redis.
func TestMetricsWhileRedisIsDown(t *testing.T) {
	rd := redistest.Start(t, redistest.Options{})
	d := startDaemon(t, "replica", writeConfig(t), "--store", rd.URL())
	code, body := scrape(t, d.Addr)
	if up, ok := sample(t, body, "hikyaku_store_up"); code != http.StatusOK || !ok || up != 1 {
		t.Fatalf("Redis up: /metrics %d, hikyaku_store_up %v (present %v), want 200 and 1", code, up, ok)
	}
	rd.Kill()
	code, body = scrape(t, d.Addr)
	if code != http.StatusOK {
		t.Fatalf("Redis down: /metrics answered %d, want 200: %.300s", code, body)
	}
	if up, ok := sample(t, body, "hikyaku_store_up"); !ok || up != 0 {
		t.Errorf("Redis down: hikyaku_store_up %v (present %v), want 0", up, ok)
	}
	if _, ok := sample(t, body, "hikyaku_outbox_depth"); ok {
		t.Error("Redis down: hikyaku_outbox_depth still reported; a stale figure hides the outage")
	}
	if code := statusOf(d.Addr, "/-/ready"); code != http.StatusServiceUnavailable {
		t.Errorf("Redis down: /-/ready %d, want 503", code)
	}
	rd.Restart()
	waitFor(t, "hikyaku_store_up 1 after Redis came back", 10*time.Second, func() bool {
		_, body := scrape(t, d.Addr)
		up, ok := sample(t, body, "hikyaku_store_up")
		return ok && up == 1
	})
}

// TestReadyAndMetricsWithAFrozenRedis: Redis stopped with SIGSTOP keeps its
// connections open and answers nothing. /-/ready must answer 503 within its
// 1 s bound (plus slack for a loaded machine), and /metrics 200, not wait
// for go-redis's read timeout.
func TestReadyAndMetricsWithAFrozenRedis(t *testing.T) {
	rd := redistest.Start(t, redistest.Options{})
	d := startDaemon(t, "replica", writeConfig(t), "--store", rd.URL())
	if code := statusOf(d.Addr, "/-/ready"); code != http.StatusOK {
		t.Fatalf("/-/ready with Redis up: %d", code)
	}
	rd.Freeze()
	defer rd.Thaw()
	const bound = 2500 * time.Millisecond // the 1 s probe bound and a loaded machine's slack
	for i := range 3 {
		code, took := timedStatus(d.Addr, "/-/ready")
		t.Logf("frozen Redis, try %d: /-/ready %d in %s", i+1, code, took.Round(time.Millisecond))
		if code != http.StatusServiceUnavailable || took > bound {
			t.Errorf("frozen Redis, try %d: /-/ready %d after %s, want 503 within %s", i+1, code, took.Round(time.Millisecond), bound)
		}
	}
	start := time.Now()
	code, body := scrape(t, d.Addr)
	took := time.Since(start)
	t.Logf("frozen Redis: /metrics %d in %s", code, took.Round(time.Millisecond))
	if up, ok := sample(t, body, "hikyaku_store_up"); code != http.StatusOK || !ok || up != 0 || took > bound {
		t.Errorf("frozen Redis: /metrics %d after %s, hikyaku_store_up %v (present %v), want 200 within %s and 0",
			code, took.Round(time.Millisecond), up, ok, bound)
	}
	rd.Thaw()
	waitFor(t, "/-/ready 200 after Redis thawed", 15*time.Second, func() bool { return statusOf(d.Addr, "/-/ready") == http.StatusOK })
}

// TestJSONLogIsOnlyJSON: with --log-format json every line hikyaku writes
// is JSON, go-redis's own complaints about a Redis gone away included.
func TestJSONLogIsOnlyJSON(t *testing.T) {
	rd := redistest.Start(t, redistest.Options{})
	d := startDaemon(t, "replica", writeConfig(t), "--store", rd.URL())
	rd.Kill()
	postWebhook(d.Addr, groupMessage(t, "WhileRedisIsGone", true)) // the store's calls now fail and go-redis logs
	statusOf(d.Addr, "/-/ready")
	if _, ok := d.WaitLog(func(l *logLine) bool { return strings.Contains(l.Raw, "failed to dial") }, 10*time.Second); !ok {
		t.Fatal("go-redis logged no dial failure: the test proves nothing")
	}
	for _, l := range d.log.all() {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l.Raw), &rec); err != nil {
			t.Errorf("not a JSON log line: %q", l.Raw)
			continue
		}
		if strings.Contains(l.Raw, "failed to dial") && rec["component"] != "redis" {
			t.Errorf("go-redis's line lacks component=redis: %s", l.Raw)
		}
	}
}

// TestReadyWhenTheDiskIsFull: the embedded store on a disk that fills up:
// /-/ready turns 503 saying the store cannot take a write, /metrics still
// answers with hikyaku_store_up 0, and both recover when space is freed.
func TestReadyWhenTheDiskIsFull(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs here (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	d := startDaemon(t, "embedded", writeConfig(t), "--data-dir", filepath.Join(dir, "data"))
	if code := statusOf(d.Addr, "/-/ready"); code != http.StatusOK {
		t.Fatalf("/-/ready with room on the disk: %d", code)
	}
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	resp, err := client.Get("http://" + d.Addr + "/-/ready")
	if err != nil {
		t.Fatal(err)
	}
	why, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(why), "store cannot take a write") {
		t.Errorf("disk full: /-/ready %d %q, want 503 saying the store cannot take a write", resp.StatusCode, why)
	}
	code, body := scrape(t, d.Addr)
	if up, ok := sample(t, body, "hikyaku_store_up"); code != http.StatusOK || !ok || up != 0 {
		t.Errorf("disk full: /metrics %d, hikyaku_store_up %v (present %v), want 200 and 0", code, up, ok)
	}
	os.Remove(filler)
	if code := statusOf(d.Addr, "/-/ready"); code != http.StatusOK {
		t.Errorf("/-/ready after space was freed: %d, want 200", code)
	}
}

// promtool is the path of Prometheus' promtool, skipping the test where it
// is not installed (it is at /usr/bin/promtool on the build machines).
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not on PATH; CI must install it (apt-get install prometheus)")
		}
		t.Skip("promtool not on PATH")
	}
	return path
}

const alertsFile = "../../docs/alerts.yml"

// TestAlertRulesAreValid runs promtool check rules on docs/alerts.yml.
func TestAlertRulesAreValid(t *testing.T) {
	out, err := exec.Command(promtool(t), "check", "rules", alertsFile).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules %s: %v\n%s", alertsFile, err, out)
	}
}

// TestAlertRulesFire runs promtool test rules: each rule fires on the
// series that should make it fire (docs/alerts_test.yml).
func TestAlertRulesFire(t *testing.T) {
	out, err := exec.Command(promtool(t), "test", "rules", "../../docs/alerts_test.yml").CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// TestLiveMetricsPassPromtool runs promtool check metrics on a running
// daemon's /metrics.
func TestLiveMetricsPassPromtool(t *testing.T) {
	bin := promtool(t)
	d := startDaemon(t, "embedded", writeConfig(t), "--data-dir", t.TempDir())
	code, body := scrape(t, d.Addr)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	if v, ok := sample(t, body, "hikyaku_build_info"); !ok || v != 1 {
		t.Errorf("hikyaku_build_info = %v (present %v), want 1", v, ok)
	}
	if !regexp.MustCompile(`hikyaku_build_info\{[^}]*goversion="go[^"]+"[^}]*revision="[^"]+"[^}]*version="[^"]+"`).MatchString(body) {
		t.Errorf("hikyaku_build_info lacks goversion, revision or version:\n%s", grepLines(body, "hikyaku_build_info"))
	}
}

// comingMetrics are named in docs/alerts.yml but exposed by work being
// merged at the same time (dry-run, provider health, dead letters, panics,
// heartbeats). Trim this list as each lands; heartbeat series exist only
// with a heartbeat configured, so that one may stay.
var comingMetrics = []string{
	"hikyaku_provider_up",
	"hikyaku_heartbeat_missing",
}

// TestAlertRulesUseExposedMetrics: every hikyaku_ metric docs/alerts.yml
// reads is on a running daemon's /metrics from the start (else the rule
// silently never fires), or in comingMetrics.
func TestAlertRulesUseExposedMetrics(t *testing.T) {
	rules, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "embedded", writeConfig(t), "--data-dir", t.TempDir())
	_, body := scrape(t, d.Addr)
	mfs := parseMetrics(t, body)
	exposed := map[string]bool{}
	for name, mf := range mfs {
		if len(mf.GetMetric()) == 0 {
			continue
		}
		exposed[name] = true
		for _, suffix := range []string{"_bucket", "_sum", "_count"} { // a histogram's series
			exposed[name+suffix] = true
		}
	}
	var exprs []string
	for _, line := range strings.Split(string(rules), "\n") {
		if e, ok := strings.CutPrefix(strings.TrimSpace(line), "expr:"); ok {
			exprs = append(exprs, e)
		}
	}
	used := map[string]bool{}
	for _, name := range regexp.MustCompile(`\bhikyaku_[a-z_]+\b`).FindAllString(strings.Join(exprs, "\n"), -1) {
		used[name] = true
	}
	if len(used) < 10 {
		t.Fatalf("only %d hikyaku_ metrics found in the rules' expressions: the test does not read them", len(used))
	}
	for name := range used {
		if !exposed[name] && !slices.Contains(comingMetrics, name) {
			t.Errorf("docs/alerts.yml uses %s, which a running daemon does not expose", name)
		}
	}
	for _, name := range comingMetrics {
		if exposed[name] {
			t.Logf("%s is exposed now: drop it from comingMetrics", name)
		}
	}
}

func grepLines(body, substr string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return fmt.Sprint(strings.Join(out, "\n"))
}
