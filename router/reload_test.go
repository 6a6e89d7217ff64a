package router

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// reloadConfig has placeholders each row of TestReloadWhatHappensToOpenIncidents
// fills: %PRIMARY% (eng's rotation), %ENGSTEP2% (eng policy's second step's
// targets), %ROUTES%, %MAINT%. alice, bob and carol have one SMS number each.
const reloadConfig = `
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
  - id: carol
    contacts: {sms: "+819000000003"}
departments:
  - id: eng
    escalation_policy: eng
    rotations:
      - id: primary
        start: "2026-01-05 10:00"
        shift: 1w
        members: [%PRIMARY%]
%OPS%
escalation_policies:
  - id: eng
    repeat: 1
    steps:
      - targets: {rotations: [primary]}
        escalate_after: 5m
      - targets: {users: [%ENGSTEP2%]}
        escalate_after: 5m
%POLICIES%
routes:
%ROUTES%
default_route:
  department: eng
%MAINT%
`

const (
	alice = "sms:+819000000001"
	bob   = "sms:+819000000002"
	carol = "sms:+819000000003"
)

// opsDept is a second department whose policy pages carol.
const opsDept = `  - id: ops
    escalation_policy: ops`
const opsPolicy = `  - id: ops
    steps:
      - targets: {users: [carol]}
        escalate_after: 5m
      - targets: {users: [carol]}
        escalate_after: 5m`

// cfgOf fills reloadConfig; unset keys get the defaults (alice on call,
// bob at step 2, no ops department, no routes, no windows).
func cfgOf(kv map[string]string) string {
	def := map[string]string{"%PRIMARY%": "alice", "%ENGSTEP2%": "bob", "%OPS%": "", "%POLICIES%": "", "%ROUTES%": "  []", "%MAINT%": ""}
	s := reloadConfig
	for k, v := range def {
		if got, ok := kv[k]; ok {
			v = got
		}
		s = strings.ReplaceAll(s, k, v)
	}
	return s
}

const infraRoute = `  - name: infra
    matchers: ['team="infra"']
    department: eng`
const auditContinue = `  - name: audit
    matchers: ['audit="yes"']
    department: ops
    continue: true`
const infraContinue = `  - name: infra
    matchers: ['team="infra"']
    department: eng
    continue: true`
const auditRoute = `  - name: audit
    matchers: ['audit="yes"']
    department: ops`

// nowWindow covers t0 (14:00 JST) for an hour either side.
const nowWindow = `maintenance_windows:
  - name: freeze
    start: "2026-01-07 13:00"
    end: "2026-01-07 15:00"`

