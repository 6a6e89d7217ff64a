package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// waitConfig is one rotation (alice) and one single-step policy; %ROUTES%
// and %MAINT% are each test's. Pages are read from the timeline's
// step_fired events, whatever the senders are.
const waitConfig = `# written by internal/e2e's wait and reload tests
global:
  timezone: UTC
  language: en
  api_token: {value: ` + apiToken + `}
receivers:
  - name: hikyaku
    bearer_token: {value: ` + webhookToken + `}
users:
  - id: alice
    name: alice
    contacts: {sms: "+15550000001"}
departments:
  - id: ops
    name: Ops
    escalation_policy: e2e
    rotations:
      - id: primary
        start: "2026-01-05 00:00"
        shift: 1d
        members: [alice]
escalation_policies:
  - id: e2e
    steps:
      - targets: {rotations: [primary]}
        escalate_after: 1h
routes:
%ROUTES%
default_route:
  department: ops
%MAINT%
`

const paymentsRoute = `  - name: payments
    matchers: ['team="payments"']
    department: ops`

// writeWaitConfig writes waitConfig with routes and maint to path.
func writeWaitConfig(t *testing.T, path, routes, maint string) {
	t.Helper()
	cfg := strings.NewReplacer("%ROUTES%", routes, "%MAINT%", maint).Replace(waitConfig)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
}

// TestMaintenanceEndPagesStillFiringAlert: an alert that opens inside a
// one-off maintenance window a few seconds long pages when the window ends,
// while Alertmanager keeps re-posting it; not before.
func TestMaintenanceEndPagesStillFiringAlert(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "hikyaku.yml")
	writeWaitConfig(t, cfg, paymentsRoute, "")
	h := startDaemon(t, "hikyaku", cfg, "--data-dir", t.TempDir())
	end := openWindow(t, h, cfg, 4*time.Second)

	const name = "MaintenanceEnds"
	if code, err := postWebhook(h.Addr, groupMessage(t, name, true)); err != nil || code != http.StatusOK {
		t.Fatalf("post firing: %d, %v", code, err)
	}
	inc := waitIncident(t, h.Addr, groupKey(name), func(v *incidentView) bool { return len(v.events("maintenance")) == 1 })
	if inc.Wait == nil || inc.Wait.Reason != "maintenance" || !inc.Wait.Until.Equal(end) {
		t.Errorf("incident %d waits %+v, want maintenance until %s", inc.ID, inc.Wait, end.Format(time.RFC3339))
	}
	// Alertmanager re-posts the firing group during the window (group_interval).
	for time.Now().Before(end.Add(-time.Second)) {
		if code, err := postWebhook(h.Addr, groupMessage(t, name, true)); err != nil || code != http.StatusOK {
			t.Fatalf("re-post firing: %d, %v", code, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	v := waitIncident(t, h.Addr, groupKey(name), func(v *incidentView) bool { return len(v.events("step_fired")) == 1 })
	fired := v.events("step_fired")[0]
	ended := v.events("maintenance_ended")
	if fired.At.Before(end) {
		t.Errorf("step 1 fired at %s, inside the window (ends %s)", fired.At.Format(time.RFC3339Nano), end.Format(time.RFC3339))
	}
	if fired.Detail["users"] != "alice" {
		t.Errorf("step 1 paged %q, want alice", fired.Detail["users"])
	}
	if len(ended) != 1 || ended[0].Detail["window"] != "e2e-upgrade" || ended[0].Detail["decision"] != "page" {
		t.Errorf("maintenance_ended events %+v, want one for e2e-upgrade deciding page", ended)
	}
	t.Logf("window ended %s; step 1 fired %s after", end.Format(time.RFC3339), fired.At.Sub(end).Round(time.Millisecond))
}

// TestReloadAddingDropRouteStillResolves: through a real Alertmanager, an
// incident opened, then a reload added a drop route matching its group:
// Alertmanager's resolved still resolves it (it used to stay open and
// escalating forever).
func TestReloadAddingDropRouteStillResolves(t *testing.T) {
	bin := alertmanagerBinary(t)
	cfg := filepath.Join(t.TempDir(), "hikyaku.yml")
	writeWaitConfig(t, cfg, paymentsRoute, "")
	h := startDaemon(t, "hikyaku", cfg, "--data-dir", t.TempDir())
	am := startAlertmanager(t, bin, h.Addr)

	const name = "DroppedAfterReload"
	startsAt := time.Now().Add(-time.Minute).UTC()
	postAlert(t, am, name, startsAt, time.Time{})
	inc := waitIncident(t, h.Addr, groupKey(name), func(v *incidentView) bool { return len(v.events("step_fired")) == 1 })

	writeWaitConfig(t, cfg, `  - name: payments-noise
    matchers: ['team="payments"']
    drop: true
`+paymentsRoute, "")
	if code, body := reload(t, h.Addr); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, body)
	}
	postAlert(t, am, name, startsAt, time.Now().Add(-time.Second))
	v := waitIncident(t, h.Addr, groupKey(name), func(v *incidentView) bool { return v.Status == store.StatusResolved })
	if evs := v.events("resolved"); len(evs) != 1 || evs[0].Actor != "alertmanager" {
		t.Errorf("incident %d resolved events %+v, want one by alertmanager", inc.ID, evs)
	}
	if incs, err := listIncidents(h.Addr); err != nil || len(incs) != 1 {
		t.Errorf("%d incidents (%v), want 1", len(incs), err)
	}
}

