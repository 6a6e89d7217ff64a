package router

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hikyaku/hikyaku/store"
)

// TestRetentionDeletesOnlyOldResolved: a pass deletes incidents resolved
// more than global.retention (400d by default) ago, and never an open or
// acked one however old.
func TestRetentionDeletesOnlyOldResolved(t *testing.T) {
	h := newHarness(t, testConfig)
	labels := map[string]string{"alertname": "DiskFull", "team": "payments", "severity": "critical"}
	old := h.post("firing", "{}:{a=old}", labels)[0]
	h.post("resolved", "{}:{a=old}", labels)
	openOld := h.post("firing", "{}:{a=open}", labels)[0]
	h.clock.Add(10 * 24 * time.Hour)
	recent := h.post("firing", "{}:{a=recent}", labels)[0]
	h.post("resolved", "{}:{a=recent}", labels)

	// 395 days after the first resolve: nothing is old enough yet.
	h.clock.Add(385 * 24 * time.Hour)
	if n, err := h.engine.RetentionPass(context.Background(), 0); err != nil || n != 0 {
		t.Fatalf("pass at 395d = %d, %v; want 0", n, err)
	}
	// 401 days after: the first resolved one goes, the recent one stays.
	h.clock.Add(6 * 24 * time.Hour)
	if n, err := h.engine.RetentionPass(context.Background(), 0); err != nil || n != 1 {
		t.Fatalf("pass at 401d = %d, %v; want 1", n, err)
	}
	if _, err := h.st.Get(context.Background(), old.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old resolved incident: err = %v, want ErrNotFound", err)
	}
	for _, id := range []int64{openOld.ID, recent.ID} {
		if _, err := h.st.Get(context.Background(), id); err != nil {
			t.Fatalf("incident %d deleted: %v", id, err)
		}
	}
	if got := testutil.ToFloat64(h.engine.metrics.retention.deleted); got != 1 {
		t.Fatalf("hikyaku_retention_deleted_total = %v, want 1", got)
	}
	// 2027-02-12 14:00 JST: t0 (2026-01-07 14:00 JST) + 401 days.
	want := float64(time.Date(2027, 2, 12, 5, 0, 0, 0, time.UTC).Unix())
	if got := testutil.ToFloat64(h.engine.metrics.retention.lastRun); got != want {
		t.Fatalf("hikyaku_retention_last_run_timestamp_seconds = %v, want %v", got, want)
	}
}

// TestStaleIncidentReportedOnceADayNeverClosed: an open incident with no
// Alertmanager post for stale_after (7d by default) gets a stale event and
// a WARN once a day, counts in hikyaku_incidents_stale, and stays open; a
// re-sent post makes it fresh again.
func TestStaleIncidentReportedOnceADayNeverClosed(t *testing.T) {
	h := newHarness(t, testConfig)
	var logs syncBuffer
	h.engine.log = slog.New(slog.NewTextHandler(&logs, nil))
	labels := map[string]string{"alertname": "DiskFull", "team": "payments", "severity": "critical"}
	inc := h.post("firing", "{}:{a=stale}", labels)[0]
	fresh := h.post("firing", "{}:{a=fresh}", labels)[0]
	pass := func() {
		t.Helper()
		if _, err := h.engine.RetentionPass(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
	}
	h.clock.Add(6 * 24 * time.Hour)
	h.post("firing", "{}:{a=fresh}", labels) // the same body re-sent: Alertmanager still fires it
	pass()
	if n := len(h.events(inc.ID, "stale")); n != 0 {
		t.Fatalf("stale events at 6d = %d", n)
	}
	h.clock.Add(26 * time.Hour) // 7d2h: the first is stale, the second was posted 26h ago
	pass()
	pass() // the same day: not reported again
	if n := len(h.events(inc.ID, "stale")); n != 1 {
		t.Fatalf("stale events after two passes on day 7 = %d, want 1", n)
	}
	if n := len(h.events(fresh.ID, "stale")); n != 0 {
		t.Fatalf("re-posted incident reported stale")
	}
	if got := testutil.ToFloat64(h.engine.metrics.retention.stale); got != 1 {
		t.Fatalf("hikyaku_incidents_stale = %v, want 1", got)
	}
	if c := strings.Count(logs.String(), "incident is stale"); c != 1 || !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("stale WARN logged %d times:\n%s", c, logs.String())
	}
	h.clock.Add(24 * time.Hour)
	pass()
	if n := len(h.events(inc.ID, "stale")); n != 2 {
		t.Fatalf("stale events a day later = %d, want 2", n)
	}
	got, err := h.st.Get(context.Background(), inc.ID)
	if err != nil || got.Status != store.StatusOpen {
		t.Fatalf("stale incident: %+v, %v; want it still open", got, err)
	}
}