// TestReloadWhatHappensToOpenIncidents is docs/operations.md's table: each
// row opens incidents under before, reloads after, and checks what happens
// to them. Step 1 (alice) has paged when the reload comes, at t0; step 2
// is due at t0+5m.
func TestReloadWhatHappensToOpenIncidents(t *testing.T) {
	infra := map[string]string{"alertname": "X", "team": "infra"}
	both := map[string]string{"alertname": "X", "team": "infra", "audit": "yes"}
	withOps := func(kv map[string]string) map[string]string {
		kv["%OPS%"], kv["%POLICIES%"] = opsDept, opsPolicy
		return kv
	}
	tests := []struct {
		name          string
		before, after string
		labels        map[string]string
		opened        int      // incidents the first post opens
		step2         []string // pages from the reload to t0+5m
		events        []string // on the first incident's timeline after t0+5m
		resolves      bool     // Alertmanager's resolved closes every incident
	}{
		{name: "route added before the incident's route",
			before: cfgOf(map[string]string{"%ROUTES%": infraRoute}),
			after: cfgOf(withOps(map[string]string{"%ROUTES%": `  - name: first
    matchers: ['team="infra"']
    department: ops
` + infraRoute})),
			labels: infra, opened: 1, step2: []string{bob}, resolves: true},
		{name: "the incident's route removed",
			before: cfgOf(map[string]string{"%ROUTES%": infraRoute}),
			after:  cfgOf(nil),
			labels: infra, opened: 1, step2: []string{bob}, resolves: true},
		{name: "routes reordered",
			before: cfgOf(withOps(map[string]string{"%ROUTES%": auditContinue + "\n" + infraRoute})),
			after:  cfgOf(withOps(map[string]string{"%ROUTES%": infraContinue + "\n" + auditRoute})),
			labels: both, opened: 2, step2: []string{bob, carol}, resolves: true},
		{name: "drop route added",
			before: cfgOf(map[string]string{"%ROUTES%": infraRoute}),
			after: cfgOf(map[string]string{"%ROUTES%": `  - name: noise
    matchers: ['team="infra"']
    drop: true
` + infraRoute}),
			labels: infra, opened: 1, step2: []string{bob}, resolves: true},
		{name: "continue removed",
			before: cfgOf(withOps(map[string]string{"%ROUTES%": auditContinue + "\n" + infraRoute})),
			after:  cfgOf(withOps(map[string]string{"%ROUTES%": auditRoute + "\n" + infraRoute})),
			labels: both, opened: 2, step2: []string{bob, carol}, resolves: true},
		{name: "continue route removed",
			before: cfgOf(withOps(map[string]string{"%ROUTES%": auditContinue + "\n" + infraRoute})),
			after:  cfgOf(withOps(map[string]string{"%ROUTES%": infraRoute})),
			labels: both, opened: 2, step2: []string{bob, carol}, resolves: true},
		{name: "policy changed",
			before: cfgOf(map[string]string{"%ROUTES%": infraRoute}),
			after:  cfgOf(map[string]string{"%ROUTES%": infraRoute, "%ENGSTEP2%": "carol"}),
			labels: infra, opened: 1, step2: []string{carol}, resolves: true},
		{name: "policy removed",
			before: cfgOf(map[string]string{"%ROUTES%": infraRoute + "\n    escalation_policy: special", "%POLICIES%": `  - id: special
    steps:
      - targets: {users: [alice]}
        escalate_after: 5m
      - targets: {users: [carol]}
        escalate_after: 5m`}),
			after:  cfgOf(map[string]string{"%ROUTES%": infraRoute}),
			labels: infra, opened: 1, step2: []string{bob}, events: []string{"policy_replaced"}, resolves: true},
		{name: "department removed (with its route and policy)",
			before: cfgOf(withOps(map[string]string{"%ROUTES%": auditRoute})),
			after:  cfgOf(nil),
			labels: map[string]string{"alertname": "X", "audit": "yes"}, opened: 1,
			// ops' policy is gone with it: the default route's (eng) step 2 pages bob.
			step2: []string{bob}, events: []string{"policy_replaced"}, resolves: true},
		{name: "maintenance window added",
			before: cfgOf(map[string]string{"%ROUTES%": infraRoute}),
			after:  cfgOf(map[string]string{"%ROUTES%": infraRoute, "%MAINT%": nowWindow}),
			labels: infra, opened: 1, step2: []string{bob}, resolves: true},
		{name: "maintenance window removed",
			before: cfgOf(map[string]string{"%ROUTES%": infraRoute, "%MAINT%": nowWindow}),
			after:  cfgOf(map[string]string{"%ROUTES%": infraRoute}),
			// The reload pages step 1 (alice) at once; step 2 (bob) follows.
			labels: infra, opened: 1, step2: []string{alice, bob}, events: []string{"maintenance_ended"}, resolves: true},
		{name: "user removed from the rotation",
			before: cfgOf(map[string]string{"%ROUTES%": infraRoute}),
			after:  cfgOf(map[string]string{"%ROUTES%": infraRoute, "%PRIMARY%": "carol"}),
			labels: infra, opened: 1, step2: []string{bob}, resolves: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.before)
			incs := h.post("firing", "g1", tt.labels)
			if len(incs) != tt.opened {
				t.Fatalf("opened %d incidents, want %d", len(incs), tt.opened)
			}
			h.advance(0)
			_, n := h.pages(0)
			h.reload(tt.after)
			h.advance(0)
			h.advance(5 * time.Minute)
			got, n := h.pages(n)
			eq(t, "pages from the reload to t0+5m", got, tt.step2)
			tl := h.timeline(incs[0].ID)
			for _, ev := range tt.events {
				if !slices.Contains(tl, ev) {
					t.Errorf("timeline lacks %q: %q", ev, tl)
				}
			}
			// Alertmanager re-posts the group: no incident is added or lost.
			again := h.post("firing", "g1", tt.labels)
			if len(again) != tt.opened {
				t.Errorf("a re-post after the reload touched %d incidents, want the %d open", len(again), tt.opened)
			}
			h.post("resolved", "g1", tt.labels)
			h.advance(time.Hour)
			all, err := h.st.List(context.Background(), store.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != tt.opened {
				t.Errorf("%d incidents in the store, want %d", len(all), tt.opened)
			}
			for _, inc := range all {
				if resolved := inc.Status == store.StatusResolved; resolved != tt.resolves {
					t.Errorf("incident %d (%s) is %s after Alertmanager's resolved", inc.ID, inc.Key, inc.Status)
				}
			}
			got, _ = h.pages(n)
			eq(t, "pages after resolved", got, nil)
		})
	}
}

