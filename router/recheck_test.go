package router

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/store"
)

// waitConfig pages alice (sms) for eng; boss is informed. Business hours
// are 09:00-18:00 JST on weekdays; t0 is Wednesday 2026-01-07 14:00 JST.
// %MAINT% is replaced by the test's maintenance_windows.
const waitConfig = `
global:
  timezone: Asia/Tokyo
  api_token: {value: test-api-token}
receivers:
  - name: hikyaku
    bearer_token: {value: hook-token}
users:
  - id: alice
    contacts: {sms: "+819000000001"}
  - id: bob
    contacts: {sms: "+819000000002"}
  - id: boss
    contacts: {email: boss@example.com}
departments:
  - id: eng
    escalation_policy: eng
    rotations:
      - id: primary
        start: "2026-01-05 10:00"
        shift: 1w
        members: [alice]
    stakeholders:
      users: [boss]
      update_every: 30m
time_intervals:
  - name: business-hours
    time_intervals:
      - weekdays: ["monday:friday"]
        times: [{start_time: "09:00", end_time: "18:00"}]
        location: Asia/Tokyo
escalation_policies:
  - id: eng
    steps:
      - targets: {rotations: [primary]}
        escalate_after: 5m
      - targets: {users: [bob]}
        escalate_after: 5m
routes:
  - name: web
    matchers: ['team="web"']
    department: eng
    active_time_intervals: [business-hours]
    inactive: hold
  - name: sales
    matchers: ['team="sales"']
    department: eng
    active_time_intervals: [business-hours]
    inactive: stakeholders
default_route:
  department: eng
%MAINT%
`

func waitCfg(maint string) string { return strings.Replace(waitConfig, "%MAINT%", maint, 1) }

// upgrade is 13:00-15:00 JST on t0's day: it ends at 2026-01-07T06:00:00Z.
const upgrade = `maintenance_windows:
  - name: upgrade
    start: "2026-01-07 13:00"
    end: "2026-01-07 15:00"
`

// reload writes cfg where the harness keeps its config and reloads it.
func (h *harness) reload(cfg string) {
	h.t.Helper()
	path := filepath.Join(filepath.Dir(h.path), "hikyaku.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		h.t.Fatal(err)
	}
	if err := h.engine.Reload(path); err != nil {
		h.t.Fatalf("reload: %v", err)
	}
}

// advanceTo moves the clock to the instant utc (RFC 3339) and handles what came due.
func (h *harness) advanceTo(utc string) {
	h.t.Helper()
	at, err := time.Parse(time.RFC3339, utc)
	if err != nil {
		h.t.Fatal(err)
	}
	if d := at.Sub(h.clock.Now()); d < 0 {
		h.t.Fatalf("advanceTo %s: the clock is already at %s", utc, h.clock.Now().UTC().Format(time.RFC3339))
	} else {
		h.advance(d)
	}
}

// onlyEvent is the one event of type typ on incident id's timeline.
func (h *harness) onlyEvent(id int64, typ string) store.Event {
	h.t.Helper()
	evs := h.events(id, typ)
	if len(evs) != 1 {
		h.t.Fatalf("incident %d: %d %q events, want 1; timeline %q", id, len(evs), typ, h.timeline(id))
	}
	return evs[0]
}

func wantDetail(t *testing.T, ev store.Event, kv ...string) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if got := ev.Detail[kv[i]]; got != kv[i+1] {
			t.Errorf("%s %s = %q, want %q (detail %v)", ev.Type, kv[i], got, kv[i+1], ev.Detail)
		}
	}
}

// reports counts the stakeholder reports boss received from message index from.
func (h *harness) reports(from int) int {
	n := 0
	for _, m := range h.sent.Messages()[from:] {
		if m.To == "boss@example.com" && m.Kind == channels.KindReport {
			n++
		}
	}
	return n
}

