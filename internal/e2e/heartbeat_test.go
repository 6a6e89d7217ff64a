package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// heartbeatTimeout is the test heartbeat's timeout: short, so the test is,
// and long against the 300 ms between its posts on a loaded machine.
const heartbeatTimeout = 2 * time.Second

const heartbeatSections = `heartbeats:
  - name: prod
    matchers: ['alertname="Watchdog"', 'cluster="prod"']
    timeout: 2s
    department: ops
`

// watchdogBody is cluster's Watchdog group as Alertmanager posts it.
func watchdogBody(cluster string, at time.Time) []byte {
	return fmt.Appendf(nil, `{"receiver":"hikyaku","status":"firing","alerts":[{"status":"firing",`+
		`"labels":{"alertname":"Watchdog","cluster":%[1]q,"severity":"none"},"annotations":{"summary":"always firing"},`+
		`"startsAt":%[2]q,"endsAt":"0001-01-01T00:00:00Z","fingerprint":"watchdog-%[1]s"}],`+
		`"groupLabels":{"alertname":"Watchdog"},"commonLabels":{"alertname":"Watchdog","cluster":%[1]q,"severity":"none"},`+
		`"commonAnnotations":{"summary":"always firing"},"externalURL":"http://am","version":"4",`+
		`"groupKey":"{}:{alertname=\"Watchdog\"}","truncatedAlerts":0}`, cluster, at.UTC().Format(time.RFC3339))
}

// beating posts the Watchdog every 300 ms until the returned stop is called.
func beating(t *testing.T, addr string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	started := time.Now()
	post := func() {
		code, err := postWebhook(addr, watchdogBody("prod", started))
		if err != nil || code != http.StatusOK {
			t.Errorf("Watchdog post: %d, %v", code, err)
		}
	}
	post() // the first before returning: the heartbeat is alive from here
	go func() {
		defer close(done)
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				post()
			}
		}
	}()
	return func() { cancel(); <-done }
}

// metric reads one sample of hikyaku's /metrics, "" when absent.
func metric(t *testing.T, addr, series string) string {
	t.Helper()
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			io.Copy(io.Discard, resp.Body)
			return v
		}
	}
	return ""
}

// TestHeartbeatThroughServe: while the Watchdog keeps arriving no incident
// opens; when it stops, the on-call person's phone gets the page through
// the fake Twilio within the timeout (plus the scheduler's slack); when it
// comes back, the incident is resolved, saying why.
func TestHeartbeatThroughServe(t *testing.T) {
	env := startAckEnvWith(t, heartbeatSections)
	stop := beating(t, env.Addr)
	time.Sleep(3 * heartbeatTimeout / 2) // past one timeout counted from the start
	if incs, err := listIncidents(env.Addr); err != nil || len(incs) != 0 {
		t.Fatalf("incidents while the heartbeat beats: %+v, %v; want none", incs, err)
	}
	if v := metric(t, env.Addr, `hikyaku_heartbeat_missing{heartbeat="prod"}`); v != "0" {
		t.Errorf("hikyaku_heartbeat_missing = %q while beating, want 0", v)
	}
	if v := metric(t, env.Addr, `hikyaku_heartbeat_last_received_timestamp_seconds{heartbeat="prod"}`); v == "" {
		t.Error("hikyaku_heartbeat_last_received_timestamp_seconds absent while beating")
	}

	stop()
	silent := time.Now()
	inc := waitIncident(t, env.Addr, "heartbeat/prod", func(v *incidentView) bool { return len(v.events("notified")) > 0 })
	sms := env.smsPage(t, alicePhone, inc.ID)
	paged := time.Since(silent)
	t.Logf("heartbeat stopped: incident %d, alice's SMS page %s after the last post (timeout %s)", inc.ID, paged.Round(time.Millisecond), heartbeatTimeout)
	if paged < heartbeatTimeout-200*time.Millisecond {
		t.Errorf("paged %s after the last post, before the %s timeout", paged, heartbeatTimeout)
	}
	if body := sms.Form.Get("Body"); !strings.Contains(body, "heartbeat prod") {
		t.Errorf("SMS %q does not say which heartbeat is silent", body)
	}
	if inc.Department != "ops" || inc.Policy != "ack" || inc.Severity != "critical" {
		t.Errorf("incident %s/%s/%s, want ops/ack/critical", inc.Department, inc.Policy, inc.Severity)
	}
	if len(inc.events("heartbeat_missing")) != 1 {
		t.Errorf("timeline %+v lacks heartbeat_missing", inc.Timeline)
	}
	waitFor(t, "hikyaku_heartbeat_missing 1", 15*time.Second, func() bool {
		return metric(t, env.Addr, `hikyaku_heartbeat_missing{heartbeat="prod"}`) == "1"
	})

	back := time.Now()
	stop = beating(t, env.Addr)
	defer stop()
	inc = waitIncident(t, env.Addr, "heartbeat/prod", func(v *incidentView) bool { return v.Status == store.StatusResolved })
	t.Logf("heartbeat back: incident %d resolved %s after the first post", inc.ID, time.Since(back).Round(time.Millisecond))
	if evs := inc.events("heartbeat_received"); len(evs) != 1 || evs[0].Actor != "hikyaku" {
		t.Errorf("heartbeat_received events %+v, want one by hikyaku", evs)
	}
	// The beat sets the gauge as it resolves; a metrics refresh that read the
	// missing deadline just before may set it back once, until the next
	// refresh (every 10 s) re-reads it.
	waitFor(t, "hikyaku_heartbeat_missing 0 after the return", 15*time.Second, func() bool {
		return metric(t, env.Addr, `hikyaku_heartbeat_missing{heartbeat="prod"}`) == "0"
	})
	time.Sleep(3 * heartbeatTimeout / 2)
	if incs, err := listIncidents(env.Addr); err != nil || len(incs) != 1 {
		t.Errorf("incidents after the return: %d, %v; want only the resolved one", len(incs), err)
	}
}

