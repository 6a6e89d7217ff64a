package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/internal/faketwilio"
	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/store"
)

// alertmanagerConfig sends every group to hikyaku at once and again on every
// change, with the receiver's bearer token, resolved groups included.
const alertmanagerConfig = `route:
  receiver: hikyaku
  group_by: ['alertname', 'team']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hikyaku
    webhook_configs:
      - url: http://%s/api/v1/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: %s
`

// TestThroughAlertmanager fires and resolves an alert through a real
// Alertmanager: hikyaku opens the incident, pages the on-call person of the
// matched rotation by SMS through the fake Twilio, and resolves the
// incident when Alertmanager does.
func TestThroughAlertmanager(t *testing.T) {
	bin := alertmanagerBinary(t)
	tw := faketwilio.Start(t)
	h := startServe(t, "hikyaku", withTwilio(t, writeConfig(t, "alice", "carol"), tw), "--data-dir", t.TempDir())
	oncall, err := onCall(h.Addr, "primary")
	if err != nil || oncall == "" {
		t.Fatalf("on call in rotation primary: %q, %v", oncall, err)
	}
	am := startAlertmanager(t, bin, h.Addr)

	const name = "ThroughAlertmanager"
	startsAt := time.Now().Add(-time.Minute).UTC()
	fired := time.Now()
	postAlert(t, am, name, startsAt, time.Time{})
	inc := waitIncident(t, h.Addr, groupKey(name), func(v *incidentView) bool {
		for _, ev := range v.events("notified") {
			if ev.Detail["to"] == oncall && ev.Detail["channel"] == "sms" {
				return true
			}
		}
		return false
	})
	t.Logf("alert fired through Alertmanager: incident %d, %s paged %s later", inc.ID, oncall, time.Since(fired).Round(time.Millisecond))
	if inc.Route != "payments" || inc.Department != "ops" {
		t.Errorf("incident routed to %s/%s, want route payments, department ops", inc.Route, inc.Department)
	}
	tag := fmt.Sprintf("[hikyaku #%d]", inc.ID)
	var smsTo []string
	for _, m := range tw.Messages() {
		if strings.Contains(m.Form.Get("Body"), tag) {
			smsTo = append(smsTo, m.Form.Get("To"))
		}
	}
	if !slicesHas(smsTo, phones[oncall]) {
		t.Errorf("Twilio got SMS about incident %d to %v, want one to %s (%s)", inc.ID, smsTo, oncall, phones[oncall])
	}

	resolved := time.Now()
	postAlert(t, am, name, startsAt, time.Now().Add(-time.Second))
	inc = waitIncident(t, h.Addr, groupKey(name), func(v *incidentView) bool { return v.Status == store.StatusResolved })
	t.Logf("resolved through Alertmanager: incident %d resolved %s later", inc.ID, time.Since(resolved).Round(time.Millisecond))
	if evs := inc.events("resolved"); len(evs) != 1 || evs[0].Actor != "alertmanager" {
		t.Errorf("resolved events %+v, want one by alertmanager", evs)
	}
	if incs, err := listIncidents(h.Addr); err != nil || len(incs) != 1 {
		t.Errorf("%d incidents (%v), want 1: Alertmanager's repeated posts are one group", len(incs), err)
	}
}

// alertmanagerBinary finds Debian's prometheus-alertmanager: the test skips
// without it locally and fails in CI, which must install it.
func alertmanagerBinary(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("prometheus-alertmanager not on PATH; CI must install it (apt-get install prometheus-alertmanager)")
	}
	t.Skip("prometheus-alertmanager not on PATH; install it to run this test")
	return ""
}

// startAlertmanager runs a lone Alertmanager (no gossip) posting to hikyaku
// and waits until it is ready; it returns its address.
func startAlertmanager(t *testing.T, bin, hikyaku string) string {
	t.Helper()
	addr, _ := startAlertmanagerWith(t, bin, fmt.Sprintf(alertmanagerConfig, hikyaku, webhookToken))
	return addr
}

// startAlertmanagerWith is startAlertmanager with its own configuration; it
// returns the process too.
func startAlertmanagerWith(t *testing.T, bin, config string) (string, *daemon) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	am := startProcess(t, "alertmanager", bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	deadline := time.Now().Add(startTimeout)
	for statusOf(addr, "/-/ready") != http.StatusOK {
		if am.exited() || time.Now().After(deadline) {
			t.Fatalf("Alertmanager not ready on %s within %s", addr, startTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addr, am
}

// postAlert sends one alert to Alertmanager's API, as Prometheus does;
// an endsAt in the past resolves it.
func postAlert(t *testing.T, am, name string, startsAt, endsAt time.Time) {
	t.Helper()
	alert := map[string]any{
		"labels":       map[string]string{"alertname": name, "team": "payments", "severity": "critical", "instance": "e2e:9100"},
		"annotations":  map[string]string{"summary": "end-to-end test alert through Alertmanager"},
		"startsAt":     startsAt.Format(time.RFC3339Nano),
		"generatorURL": "http://prometheus.e2e/graph",
	}
	if !endsAt.IsZero() {
		alert["endsAt"] = endsAt.Format(time.RFC3339Nano)
	}
	body, _ := json.Marshal([]any{alert})
	resp, err := client.Post("http://"+am+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("post alert to Alertmanager: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Alertmanager answered %s to the alert", resp.Status)
	}
}

// waitIncident polls hikyaku until the incident with key satisfies done.
func waitIncident(t *testing.T, addr, key string, done func(*incidentView) bool) *incidentView {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last *incidentView
	for time.Now().Before(deadline) {
		incs, err := listIncidents(addr)
		if err == nil {
			for _, inc := range incs {
				if inc.Key != key {
					continue
				}
				if v, err := getIncident(addr, inc.ID); err == nil {
					last = v
					if done(v) {
						return v
					}
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if last == nil {
		t.Fatalf("no incident with key %s within 15s", key)
	}
	t.Fatalf("incident %d (%s) did not get there within 15s; timeline: %+v", last.ID, last.Status, last.Timeline)
	return nil
}
