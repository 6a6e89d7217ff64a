package policies

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// routeYAML exercises every route feature; comments say which test needs what.
const routeYAML = `
global:
  timezone: Asia/Tokyo
time_intervals:
  - name: business-hours
    time_intervals:
      - weekdays: ["monday:friday"]
        times: [{start_time: "09:00", end_time: "18:00"}]
        location: Asia/Tokyo
  - name: sunday-maintenance
    time_intervals:
      - weekdays: ["sunday"]
        times: [{start_time: "02:00", end_time: "04:00"}]
        location: Asia/Tokyo
  - name: long-ago
    time_intervals:
      - years: ["2000"]
  - name: utc-mornings  # no location: read in UTC, as Alertmanager does
    time_intervals:
      - times: [{start_time: "06:00", end_time: "07:00"}]
users:
  - {id: alice, contacts: {sms: "+819011110001"}}
  - {id: bob, contacts: {sms: "+819011110002"}}
departments:
  - {id: eng, escalation_policy: eng-pol}
  - {id: ops, escalation_policy: ops-pol}
escalation_policies:
  - id: eng-pol
    steps: [{targets: {users: [alice]}}]
  - id: ops-pol
    steps: [{targets: {users: [bob]}}]
  - id: special
    steps: [{targets: {users: [bob]}}]
routes:
  - name: audit
    matchers: ['audit="yes"']
    department: ops
    continue: true
  - name: test-drop
    matchers: ['env="test"']
    drop: true
  - name: noise-drop
    matchers: ['noise="yes"']
    drop: true
  - name: payments
    matchers: ['team="payments"']
    department: eng
    escalation_policy: special
    severity: critical
  - name: payments-shadowed
    matchers: ['team="payments"']
    department: ops
  - name: infra
    matchers: ['team="infra"']
    department: eng
    severity_map: {page: critical, warn: warning}
  - name: db
    matchers: ['team="db"']
    department: eng
    severity_label: priority
  - name: web-hold
    matchers: ['team="web"']
    department: eng
    active_time_intervals: [business-hours]
  - name: sales-stakeholders
    matchers: ['team="sales"']
    department: ops
    active_time_intervals: [business-hours]
    inactive: stakeholders
  - name: support-skip
    matchers: ['team="support"']
    department: ops
    active_time_intervals: [business-hours]
    inactive: skip
  - name: support-after-hours
    matchers: ['team="support"']
    department: eng
  - name: never
    matchers: ['team="never"']
    department: eng
    active_time_intervals: [long-ago]
  - name: mornings
    matchers: ['team="early"']
    department: eng
    active_time_intervals: [utc-mornings]
  - name: unset-team
    matchers: ['team=""', 'service="orphan"']
    department: ops
default_route:
  department: eng
maintenance_windows:
  - name: ops-sunday
    departments: [ops]
    time_intervals: [sunday-maintenance]
  - name: infra-upgrade
    routes: [infra]
    start: "2026-03-10 22:00"
    end: "2026-03-11 02:00"
  - name: new-year-freeze
    start: "2027-01-02 23:00"
    end: "2027-01-03 05:00"
`

var jst = mustLoc("Asia/Tokyo")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at is wall-clock time in Tokyo; 2026-03-07 is a Saturday.
func at(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, jst)
}

func parseSet(tb testing.TB, yml string) *Set {
	tb.Helper()
	cfg, err := config.Parse([]byte(yml), "test.yml")
	if err != nil {
		tb.Fatalf("config: %v", err)
	}
	return Compile(cfg)
}