// TestReloadMovingAWindowsEndMovesTheRecheck: a window extended by a reload
// keeps its incident muted until the new end; one shortened pages at the new end.
func TestReloadMovingAWindowsEndMovesTheRecheck(t *testing.T) {
	window := func(end string) string {
		return "maintenance_windows:\n  - name: freeze\n    start: \"2026-01-07 13:00\"\n    end: \"" + end + "\"\n"
	}
	h := newHarness(t, cfgOf(map[string]string{"%MAINT%": window("2026-01-07 15:00")}))
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	h.reload(cfgOf(map[string]string{"%MAINT%": window("2026-01-07 16:00")}))
	wantDetail(t, h.onlyEvent(id, "wait_changed"), "window", "freeze", "decision", "maintenance", "until", "2026-01-07T16:00:00+09:00")
	h.advanceTo("2026-01-07T06:59:59Z")
	got, n := h.pages(0)
	eq(t, "pages before the new end", got, nil)
	// Shortened to an end already past: routed again by the reload itself.
	h.reload(cfgOf(map[string]string{"%MAINT%": window("2026-01-07 15:30")}))
	h.advance(0)
	got, _ = h.pages(n)
	eq(t, "pages once the window is over", got, []string{alice})
	wantDetail(t, h.onlyEvent(id, "maintenance_ended"), "window", "freeze", "decision", "page")
}

// TestReloadDuringMaintenanceDropsOrDetaches: a reload during the window
// that drops the group, or removes the continue route that opened one of
// its incidents, ends that incident's wait without a page; the rest of the
// group pages when the window ends.
func TestReloadDuringMaintenanceDropsOrDetaches(t *testing.T) {
	both := map[string]string{"alertname": "X", "team": "infra", "audit": "yes"}
	withOps := func(routes string) string {
		return cfgOf(map[string]string{"%OPS%": opsDept, "%POLICIES%": opsPolicy, "%ROUTES%": routes, "%MAINT%": nowWindow})
	}
	t.Run("continue removed", func(t *testing.T) {
		h := newHarness(t, withOps(auditContinue+"\n"+infraRoute))
		incs := h.post("firing", "g1", both)
		if len(incs) != 2 {
			t.Fatalf("opened %d incidents, want 2", len(incs))
		}
		h.reload(withOps(auditRoute + "\n" + infraRoute))
		wantDetail(t, h.onlyEvent(incs[1].ID, "maintenance_ended"), "window", "freeze", "decision", "none")
		if evs := h.events(incs[0].ID, "maintenance_ended"); len(evs) != 0 {
			t.Errorf("the first incident's wait ended at the reload: %+v", evs)
		}
		h.advanceTo("2026-01-07T06:00:00Z")
		got, _ := h.pages(0)
		eq(t, "pages at the window's end", got, []string{carol})
		h.post("resolved", "g1", both)
		for _, inc := range incs {
			if cur, _ := h.st.Get(context.Background(), inc.ID); cur.Status != store.StatusResolved {
				t.Errorf("incident %d (%s) is %s after resolved", inc.ID, inc.Key, cur.Status)
			}
		}
	})
	t.Run("drop route added", func(t *testing.T) {
		infra := map[string]string{"alertname": "X", "team": "infra"}
		h := newHarness(t, cfgOf(map[string]string{"%ROUTES%": infraRoute, "%MAINT%": nowWindow}))
		id := h.post("firing", "g1", infra)[0].ID
		h.reload(cfgOf(map[string]string{"%ROUTES%": "  - name: noise\n    matchers: ['team=\"infra\"']\n    drop: true\n" + infraRoute, "%MAINT%": nowWindow}))
		wantDetail(t, h.onlyEvent(id, "maintenance_ended"), "window", "freeze", "decision", "drop", "route", "noise")
		h.advanceTo("2026-01-07T07:00:00Z")
		got, _ := h.pages(0)
		eq(t, "pages", got, nil)
		if inc, _ := h.st.Get(context.Background(), id); inc.Route != "infra" || inc.Department != "eng" || inc.Wait != nil {
			t.Errorf("after the drop: route %q, department %q, wait %+v; want infra, eng, none", inc.Route, inc.Department, inc.Wait)
		}
		if r := h.post("resolved", "g1", infra); len(r) != 1 || r[0].Status != store.StatusResolved {
			t.Errorf("resolved: %+v", r)
		}
	})
}