// watchdogAlertmanagerConfig routes the Watchdog to hikyaku as docs/routing.md
// recommends, scaled down: repeat_interval (1s) well under the heartbeat's
// timeout, so every group_interval re-sends it.
const watchdogAlertmanagerConfig = `route:
  receiver: hikyaku
  group_by: ['alertname', 'cluster']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1s
receivers:
  - name: hikyaku
    webhook_configs:
      - url: http://%s/api/v1/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: %s
`

// postWatchdog fires cluster's Watchdog in Alertmanager for the next hour, as Prometheus does.
func postWatchdog(t *testing.T, am, cluster string) {
	t.Helper()
	body := fmt.Appendf(nil, `[{"labels":{"alertname":"Watchdog","cluster":%q,"severity":"none"},`+
		`"annotations":{"summary":"always firing"},"startsAt":%q,"endsAt":%q}]`,
		cluster, time.Now().UTC().Format(time.RFC3339Nano), time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano))
	resp, err := client.Post("http://"+am+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("post Watchdog to Alertmanager: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Alertmanager answered %s to the Watchdog", resp.Status)
	}
}

// TestHeartbeatThroughAlertmanager: a real Alertmanager repeats the
// Watchdog to hikyaku; kill -9 of Alertmanager (the failure heartbeats are
// for) pages the on-call person within the timeout, and a new Alertmanager
// sending the Watchdog again resolves the incident.
func TestHeartbeatThroughAlertmanager(t *testing.T) {
	bin := alertmanagerBinary(t)
	const timeout = 4 * time.Second
	env := startAckEnvWith(t, strings.Replace(heartbeatSections, "timeout: 2s", "timeout: 4s", 1))
	amConfig := fmt.Sprintf(watchdogAlertmanagerConfig, env.Addr, webhookToken)
	am, amProc := startAlertmanagerWith(t, bin, amConfig)
	postWatchdog(t, am, "prod")
	waitFor(t, "the first Watchdog through Alertmanager", 15*time.Second, func() bool {
		return metric(t, env.Addr, `hikyaku_heartbeat_last_received_timestamp_seconds{heartbeat="prod"}`) != ""
	})
	time.Sleep(timeout + time.Second) // Alertmanager's repeats alone keep it alive
	if incs, err := listIncidents(env.Addr); err != nil || len(incs) != 0 {
		t.Fatalf("incidents while Alertmanager repeats the Watchdog: %+v, %v; want none", incs, err)
	}

	amProc.Kill()
	killed := time.Now()
	inc := waitIncident(t, env.Addr, "heartbeat/prod", func(v *incidentView) bool { return len(v.events("notified")) > 0 })
	env.smsPage(t, alicePhone, inc.ID)
	t.Logf("Alertmanager killed: alice's SMS page about incident %d %s later (timeout %s)", inc.ID, time.Since(killed).Round(time.Millisecond), timeout)

	am, _ = startAlertmanagerWith(t, bin, amConfig)
	restarted := time.Now()
	postWatchdog(t, am, "prod")
	inc = waitIncident(t, env.Addr, "heartbeat/prod", func(v *incidentView) bool { return v.Status == store.StatusResolved })
	t.Logf("new Alertmanager: incident %d resolved %s after the Watchdog was posted to it", inc.ID, time.Since(restarted).Round(time.Millisecond))
	if len(inc.events("heartbeat_received")) != 1 {
		t.Errorf("timeline %+v: want one heartbeat_received", inc.Timeline)
	}
}
