package router

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikyaku/hikyaku/channels"
)

func TestOutboxDepthFollowsTheStore(t *testing.T) {
	h := newHarness(t, testConfig)
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewStoreMetrics(h.st))
	depth := func() float64 {
		t.Helper()
		v, ok := counter(t, reg, "hikyaku_outbox_depth", map[string]string{})
		if !ok {
			t.Fatal("no hikyaku_outbox_depth with the store up")
		}
		return v
	}
	if d := depth(); d != 0 {
		t.Fatalf("empty store: depth %v", d)
	}
	h.post("firing", "g1", map[string]string{"alertname": "X"})
	if d := depth(); d != 2 {
		t.Fatalf("after intake: depth %v, want 2: the first step and the stakeholders' first report", d)
	}
	h.advance(0)
	// Step 1 fired: alice's voice rule (+3m), step 2 (+5m) and the next
	// stakeholder report wait; everything due now went out.
	if d := depth(); d != 3 {
		t.Fatalf("after step 1: depth %v, want 3", d)
	}
}

// TestScrapeSucceedsWithTheStoreDown: with the store gone the scrape still
// answers, store_up says 0, and the depth is left out rather than stale.
func TestScrapeSucceedsWithTheStoreDown(t *testing.T) {
	h := newHarness(t, testConfig)
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewStoreMetrics(h.st))
	if up, ok := counter(t, reg, "hikyaku_store_up", map[string]string{}); !ok || up != 1 {
		t.Fatalf("store up: hikyaku_store_up = %v (present %v), want 1", up, ok)
	}
	h.st.Close()
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("a scrape with the store down failed: %v", err)
	}
	if up, ok := counter(t, reg, "hikyaku_store_up", map[string]string{}); !ok || up != 0 {
		t.Errorf("store closed: hikyaku_store_up = %v (present %v), want 0", up, ok)
	}
	if d, ok := counter(t, reg, "hikyaku_outbox_depth", map[string]string{}); ok {
		t.Errorf("store closed: hikyaku_outbox_depth = %v, want it absent", d)
	}
}

// TestStoreProbeDoesNotWaitForAFrozenStore: a check that never returns
// answers the callers with an error, and they all share one call.
func TestStoreProbeDoesNotWaitForAFrozenStore(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	defer close(release)
	p := newStoreProbe(10*time.Millisecond, func(context.Context) error {
		calls.Add(1)
		<-release // frozen: ignores its context
		return nil
	})
	done := make(chan error, 3)
	for range 3 {
		go func() { done <- p.run(context.Background()) }()
	}
	for range 3 {
		select {
		case err := <-done:
			if err == nil {
				t.Error("a frozen store probed fine")
			}
		case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
			t.Fatal("the probe waited for the frozen store")
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d checks in flight against a frozen store, want 1", n)
	}
}

// TestConfigReloadGauges: the last reload's outcome and the last success's
// time, named as Alertmanager names them.
func TestConfigReloadGauges(t *testing.T) {
	h, _, reg := observed(t, testConfig, nil)
	gauge := func(name string) float64 {
		t.Helper()
		v, ok := counter(t, reg, name, map[string]string{})
		if !ok {
			t.Fatalf("no %s", name)
		}
		return v
	}
	// t0 is 2026-01-07T05:00:00Z.
	if ok, at := gauge("hikyaku_config_last_reload_successful"), gauge("hikyaku_config_last_reload_success_timestamp_seconds"); ok != 1 || at != 1767762000 {
		t.Errorf("at start: successful %v at %v, want 1 at 1767762000", ok, at)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("users: [\n"), 0o600)
	h.clock.Add(time.Minute)
	if err := h.engine.Reload(bad); err == nil {
		t.Fatal("a broken file reloaded")
	}
	if ok, at := gauge("hikyaku_config_last_reload_successful"), gauge("hikyaku_config_last_reload_success_timestamp_seconds"); ok != 0 || at != 1767762000 {
		t.Errorf("after a refused reload: successful %v at %v, want 0 at 1767762000", ok, at)
	}
	good := filepath.Join(dir, "good.yml")
	os.WriteFile(good, []byte(testConfig), 0o600)
	if err := h.engine.Reload(good); err != nil {
		t.Fatal(err)
	}
	if ok, at := gauge("hikyaku_config_last_reload_successful"), gauge("hikyaku_config_last_reload_success_timestamp_seconds"); ok != 1 || at != 1767762060 {
		t.Errorf("after a good reload: successful %v at %v, want 1 at 1767762060", ok, at)
	}
}

// TestCountersStartAtZero: the series an alert or a rate() reads exist
// before the first event.
func TestCountersStartAtZero(t *testing.T) {
	_, _, reg := observed(t, testConfig, nil)
	for _, s := range []struct {
		name   string
		labels map[string]string
	}{
		{"hikyaku_notifications_total", map[string]string{"channel": "sms", "result": "sent", "reason": ""}},
		{"hikyaku_notifications_total", map[string]string{"channel": "voice", "result": "failed", "reason": "auth"}},
		{"hikyaku_notifications_total", map[string]string{"channel": "email", "result": "given_up", "reason": "timeout"}},
		{"hikyaku_notifications_total", map[string]string{"channel": "webhook", "result": "retried", "reason": "server"}},
		{"hikyaku_notifications_total", map[string]string{"channel": "slack", "result": "rate_limited", "reason": ""}},
		{"hikyaku_webhook_requests_total", map[string]string{"code": "503"}},
		{"hikyaku_config_reloads_total", map[string]string{"result": "failure"}},
		{"hikyaku_escalations_exhausted_total", map[string]string{"department": "eng"}},
		{"hikyaku_incidents_acked_total", map[string]string{"department": "eng"}},
		{"hikyaku_incidents_resolved_total", map[string]string{"department": "eng"}},
	} {
		if v, ok := counter(t, reg, s.name, s.labels); !ok || v != 0 {
			t.Errorf("%s%v = %v (present %v), want present at 0", s.name, s.labels, v, ok)
		}
	}
	// Bounded: the six registered channels (sms, voice, slack, email,
	// webhook, ntfy) × (sent, recorded, rate_limited, and three results × every reason).
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "hikyaku_notifications_total" {
			if n, want := len(mf.GetMetric()), 6*(3+3*len(channels.Reasons)); n != want {
				t.Errorf("%d notification series at start, want %d", n, want)
			}
		}
	}
}
