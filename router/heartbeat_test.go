package router

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hikyaku/hikyaku/store"
)

const heartbeatConfig = testConfig + `
heartbeats:
  - name: prod
    matchers: ['alertname="Watchdog"', 'cluster="prod"']
    timeout: 5m
    department: eng
  - name: staging
    matchers: ['alertname="Watchdog"', 'cluster="staging"']
    timeout: 30m
    department: eng
    severity: warning
`

// t0 in UTC, written out: 14:00 JST on 2026-01-07.
const t0UTC = "2026-01-07T05:00:00Z"

func newHeartbeatHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, heartbeatConfig)
	h.armHeartbeats()
	return h
}

func (h *harness) armHeartbeats() {
	h.t.Helper()
	if err := h.engine.SyncHeartbeats(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// watchdog posts cluster's Watchdog as Alertmanager repeats it.
func (h *harness) watchdog(cluster string) {
	h.t.Helper()
	if incs := h.post("firing", `{}:{alertname="Watchdog"}`, map[string]string{"alertname": "Watchdog", "cluster": cluster}); len(incs) != 0 {
		h.t.Fatalf("a heartbeat post returned incidents %+v, want none", incs)
	}
}

// heartbeatIncident is the incident heartbeat name's silence opened, nil if none is open.
func (h *harness) heartbeatIncident(name string) *store.Incident {
	h.t.Helper()
	incs, err := h.st.List(context.Background(), store.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, inc := range incs {
		if inc.Key == "heartbeat/"+name && inc.Status != store.StatusResolved {
			return inc
		}
	}
	return nil
}

func (h *harness) incidents() []*store.Incident {
	h.t.Helper()
	incs, err := h.st.List(context.Background(), store.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return incs
}

func (h *harness) missingGauge(name string) float64 {
	return gaugeValue(h.t, h.engine.metrics.heartbeat.missing.WithLabelValues(name))
}

func gaugeValue(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

func TestHeartbeatReceivedOpensNoIncident(t *testing.T) {
	h := newHeartbeatHarness(t)
	for range 3 {
		h.advance(4*time.Minute + 59*time.Second)
		h.watchdog("prod")
		h.watchdog("staging")
	}
	h.advance(4*time.Minute + 59*time.Second)
	got, _ := h.pages(0)
	eq(t, "pages", got, nil)
	if incs := h.incidents(); len(incs) != 0 {
		t.Errorf("incidents %+v, want none", incs)
	}
	if h.heartbeatIncident("prod") != nil || h.missingGauge("prod") != 0 {
		t.Errorf("prod: incident %v, missing %v; want none and 0", h.heartbeatIncident("prod"), h.missingGauge("prod"))
	}
	// The third post, at t0+14m57s.
	want := float64(time.Date(2026, 1, 7, 5, 14, 57, 0, time.UTC).Unix())
	if got := gaugeValue(t, h.engine.metrics.heartbeat.lastReceived.WithLabelValues("prod")); got != want {
		t.Errorf("last received = %v, want %v", got, want)
	}
}

func TestHeartbeatMissingPagesAndItsReturnResolves(t *testing.T) {
	h := newHeartbeatHarness(t)
	h.watchdog("prod")
	h.advance(5*time.Minute - time.Second)
	if h.heartbeatIncident("prod") != nil {
		t.Fatal("incident opened before the timeout passed")
	}
	h.advance(time.Second)
	inc := h.heartbeatIncident("prod")
	if inc == nil {
		t.Fatal("no incident when the timeout passed")
	}
	if inc.Department != "eng" || inc.Policy != "eng" || inc.Severity != "critical" || inc.Status != store.StatusOpen {
		t.Errorf("incident = %+v, want eng/eng/critical, open", inc)
	}
	got, n := h.pages(0)
	// Step 1 of eng's policy, like any incident (TestEscalationPagesStepByStepUntilAck).
	eq(t, "step 1", got, []string{"slack:C0OPS", "slack:U0ALICE", "sms:+819000000001"})
	msgs := h.sent.Messages()
	if text := msgs[len(msgs)-1].Text; !strings.Contains(text, "monitoring pipeline silent: heartbeat prod not received since "+t0UTC) {
		t.Errorf("page text %q lacks the silence and its start", text)
	}
	if h.missingGauge("prod") != 1 {
		t.Errorf("missing = %v, want 1", h.missingGauge("prod"))
	}
	tl := h.timeline(inc.ID)
	eq(t, "timeline start", tl[:3], []string{"created", "heartbeat_missing", "routed"})

	h.advance(5 * time.Minute)
	got, n = h.pages(n)
	eq(t, "alice's voice rule at +3m, step 2 (secondary: bob) at +5m", got, []string{"sms:+819000000002", "voice:+819000000001"})

	h.clock.Add(time.Minute)
	h.watchdog("prod")
	back, err := h.st.Get(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if back.Status != store.StatusResolved {
		t.Fatalf("status = %s after the heartbeat returned, want resolved", back.Status)
	}
	tl = h.timeline(inc.ID)
	if i := slices.Index(tl, "heartbeat_received"); i < 0 || i+1 >= len(tl) || tl[i+1] != "resolved" {
		t.Errorf("timeline %q: want heartbeat_received then resolved", tl)
	}
	if h.missingGauge("prod") != 0 {
		t.Errorf("missing = %v, want 0", h.missingGauge("prod"))
	}
	h.advance(4*time.Minute + 59*time.Second)
	got, _ = h.pages(n)
	eq(t, "pages after the return", got, nil)
	if h.heartbeatIncident("prod") != nil {
		t.Error("a new incident opened within the timeout after the return")
	}
}

func TestHeartbeatsAreIndependent(t *testing.T) {
	h := newHeartbeatHarness(t)
	for range 8 { // prod keeps beating; staging never does
		h.watchdog("prod")
		h.advance(4 * time.Minute)
	}
	// t0+32m: staging's first deadline (t0+30m) passed.
	if h.heartbeatIncident("prod") != nil {
		t.Error("prod opened an incident while beating")
	}
	stg := h.heartbeatIncident("staging")
	if stg == nil || stg.Severity != "warning" {
		t.Fatalf("staging incident = %+v, want one of severity warning", stg)
	}
	msg, err := DecodeMessage(stg.Message)
	if err != nil {
		t.Fatal(err)
	}
	if want := "monitoring pipeline silent: heartbeat staging not received since hikyaku started watching it at " + t0UTC; msg.CommonAnnotations["summary"] != want {
		t.Errorf("summary = %q, want %q", msg.CommonAnnotations["summary"], want)
	}
	if l := msg.CommonLabels; l["alertname"] != "HeartbeatMissing" || l["heartbeat"] != "staging" || l["cluster"] != "staging" {
		t.Errorf("labels = %v", l)
	}
	h.watchdog("staging")
	if h.heartbeatIncident("staging") != nil {
		t.Error("staging's incident still open after its heartbeat returned")
	}
	h.advance(59 * time.Second) // prod last beat at t0+28m
	if h.heartbeatIncident("prod") != nil {
		t.Error("prod opened an incident before its own timeout")
	}
	h.advance(time.Second)
	if h.heartbeatIncident("prod") == nil || h.heartbeatIncident("staging") != nil {
		t.Errorf("at t0+33m: prod %v staging %v, want prod only", h.heartbeatIncident("prod"), h.heartbeatIncident("staging"))
	}
}

func TestHeartbeatDeadlineSurvivesRestart(t *testing.T) {
	h := newHeartbeatHarness(t)
	h.watchdog("prod") // deadline t0+5m
	h.advance(3 * time.Minute)
	set := h.engine.Policies()
	if err := h.st.Close(); err != nil {
		t.Fatal(err)
	}
	h.open(set)
	h.armHeartbeats() // at t0+3m: must keep t0+5m, not move it to t0+8m
	h.advance(2*time.Minute - time.Second)
	if h.heartbeatIncident("prod") != nil {
		t.Fatal("incident before the deadline")
	}
	h.advance(time.Second)
	if h.heartbeatIncident("prod") == nil {
		t.Fatal("the restart lost or moved the deadline: no incident at t0+5m")
	}
	// A restart while missing keeps watching and opens nothing twice.
	if err := h.st.Close(); err != nil {
		t.Fatal(err)
	}
	h.open(set)
	h.armHeartbeats()
	h.advance(time.Hour)
	if n := len(h.incidents()); n != 2 { // prod's, and staging's (never posted)
		t.Errorf("%d incidents, want 2", n)
	}
	if h.missingGauge("prod") != 1 {
		t.Errorf("missing after restart = %v, want 1 (read from the store)", h.missingGauge("prod"))
	}
}

func TestHeartbeatResolvedByHandWhileSilentOpensAgain(t *testing.T) {
	h := newHeartbeatHarness(t)
	h.watchdog("prod")
	h.advance(5 * time.Minute)
	first := h.heartbeatIncident("prod")
	if first == nil {
		t.Fatal("no incident")
	}
	if _, err := h.engine.Resolve(context.Background(), first.ID, "alice", "api"); err != nil {
		t.Fatal(err)
	}
	h.advance(5*time.Minute - time.Second)
	if h.heartbeatIncident("prod") != nil {
		t.Fatal("reopened before another timeout")
	}
	h.advance(time.Second)
	again := h.heartbeatIncident("prod")
	if again == nil || again.ID == first.ID {
		t.Fatalf("after another timeout of silence: %+v, want a new incident", again)
	}
	// The same deadline while it is open adds nothing.
	h.advance(5 * time.Minute)
	if got := h.heartbeatIncident("prod"); got == nil || got.ID != again.ID {
		t.Errorf("incident = %+v, want %d still open", got, again.ID)
	}
}

func TestResolvedWatchdogIsNoSignOfLife(t *testing.T) {
	h := newHeartbeatHarness(t)
	h.watchdog("prod")
	h.advance(4 * time.Minute)
	incs := h.post("resolved", `{}:{alertname="Watchdog"}`, map[string]string{"alertname": "Watchdog", "cluster": "prod"})
	if len(incs) != 0 {
		t.Fatalf("resolved heartbeat post returned %+v", incs)
	}
	h.advance(time.Minute)
	if h.heartbeatIncident("prod") == nil {
		t.Fatal("a resolved Watchdog moved the deadline: no incident at t0+5m")
	}
}

// TestHeartbeatReturningWhileItsDeadlineFires: a post lands on one replica
// while another holds the deadline's claim and is opening the incident; the
// post's own look for an incident came too early, so the deadline's handler
// must see its claim was lost and resolve what it opened.
func TestHeartbeatReturningWhileItsDeadlineFires(t *testing.T) {
	h := newHeartbeatHarness(t)
	h.watchdog("prod")
	h.clock.Add(5 * time.Minute)
	cs, err := h.st.ClaimDue(context.Background(), h.clock.Now(), "other", time.Minute, 10)
	if err != nil || len(cs) != 1 || cs[0].ID != "heartbeat/prod" {
		t.Fatalf("claims = %+v, %v", cs, err)
	}
	h.watchdog("prod") // replaces the claimed timer; no incident yet to resolve
	if err := h.engine.heartbeatDeadline(context.Background(), cs[0]); err != errDone {
		t.Fatalf("deadline handler: %v, want errDone", err)
	}
	incs := h.incidents()
	if len(incs) != 1 || incs[0].Status != store.StatusResolved {
		t.Fatalf("incidents = %+v, want one, resolved", incs)
	}
	n := len(h.sent.Messages())
	h.advance(4*time.Minute + 59*time.Second)
	got, _ := h.pages(n)
	eq(t, "pages", got, nil)
	if h.heartbeatIncident("prod") != nil {
		t.Error("an incident is open although the heartbeat is back")
	}
}

func TestReloadArmsAndDisarmsHeartbeats(t *testing.T) {
	h := newHarness(t, testConfig)
	h.armHeartbeats() // no heartbeats: nothing
	if n, _ := h.st.Pending(context.Background()); n != 0 {
		t.Fatalf("pending = %d without heartbeats", n)
	}
	path := filepath.Join(t.TempDir(), "hikyaku.yml")
	reload := func(text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := h.engine.Reload(path); err != nil {
			t.Fatal(err)
		}
		h.armHeartbeats() // what Run does after a reload
	}
	reload(heartbeatConfig)
	if n, _ := h.st.Pending(context.Background()); n != 2 {
		t.Fatalf("pending = %d after adding two heartbeats, want their 2 deadlines", n)
	}
	h.watchdog("prod")
	h.advance(30 * time.Minute) // both silent now
	stg := h.heartbeatIncident("staging")
	if stg == nil || h.heartbeatIncident("prod") == nil {
		t.Fatal("want both incidents open")
	}
	reload(heartbeatConfig[:strings.Index(heartbeatConfig, "  - name: staging")]) // prod only
	if h.heartbeatIncident("staging") != nil {
		t.Error("staging's incident is open after it was removed")
	}
	if tl := h.timeline(stg.ID); !slices.Contains(tl, "heartbeat_removed") {
		t.Errorf("timeline %q lacks heartbeat_removed", tl)
	}
	if tm, _ := h.st.SetTimer(context.Background(), store.TimerGet, store.Timer{ID: "heartbeat/staging"}); tm != nil {
		t.Errorf("staging's deadline is still there: %+v", tm)
	}
	if h.heartbeatIncident("prod") == nil {
		t.Error("prod's incident was resolved by another heartbeat's removal")
	}
}

// TestHeartbeatRemovedWhileItsDeadlineFires: another replica's reload
// removed the heartbeat (its timer, and found no incident yet) while this
// replica, still on the old configuration, was opening the incident.
func TestHeartbeatRemovedWhileItsDeadlineFires(t *testing.T) {
	h := newHeartbeatHarness(t)
	h.watchdog("prod")
	h.clock.Add(5 * time.Minute)
	cs, err := h.st.ClaimDue(context.Background(), h.clock.Now(), "test", time.Minute, 10)
	if err != nil || len(cs) != 1 {
		t.Fatalf("claims = %+v, %v", cs, err)
	}
	if _, err := h.st.SetTimer(context.Background(), store.TimerRemove, store.Timer{ID: "heartbeat/prod"}); err != nil {
		t.Fatal(err)
	}
	if err := h.engine.heartbeatDeadline(context.Background(), cs[0]); err != errDone {
		t.Fatalf("deadline handler: %v, want errDone", err)
	}
	incs := h.incidents()
	if len(incs) != 1 || incs[0].Status != store.StatusResolved {
		t.Fatalf("incidents = %+v, want one, resolved", incs)
	}
	if tl := h.timeline(incs[0].ID); !slices.Contains(tl, "heartbeat_removed") {
		t.Errorf("timeline %q lacks heartbeat_removed", tl)
	}
	if tm, _ := h.st.SetTimer(context.Background(), store.TimerGet, store.Timer{ID: "heartbeat/prod"}); tm != nil {
		t.Errorf("the removed heartbeat's deadline came back: %+v", tm)
	}
}