func TestMaintenanceEndPagesIncidentStillFiring(t *testing.T) {
	h := newHarness(t, waitCfg(upgrade))
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	h.advanceTo("2026-01-07T05:59:59Z")
	// Alertmanager re-posts the still-firing group during the window.
	h.post("firing", "g1", map[string]string{"alertname": "X"})
	h.advance(0)
	got, n := h.pages(0)
	eq(t, "pages during the window", got, nil)
	if r := h.reports(0); r != 0 {
		t.Errorf("%d stakeholder reports during maintenance, want 0", r)
	}
	h.advanceTo("2026-01-07T06:00:00Z")
	got, _ = h.pages(n)
	eq(t, "pages at the window's end", got, []string{"sms:+819000000001"})
	if r := h.reports(n); r != 1 {
		t.Errorf("%d stakeholder reports at the window's end, want 1", r)
	}
	ev := h.onlyEvent(id, "maintenance_ended")
	wantDetail(t, ev, "window", "upgrade", "decision", "page", "route", "default", "department", "eng", "policy", "eng")
	if !ev.At.Equal(time.Date(2026, 1, 7, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("maintenance_ended at %s, want 2026-01-07T06:00:00Z", ev.At.UTC().Format(time.RFC3339))
	}
	inc, _ := h.st.Get(context.Background(), id)
	if inc.Wait != nil {
		t.Errorf("incident still waits after paging: %+v", inc.Wait)
	}
}

func TestMaintenanceEndSurvivesRestart(t *testing.T) {
	h := newHarness(t, waitCfg(upgrade))
	h.post("firing", "g1", map[string]string{"alertname": "X"})
	h.advance(0)
	set := h.engine.Policies()
	if err := h.st.Close(); err != nil {
		t.Fatal(err)
	}
	// Down across the window's end: the recheck is in the store, due at once.
	h.clock.Add(2 * time.Hour)
	h.open(set)
	h.advance(0)
	got, _ := h.pages(0)
	eq(t, "pages after the restart", got, []string{"sms:+819000000001"})
}

func TestOverlappingWindowsRecheckAtEachEnd(t *testing.T) {
	// later starts inside upgrade and ends at 16:00 JST (07:00Z).
	h := newHarness(t, waitCfg(upgrade+`  - name: later
    start: "2026-01-07 14:30"
    end: "2026-01-07 16:00"
`))
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advanceTo("2026-01-07T06:00:00Z")
	got, n := h.pages(0)
	eq(t, "pages when the first window ends inside the second", got, nil)
	wantDetail(t, h.onlyEvent(id, "maintenance_ended"), "window", "upgrade", "decision", "maintenance",
		"next_window", "later", "until", "2026-01-07T16:00:00+09:00")
	h.advanceTo("2026-01-07T06:59:59Z")
	got, n = h.pages(n)
	eq(t, "pages before the second window ends", got, nil)
	h.advanceTo("2026-01-07T07:00:00Z")
	got, _ = h.pages(n)
	eq(t, "pages at the second window's end", got, []string{"sms:+819000000001"})
	if evs := h.events(id, "maintenance_ended"); len(evs) != 2 || evs[1].Detail["window"] != "later" || evs[1].Detail["decision"] != "page" {
		t.Errorf("maintenance_ended events %+v, want the second for window later, decision page", evs)
	}
}

func TestResolvedDuringMaintenanceNeverPages(t *testing.T) {
	h := newHarness(t, waitCfg(upgrade))
	h.post("firing", "g1", map[string]string{"alertname": "X"})
	h.advanceTo("2026-01-07T05:30:00Z")
	h.post("resolved", "g1", map[string]string{"alertname": "X"})
	h.advanceTo("2026-01-07T07:00:00Z")
	got, _ := h.pages(0)
	eq(t, "pages", got, nil)
	if pending, _ := h.st.Pending(context.Background()); pending != 0 {
		t.Errorf("%d timers left after resolve", pending)
	}
}

func TestHoldEndIsRoutedAgain(t *testing.T) {
	// The hold ends at Thursday 09:00 JST, inside a window until 10:00 JST:
	// the held incident pages when the window ends, not at 09:00.
	h := newHarness(t, waitCfg(`maintenance_windows:
  - name: morning-upgrade
    start: "2026-01-08 08:30"
    end: "2026-01-08 10:00"
`))
	h.clock.Add(6 * time.Hour) // Wednesday 20:00 JST: outside business hours
	id := h.post("firing", "g1", map[string]string{"team": "web"})[0].ID
	h.advance(0)
	wantDetail(t, h.onlyEvent(id, "held"), "until", "2026-01-08T09:00:00+09:00")
	h.advanceTo("2026-01-08T00:00:00Z") // 09:00 JST
	got, n := h.pages(0)
	eq(t, "pages when the hold ends inside a window", got, nil)
	wantDetail(t, h.onlyEvent(id, "hold_ended"), "decision", "maintenance", "next_window", "morning-upgrade")
	h.advanceTo("2026-01-08T01:00:00Z") // 10:00 JST
	got, _ = h.pages(n)
	eq(t, "pages when the window ends", got, []string{"sms:+819000000001"})
	wantDetail(t, h.onlyEvent(id, "maintenance_ended"), "window", "morning-upgrade", "decision", "page", "route", "web")
}

func TestHoldEndPagesAndSaysSo(t *testing.T) {
	h := newHarness(t, waitCfg(""))
	h.clock.Add(6 * time.Hour)
	id := h.post("firing", "g1", map[string]string{"team": "web"})[0].ID
	h.advanceTo("2026-01-07T23:59:59Z")
	got, n := h.pages(0)
	eq(t, "pages while held", got, nil)
	h.advanceTo("2026-01-08T00:00:00Z")
	got, _ = h.pages(n)
	eq(t, "pages at the hold's end", got, []string{"sms:+819000000001"})
	wantDetail(t, h.onlyEvent(id, "hold_ended"), "decision", "page", "route", "web")
}

func TestStakeholdersOnlyPagesWhenTheRouteBecomesActive(t *testing.T) {
	h := newHarness(t, waitCfg(""))
	h.clock.Add(6 * time.Hour) // Wednesday 20:00 JST
	id := h.post("firing", "g1", map[string]string{"team": "sales"})[0].ID
	h.advance(0)
	if r := h.reports(0); r != 1 {
		t.Fatalf("%d reports when the stakeholders-only incident opened, want 1", r)
	}
	h.advanceTo("2026-01-07T23:59:59Z")
	got, n := h.pages(0)
	eq(t, "pages outside business hours", got, nil)
	h.advanceTo("2026-01-08T00:00:00Z") // Thursday 09:00 JST
	got, _ = h.pages(n)
	eq(t, "pages when business hours start", got, []string{"sms:+819000000001"})
	wantDetail(t, h.onlyEvent(id, "stakeholders_ended"), "decision", "page", "route", "sales")
	// One series of reports: the last went out at 08:59:59 JST and the next
	// is due half an hour later; the page starts no second series.
	h.advanceTo("2026-01-08T00:29:59Z")
	if r := h.reports(n); r != 1 {
		t.Errorf("%d reports from 09:00 to 09:29:59 JST, want 1 (one series)", r)
	}
}

func TestAckedDuringMaintenanceStaysQuiet(t *testing.T) {
	h := newHarness(t, waitCfg(upgrade))
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	if _, err := h.engine.Ack(context.Background(), id, "alice", "test"); err != nil {
		t.Fatal(err)
	}
	h.advanceTo("2026-01-07T06:00:00Z")
	got, _ := h.pages(0)
	eq(t, "pages after an ack during maintenance", got, nil)
}