// openWindow reloads cfg with a one-off window e2e-upgrade, begun a minute
// ago and ending whole seconds more than d from now, and returns its end.
// Opening it by reload, once the daemon serves, keeps a slow start from
// eating the window.
func openWindow(t *testing.T, h *daemon, cfg string, d time.Duration) time.Time {
	t.Helper()
	end := time.Now().UTC().Truncate(time.Second).Add(d + time.Second)
	writeWaitConfig(t, cfg, paymentsRoute, fmt.Sprintf(`maintenance_windows:
  - name: e2e-upgrade
    start: %q
    end: %q
`, end.Add(-time.Minute-d).Format(time.RFC3339), end.Format(time.RFC3339)))
	if code, body := reload(t, h.Addr); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, body)
	}
	return end
}

// reload is POST /-/reload.
func reload(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := client.Post("http://"+addr+"/-/reload", "", nil)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMaintenanceEndSurvivesKill: the daemon is killed (kill -9) inside the
// window and started again after its end: the re-check is in the store, so
// the still-open incident pages at once.
func TestMaintenanceEndSurvivesKill(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "hikyaku.yml")
	writeWaitConfig(t, cfg, paymentsRoute, "")
	data := t.TempDir()
	h := startDaemon(t, "hikyaku", cfg, "--data-dir", data)
	end := openWindow(t, h, cfg, 3*time.Second)
	const name = "MaintenanceEndsWhileDown"
	if code, err := postWebhook(h.Addr, groupMessage(t, name, true)); err != nil || code != http.StatusOK {
		t.Fatalf("post firing: %d, %v", code, err)
	}
	waitIncident(t, h.Addr, groupKey(name), func(v *incidentView) bool { return len(v.events("maintenance")) == 1 })
	h.Kill()
	time.Sleep(time.Until(end.Add(500 * time.Millisecond)))
	h2 := startDaemon(t, "hikyaku-restarted", cfg, "--data-dir", data)
	v := waitIncident(t, h2.Addr, groupKey(name), func(v *incidentView) bool { return len(v.events("step_fired")) == 1 })
	if ended := v.events("maintenance_ended"); len(ended) != 1 || ended[0].Detail["decision"] != "page" {
		t.Errorf("maintenance_ended events %+v, want one deciding page", ended)
	}
	t.Logf("restarted %s after the window's end; step 1 fired %s after the restart",
		h2.Serving.Sub(end).Round(time.Millisecond), v.events("step_fired")[0].At.Sub(h2.Serving).Round(time.Millisecond))
}