func TestRoute(t *testing.T) {
	s := parseSet(t, routeYAML)
	weekday := at(2026, 3, 11, 10, 0) // Wednesday, business hours
	saturday := at(2026, 3, 7, 15, 0)
	monday9 := at(2026, 3, 9, 9, 0)
	page := func(route, dept, policy, sev string) Decision {
		return Decision{Route: route, Department: dept, Policy: policy, Severity: sev, Action: ActionPage}
	}
	with := func(d Decision, f func(*Decision)) Decision { f(&d); return d }

	tests := []struct {
		name string
		lbls map[string]string
		at   time.Time
		want []Decision
	}{
		{"first match wins", map[string]string{"team": "payments"}, weekday,
			[]Decision{page("payments", "eng", "special", "critical")}},
		{"continue adds later matches", map[string]string{"audit": "yes", "team": "payments", "severity": "info"}, weekday,
			[]Decision{page("audit", "ops", "ops-pol", "info"), page("payments", "eng", "special", "critical")}},
		{"continue alone does not fall to default", map[string]string{"audit": "yes"}, weekday,
			[]Decision{page("audit", "ops", "ops-pol", UnknownSeverity)}},
		{"default route", map[string]string{"team": "nobody", "severity": "critical"}, weekday,
			[]Decision{page("default", "eng", "eng-pol", "critical")}},
		{"no labels go to default", nil, weekday,
			[]Decision{page("default", "eng", "eng-pol", UnknownSeverity)}},
		{"drop", map[string]string{"env": "test", "team": "payments"}, weekday,
			[]Decision{{Route: "test-drop", Action: ActionDrop}}},
		{"drop is final after continue", map[string]string{"audit": "yes", "env": "test", "team": "payments"}, weekday,
			[]Decision{page("audit", "ops", "ops-pol", UnknownSeverity), {Route: "test-drop", Action: ActionDrop}}},
		{"drop before a matching route", map[string]string{"noise": "yes", "team": "payments"}, weekday,
			[]Decision{{Route: "noise-drop", Action: ActionDrop}}},
		{"severity map", map[string]string{"team": "infra", "severity": "page"}, weekday,
			[]Decision{page("infra", "eng", "eng-pol", "critical")}},
		{"severity unmapped passes through", map[string]string{"team": "infra", "severity": "disk"}, weekday,
			[]Decision{page("infra", "eng", "eng-pol", "disk")}},
		{"severity missing", map[string]string{"team": "infra"}, weekday,
			[]Decision{page("infra", "eng", "eng-pol", UnknownSeverity)}},
		{"severity label", map[string]string{"team": "db", "priority": "P1", "severity": "critical"}, weekday,
			[]Decision{page("db", "eng", "eng-pol", "P1")}},
		{"missing label matches empty", map[string]string{"service": "orphan"}, weekday,
			[]Decision{page("unset-team", "ops", "ops-pol", UnknownSeverity)}},
		{"hold in business hours pages", map[string]string{"team": "web"}, weekday,
			[]Decision{page("web-hold", "eng", "eng-pol", UnknownSeverity)}},
		{"hold on Saturday until Monday 09:00", map[string]string{"team": "web"}, saturday,
			[]Decision{with(page("web-hold", "eng", "eng-pol", UnknownSeverity), func(d *Decision) { d.Action, d.HoldUntil = ActionHold, monday9 })}},
		{"hold early morning until 09:00 same day", map[string]string{"team": "web"}, at(2026, 3, 11, 7, 30),
			[]Decision{with(page("web-hold", "eng", "eng-pol", UnknownSeverity), func(d *Decision) { d.Action, d.HoldUntil = ActionHold, at(2026, 3, 11, 9, 0) })}},
		{"hold at 18:00 sharp waits for next day", map[string]string{"team": "web"}, at(2026, 3, 11, 18, 0),
			[]Decision{with(page("web-hold", "eng", "eng-pol", UnknownSeverity), func(d *Decision) { d.Action, d.HoldUntil = ActionHold, at(2026, 3, 12, 9, 0) })}},
		{"hold with no coming interval pages now", map[string]string{"team": "never"}, weekday,
			[]Decision{with(page("never", "eng", "eng-pol", UnknownSeverity), func(d *Decision) {
				d.Note = "held, but none of the route's active_time_intervals starts within 8 days: paging now"
			})}},
		{"interval without location is UTC", map[string]string{"team": "early"}, time.Date(2026, 3, 11, 6, 30, 0, 0, time.UTC),
			[]Decision{page("mornings", "eng", "eng-pol", UnknownSeverity)}},
		{"interval without location is not global.timezone", map[string]string{"team": "early"}, at(2026, 3, 11, 6, 30),
			[]Decision{with(page("mornings", "eng", "eng-pol", UnknownSeverity), func(d *Decision) { d.Action, d.HoldUntil = ActionHold, at(2026, 3, 11, 15, 0) })}},
		{"stakeholders outside hours", map[string]string{"team": "sales"}, saturday,
			[]Decision{with(page("sales-stakeholders", "ops", "ops-pol", UnknownSeverity), func(d *Decision) { d.Action = ActionStakeholders })}},
		{"stakeholders route pages in hours", map[string]string{"team": "sales"}, weekday,
			[]Decision{page("sales-stakeholders", "ops", "ops-pol", UnknownSeverity)}},
		{"skip in hours matches", map[string]string{"team": "support"}, weekday,
			[]Decision{page("support-skip", "ops", "ops-pol", UnknownSeverity)}},
		{"skip outside hours tries next route", map[string]string{"team": "support"}, saturday,
			[]Decision{page("support-after-hours", "eng", "eng-pol", UnknownSeverity)}},
		{"recurring maintenance mutes its department", map[string]string{"team": "sales"}, at(2026, 3, 8, 3, 0),
			[]Decision{with(page("sales-stakeholders", "ops", "ops-pol", UnknownSeverity), func(d *Decision) { d.Action, d.Maintenance = ActionMaintenance, "ops-sunday" })}},
		{"recurring maintenance spares other departments", map[string]string{"team": "support"}, at(2026, 3, 8, 3, 0),
			[]Decision{page("support-after-hours", "eng", "eng-pol", UnknownSeverity)}},
		{"recurring maintenance over", map[string]string{"team": "sales"}, at(2026, 3, 8, 4, 0),
			[]Decision{with(page("sales-stakeholders", "ops", "ops-pol", UnknownSeverity), func(d *Decision) { d.Action = ActionStakeholders })}},
		{"one-off maintenance mutes its route", map[string]string{"team": "infra"}, at(2026, 3, 10, 23, 0),
			[]Decision{with(page("infra", "eng", "eng-pol", UnknownSeverity), func(d *Decision) { d.Action, d.Maintenance = ActionMaintenance, "infra-upgrade" })}},
		{"one-off maintenance spares other routes of the department", map[string]string{"team": "payments"}, at(2026, 3, 10, 23, 0),
			[]Decision{page("payments", "eng", "special", "critical")}},
		{"one-off maintenance starts inclusive", map[string]string{"team": "infra"}, at(2026, 3, 10, 22, 0),
			[]Decision{with(page("infra", "eng", "eng-pol", UnknownSeverity), func(d *Decision) { d.Action, d.Maintenance = ActionMaintenance, "infra-upgrade" })}},
		{"one-off maintenance ends exclusive", map[string]string{"team": "infra"}, at(2026, 3, 11, 2, 0),
			[]Decision{page("infra", "eng", "eng-pol", UnknownSeverity)}},
		{"maintenance with no scope mutes the default route", map[string]string{"team": "nobody"}, at(2027, 1, 3, 0, 30),
			[]Decision{with(page("default", "eng", "eng-pol", UnknownSeverity), func(d *Decision) { d.Action, d.Maintenance = ActionMaintenance, "new-year-freeze" })}},
		{"maintenance replaces a hold", map[string]string{"team": "web"}, at(2027, 1, 3, 0, 30),
			[]Decision{with(page("web-hold", "eng", "eng-pol", UnknownSeverity), func(d *Decision) { d.Action, d.Maintenance = ActionMaintenance, "new-year-freeze" })}},
		{"maintenance does not resurrect drops", map[string]string{"env": "test"}, at(2027, 1, 3, 0, 30),
			[]Decision{{Route: "test-drop", Action: ActionDrop}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Route(tt.lbls, tt.at)
			if !decisionsEqual(got, tt.want) {
				t.Errorf("Route(%v, %s)\n got %s\nwant %s", tt.lbls, tt.at, jsonString(got), jsonString(tt.want))
			}
		})
	}
}

