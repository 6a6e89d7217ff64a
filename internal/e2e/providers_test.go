package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/internal/fakesmtp"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
	"github.com/hikyaku/hikyaku/internal/redistest"
)

// scrape is GET /metrics of addr.
// metricsText is a scrape's body, for tests that only look for lines in it.
func metricsText(t *testing.T, addr string) string {
	t.Helper()
	_, body := scrape(t, addr)
	return body
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// lineColOf is the 1-based LINE:COL of the first s in text.
func lineColOf(t *testing.T, text, s string) string {
	t.Helper()
	i := strings.Index(text, s)
	if i < 0 {
		t.Fatalf("%q not in the config", s)
	}
	line := strings.Count(text[:i], "\n") + 1
	col := i - strings.LastIndex(text[:i], "\n")
	return fmt.Sprintf("%d:%d", line, col)
}

// withTwilio is the config at path with providers.twilio pointing at tw.
func withTwilio(t *testing.T, path string, tw *faketwilio.Server) string {
	t.Helper()
	return appendConfig(t, path, fmt.Sprintf(`providers:
  twilio:
    account_sid: %s
    auth_token: {value: %s}
    from: "+15550009999"
    api_url: %s
`, tw.AccountSID, tw.AuthToken, tw.URL))
}

// appendConfig writes the config at path with more appended, to a new file.
func appendConfig(t *testing.T, path, more string) string {
	t.Helper()
	base, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "hikyaku.yml")
	if err := os.WriteFile(out, append(base, more...), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestServeRefusesSMSWithoutTwilioToken: a real serve, without --dry-run,
// with users paged by SMS and Twilio's auth_token in an unset variable,
// exits 1 naming the FILE:LINE:COL of that token. The old binary started
// and wrote the pages to its log as if sent.
func TestServeRefusesSMSWithoutTwilioToken(t *testing.T) {
	os.Unsetenv("HIKYAKU_E2E_UNSET_TWILIO")
	base, err := os.ReadFile(writeConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	text := string(base) + `providers:
  twilio:
    account_sid: AC0123456789abcdef0123456789abcdef
    auth_token: {env: HIKYAKU_E2E_UNSET_TWILIO}
    from: "+15550009999"
`
	cfg := filepath.Join(t.TempDir(), "hikyaku.yml")
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startProcess(t, "hikyaku", binary, "serve", "--config", cfg, "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	select {
	case <-d.done:
	case <-time.After(startTimeout):
		t.Fatalf("serve still runs after %s: it should have refused the config", startTimeout)
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	want := cfg + ":" + lineColOf(t, text, "env: HIKYAKU_E2E_UNSET_TWILIO") + ": providers.twilio.auth_token: environment variable HIKYAKU_E2E_UNSET_TWILIO is not set"
	found := false
	for _, l := range d.log.all() {
		found = found || strings.Contains(l.Raw, want)
		if l.Msg == "hikyaku serving" {
			t.Errorf("serve logged %q with a provider it cannot use", l.Msg)
		}
	}
	if !found {
		d.dumpLog(20)
		t.Errorf("no log line names %q", want)
	}
}

// TestDryRunRecordsPages: serve --dry-run pages as configured, and every
// page is "recorded" (timeline, metrics, an INFO line), never notified or
// sent; hikyaku_dry_run is 1 and escalation goes on, as nobody was reached.
// The old binary had no --dry-run and called the same pages notified/sent.
func TestDryRunRecordsPages(t *testing.T) {
	d := startDaemon(t, "hikyaku", writeConfig(t), "--data-dir", t.TempDir())
	if code, err := postWebhook(d.Addr, groupMessage(t, "DryRun", true)); err != nil || code != http.StatusOK {
		t.Fatalf("post: %d, %v", code, err)
	}
	// Step 1 pages alice, step 2 bob after escalateAfter: both recorded.
	inc := waitIncident(t, d.Addr, groupKey("DryRun"), func(v *incidentView) bool { return len(v.events("recorded")) >= 2 })
	if n := len(inc.events("notified")); n != 0 {
		t.Errorf("timeline has %d notified events in dry run: %+v", n, inc.Timeline)
	}
	to := map[string]bool{}
	for _, ev := range inc.events("recorded") {
		to[ev.Detail["to"]] = true
		if ev.Detail["channel"] != "sms" {
			t.Errorf("recorded event on channel %q, want sms: %+v", ev.Detail["channel"], ev)
		}
	}
	if !to["alice"] || !to["bob"] || inc.Status != "open" {
		t.Errorf("recorded pages to %v, incident %s; want alice then bob (step 2 still fires), still open", to, inc.Status)
	}
	// Each line is written before its recorded event is stored, but may
	// still be crossing the pipe.
	lines := d.WaitLines(func(l *logLine) bool { return l.Msg == msgRecorded && l.Incident == inc.ID }, 2, 10*time.Second)
	if len(lines) < 2 || lines[0].Level != "INFO" || lines[0].To != phones["alice"] {
		t.Errorf("log lines %+v, want INFO %q lines, the first to alice's %s", lines, msgRecorded, phones["alice"])
	}
	m := metricsText(t, d.Addr)
	if !strings.Contains(m, "\nhikyaku_dry_run 1\n") {
		t.Errorf("/metrics lacks hikyaku_dry_run 1")
	}
	if strings.Contains(m, "hikyaku_provider_up{") {
		t.Errorf("/metrics has hikyaku_provider_up in dry run")
	}
	// Every result series starts at 0, so count what was added.
	if n := notifications(t, m, "sms", "recorded"); n < 2 {
		t.Errorf(`hikyaku_notifications_total{channel="sms",result="recorded"} = %v, want >= 2`, n)
	}
	if n := notifications(t, m, "", "sent"); n != 0 {
		t.Errorf(`hikyaku_notifications_total{result="sent"} = %v in dry run, want 0`, n)
	}
}

// notifications sums hikyaku_notifications_total over the series with this
// result (and channel, unless empty).
func notifications(t *testing.T, body, channel, result string) float64 {
	t.Helper()
	mf := parseMetrics(t, body)["hikyaku_notifications_total"]
	var sum float64
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["result"] == result && (channel == "" || labels["channel"] == channel) {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

var providerDownConfig = `# written by internal/e2e: Twilio and SMTP are local fakes
global:
  external_url: %[1]s
  timezone: UTC
  api_token: {value: %[2]s}
providers:
  twilio:
    account_sid: %[3]s
    auth_token: {value: %[4]s}
    from: "+15550009999"
    api_url: %[5]s
  smtp:
    smarthost: %[6]s
    from: hikyaku@example.com
    tls: none
receivers:
  - name: hikyaku
    bearer_token: {value: %[7]s}
users:
  - id: alice
    contacts: {sms: "%[8]s", email: alice@example.com}
    notify:
      - {after: 0s, channels: [sms]}
      - {after: 1h, channels: [email]}
departments:
  - id: ops
    escalation_policy: p
    rotations:
      - {id: primary, start: "2026-01-05 00:00", shift: 1d, members: [alice]}
escalation_policies:
  - id: p
    steps:
      - targets: {rotations: [primary]}
        escalate_after: 1h
default_route:
  department: ops
`

// TestTwilioAuthRefusedFailsOverAtOnce: a configured Twilio that answers
// 401 / 20003 (auth token refused) is a permanent failure: alice's page
// fails over to email at once, not after her 1h email rule or after
// retries; hikyaku_provider_up{provider="twilio"} is 0 and /-/ready, still
// 200, names twilio. The old binary had no such gauge and /-/ready said OK.
func TestTwilioAuthRefusedFailsOverAtOnce(t *testing.T) {
	tw := faketwilio.Start(t)
	mail := fakesmtp.Start(t, fakesmtp.Options{})
	tw.Fail(alicePhone, faketwilio.Fault{Status: 401, Code: 20003, Message: "Authenticate"})
	listen := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	cfg := filepath.Join(t.TempDir(), "hikyaku.yml")
	text := fmt.Sprintf(providerDownConfig, "http://"+listen, apiToken, tw.AccountSID, tw.AuthToken, tw.URL, mail.Addr, webhookToken, alicePhone)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startProcess(t, "hikyaku", binary, "serve", "--config", cfg, "--listen", listen, "--data-dir", t.TempDir(), "--log-format", "json")
	if _, ok := d.WaitLog(func(l *logLine) bool { return l.Msg == "hikyaku serving" }, startTimeout); !ok {
		t.Fatalf("hikyaku did not start within %s", startTimeout)
	}
	d.Addr = listen
	if !strings.Contains(metricsText(t, listen), `hikyaku_provider_up{provider="twilio"} 1`) {
		t.Errorf("provider_up{twilio} is not 1 at start")
	}
	start := time.Now()
	if code, err := postWebhook(listen, groupMessage(t, "TwilioDown", true)); err != nil || code != http.StatusOK {
		t.Fatalf("post: %d, %v", code, err)
	}
	inc := waitIncident(t, listen, groupKey("TwilioDown"), func(v *incidentView) bool {
		for _, ev := range v.events("notified") {
			if ev.Detail["channel"] == "email" {
				return true
			}
		}
		return false
	})
	t.Logf("email reached alice %s after the alert, Twilio having refused the SMS", time.Since(start).Round(time.Millisecond))
	failed := inc.events("notify_failed")
	if len(failed) != 1 || failed[0].Detail["channel"] != "sms" || failed[0].Detail["failover_to"] != "email" || failed[0].Detail["attempts"] != "1" {
		t.Errorf("notify_failed = %+v, want one sms failure, 1 attempt, failed over to email", failed)
	}
	if n := len(inc.events("notify_retry")); n != 0 {
		t.Errorf("%d retries of a refused account", n)
	}
	if n := len(mail.Messages()); n != 1 {
		t.Errorf("the SMTP fake got %d messages, want alice's page", n)
	}
	if n := len(tw.Messages()); n != 0 {
		t.Errorf("Twilio created %d messages, want none", n)
	}
	if !strings.Contains(metricsText(t, listen), `hikyaku_provider_up{provider="twilio"} 0`) {
		t.Errorf("provider_up{twilio} is not 0 after 20003")
	}
	if code, body := get(t, "http://"+listen+"/-/ready"); code != 200 || !strings.Contains(body, "provider twilio down: ") || !strings.Contains(body, "20003") {
		t.Errorf("/-/ready = %d %q, want 200 naming twilio down (20003)", code, body)
	}
	if lines := d.WaitLines(func(l *logLine) bool { return l.Level == "ERROR" && strings.Contains(l.Raw, `"provider":"twilio"`) }, 1, 10*time.Second); len(lines) == 0 {
		t.Errorf("no ERROR log line names provider twilio")
	}

	// A reload to a file whose SMS contact has no Twilio is refused as a
	// start would be, naming the contact; the running config keeps serving.
	i := strings.Index(text, "  twilio:\n")
	j := strings.Index(text, "  smtp:\n")
	noTwilio := text[:i] + text[j:]
	if err := os.WriteFile(cfg, []byte(noTwilio), 0o600); err != nil {
		t.Fatal(err)
	}
	resp, err := client.Post("http://"+listen+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := cfg + ":" + lineColOf(t, noTwilio, `"`+alicePhone+`"`) + `: user "alice" has contacts.sms but providers.twilio is not configured`
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), want) {
		t.Errorf("reload without Twilio: %s %q, want 400 naming %q", resp.Status, body, want)
	}
	if !strings.Contains(metricsText(t, listen), `hikyaku_provider_up{provider="twilio"} 0`) {
		t.Errorf("after the refused reload provider_up{twilio} is no longer reported: the old config must keep serving")
	}
}