// decisionsEqual compares HoldUntil as an instant, whatever its zone.
func decisionsEqual(a, b []Decision) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if !x.HoldUntil.Equal(y.HoldUntil) {
			return false
		}
		x.HoldUntil, y.HoldUntil = time.Time{}, time.Time{}
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestInMaintenance(t *testing.T) {
	s := parseSet(t, routeYAML)
	tests := []struct {
		dept, route string
		at          time.Time
		want        string
	}{
		{"ops", "audit", at(2026, 3, 8, 2, 0), "ops-sunday"},
		{"ops", "", at(2026, 3, 8, 3, 59), "ops-sunday"},
		{"eng", "audit", at(2026, 3, 8, 3, 0), ""},
		{"ops", "", at(2026, 3, 15, 1, 59), ""},
		{"ops", "", at(2026, 3, 15, 2, 30), "ops-sunday"}, // recurs a week later
		{"", "infra", at(2026, 3, 11, 1, 59), "infra-upgrade"},
		{"eng", "payments", at(2026, 3, 11, 1, 0), ""},
		{"anything", "", at(2027, 1, 2, 23, 0), "new-year-freeze"},
		{"", "", at(2027, 1, 3, 5, 0), ""},
		// 2027-01-03 is a Sunday: where windows overlap, file order names the window.
		{"ops", "", at(2027, 1, 3, 3, 0), "ops-sunday"},
		{"eng", "", at(2027, 1, 3, 3, 0), "new-year-freeze"},
	}
	for _, tt := range tests {
		name, ok := s.InMaintenance(tt.dept, tt.route, tt.at)
		if name != tt.want || ok != (tt.want != "") {
			t.Errorf("InMaintenance(%q, %q, %s) = %q, %v; want %q", tt.dept, tt.route, tt.at, name, ok, tt.want)
		}
	}
}

// TestRouteRealPayloads routes the commonLabels of real Alertmanager webhooks
// through the example configuration.
func TestRouteRealPayloads(t *testing.T) {
	cfg, err := config.Load(filepath.Join("..", "examples", "hikyaku.yml"))
	if err != nil {
		t.Fatal(err)
	}
	s := Compile(cfg)
	wednesday := at(2026, 3, 11, 10, 0)
	saturday := at(2026, 3, 7, 15, 0)
	sundayNight := at(2026, 3, 8, 3, 0)
	critical := []Decision{{Route: "payments-critical", Department: "engineering", Policy: "eng-critical", Severity: "critical", Action: ActionPage}}
	warning := func(a Action, maint string) []Decision {
		return []Decision{{Route: "warnings-business-hours", Department: "engineering", Policy: "eng-warning", Severity: "warning", Action: a, Maintenance: maint}}
	}
	tests := []struct {
		file string
		at   time.Time
		want []Decision
	}{
		{"firing-two-alerts-ja.json", wednesday, critical},
		{"firing-two-alerts-ja.json", saturday, critical},
		{"resolved-two-alerts-ja.json", wednesday, critical},
		// severity="warning" matches the warnings route before the infra route.
		{"firing-one-alert-en.json", wednesday, warning(ActionPage, "")},
		{"firing-one-alert-en.json", saturday, warning(ActionStakeholders, "")},
		{"firing-one-alert-en.json", sundayNight, warning(ActionMaintenance, "weekly-db-maintenance")},
	}
	for _, tt := range tests {
		got := s.Route(commonLabels(t, tt.file), tt.at)
		if !decisionsEqual(got, tt.want) {
			t.Errorf("%s at %s:\n got %s\nwant %s", tt.file, tt.at, jsonString(got), jsonString(tt.want))
		}
	}
}

func commonLabels(t *testing.T, file string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "alertmanager", file))
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		CommonLabels map[string]string `json:"commonLabels"`
	}
	if err := json.Unmarshal(data, &msg); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(msg.CommonLabels) == 0 {
		t.Fatalf("%s: no commonLabels", file)
	}
	return msg.CommonLabels
}

// FuzzRoute feeds random label sets: Route must never panic, always decide,
// and only hold until a time after the alert.
func FuzzRoute(f *testing.F) {
	s := parseSet(f, routeYAML)
	f.Add("team=payments\naudit=yes", int64(1773190800))
	f.Add("team=web", int64(1772863200))
	f.Add("env=test\nseverity=page", int64(0))
	f.Add("=\n==\nteam", int64(-62135596800))
	f.Fuzz(func(t *testing.T, raw string, unix int64) {
		lbls := map[string]string{}
		for _, line := range strings.Split(raw, "\n") {
			k, v, _ := strings.Cut(line, "=")
			lbls[k] = v
		}
		now := time.Unix(unix, 0)
		ds := s.Route(lbls, now)
		if len(ds) == 0 {
			t.Fatalf("Route(%v, %s) decided nothing", lbls, now)
		}
		for _, d := range ds {
			if d.Route == "" {
				t.Errorf("decision without a route: %+v", d)
			}
			switch d.Action {
			case ActionPage, ActionStakeholders, ActionDrop, ActionMaintenance:
				if !d.HoldUntil.IsZero() {
					t.Errorf("%s decision with HoldUntil: %+v", d.Action, d)
				}
			case ActionHold:
				if !d.HoldUntil.After(now) || d.HoldUntil.After(now.Add(HoldSearch)) {
					t.Errorf("hold until %s for an alert at %s", d.HoldUntil, now)
				}
			default:
				t.Errorf("unknown action %q", d.Action)
			}
		}
	})
}

// TestMutedUntil: each decision that pages nobody yet ends at a literal
// instant; routing again at that instant decides anew (overlapping windows
// hand over from one to the next).
func TestMutedUntil(t *testing.T) {
	s := parseSet(t, routeYAML)
	utc := func(v string) time.Time {
		tm, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name   string
		labels map[string]string
		at     time.Time
		action Action
		want   time.Time // zero: final decision
	}{
		// 2026-03-08 is a Sunday: ops-sunday is 02:00-04:00 JST.
		{"recurring window", map[string]string{"audit": "yes"}, at(2026, 3, 8, 3, 0), ActionMaintenance, utc("2026-03-07T19:00:00Z")},
		{"one-off window", map[string]string{"team": "infra"}, at(2026, 3, 10, 23, 0), ActionMaintenance, utc("2026-03-10T17:00:00Z")},
		{"hold until Monday 09:00 JST", map[string]string{"team": "web"}, at(2026, 3, 7, 15, 0), ActionHold, utc("2026-03-09T00:00:00Z")},
		{"stakeholders until Monday 09:00 JST", map[string]string{"team": "sales"}, at(2026, 3, 7, 15, 0), ActionStakeholders, utc("2026-03-09T00:00:00Z")},
		{"page is final", map[string]string{"team": "payments"}, at(2026, 3, 9, 10, 0), ActionPage, time.Time{}},
		// 2027-01-03 03:00 JST: ops-sunday (to 04:00) overlaps new-year-freeze (to 05:00).
		{"first of overlapping windows", map[string]string{"audit": "yes"}, at(2027, 1, 3, 3, 0), ActionMaintenance, utc("2027-01-02T19:00:00Z")},
		{"second of overlapping windows", map[string]string{"audit": "yes"}, utc("2027-01-02T19:00:00Z"), ActionMaintenance, utc("2027-01-02T20:00:00Z")},
		{"after both", map[string]string{"audit": "yes"}, utc("2027-01-02T20:00:00Z"), ActionPage, time.Time{}},
	}
	for _, tt := range tests {
		d := s.Route(tt.labels, tt.at)[0]
		if d.Action != tt.action {
			t.Errorf("%s: decision %+v, want action %s", tt.name, d, tt.action)
			continue
		}
		got, ok := s.MutedUntil(d, tt.at)
		if ok != !tt.want.IsZero() || !got.Equal(tt.want) {
			t.Errorf("%s: MutedUntil = %s, %v; want %s", tt.name, got.UTC().Format(time.RFC3339), ok, tt.want.UTC().Format(time.RFC3339))
		}
	}
	now := at(2026, 3, 8, 3, 0)
	if got, ok := s.MutedUntil(Decision{Action: ActionMaintenance, Maintenance: "removed-by-reload"}, now); !ok || !got.Equal(now) {
		t.Errorf("a window gone from the config: MutedUntil = %s, %v; want now", got, ok)
	}
}
