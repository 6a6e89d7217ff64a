package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func TestDefaultsFilled(t *testing.T) {
	cfg, err := Parse([]byte(complete(`users:
  - id: alice
    contacts: {sms: "+819011110001", voice: "+819011110001", email: alice@example.com, slack: U01ALICE}
  - id: bob
    contacts: {voice: "+819011110002"}
  - id: carol
    language: ja
    contacts: {email: carol@example.com}
    notify:
      - {after: 10m, channels: [email]}
`)), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user string
		want []NotifyRule
	}{
		// Everything written fires at once; the phone call follows, loudest and last.
		{"alice", []NotifyRule{
			{After: 0, Channels: []Channel{ChannelSMS, ChannelSlack, ChannelEmail}},
			{After: Duration(3 * time.Minute), Channels: []Channel{ChannelVoice}},
		}},
		// With only a phone, waiting for the call would leave them unpaged.
		{"bob", []NotifyRule{{After: 0, Channels: []Channel{ChannelVoice}}}},
		// A person's own rules are kept as written.
		{"carol", []NotifyRule{{After: Duration(10 * time.Minute), Channels: []Channel{ChannelEmail}}}},
	}
	for _, tt := range tests {
		if got := cfg.User(tt.user).Notify; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s notify = %v, want %v", tt.user, got, tt.want)
		}
	}
	if got := cfg.Global.Language; got != "en" {
		t.Errorf("global.language = %q, want en", got)
	}
	if got := cfg.User("alice").Language; got != "en" {
		t.Errorf("alice's language = %q, want global's en", got)
	}
	if got := cfg.User("carol").Language; got != "ja" {
		t.Errorf("carol's language = %q, want her own ja", got)
	}
	if got := cfg.Global.Location; got != time.UTC {
		t.Errorf("global location = %v, want UTC", got)
	}
	step := cfg.Policy("page").Steps[0]
	if got := step.EscalateAfter.D(); got != 5*time.Minute {
		t.Errorf("escalate_after = %v, want 5m", got)
	}
	if got := cfg.Department("ops").Stakeholders.UpdateEvery.D(); got != 30*time.Minute {
		t.Errorf("update_every = %v, want 30m", got)
	}
	r := cfg.DefaultRoute
	if r.Name != "default" || r.SeverityLabel != "severity" || r.Inactive != "hold" {
		t.Errorf("default route = name %q, severity_label %q, inactive %q; want default, severity, hold", r.Name, r.SeverityLabel, r.Inactive)
	}
	if got := cfg.Global.MaxBodyBytes; got != 4<<20 {
		t.Errorf("max_body_bytes = %d, want 4 MiB", got)
	}
	if got := cfg.Global.TimerMaxAttempts; got != 10 {
		t.Errorf("timer_max_attempts = %d, want 10", got)
	}
}

func TestDefaultsDoNotOverride(t *testing.T) {
	cfg, err := Parse([]byte(complete(`global:
  language: ja
  timezone: Asia/Tokyo
escalation_policies:
  - id: page
    steps:
      - targets: {rotations: [primary]}
        escalate_after: 90s
departments:
  - id: ops
    escalation_policy: page
    rotations: [{id: primary, start: "2026-01-05 09:00", shift: 1w, members: [alice]}]
    stakeholders: {update_every: 2h}
routes:
  - matchers: ['team="db"']
    department: ops
    severity_label: priority
`)), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Policy("page").Steps[0].EscalateAfter.D(); got != 90*time.Second {
		t.Errorf("escalate_after = %v, want 90s as written", got)
	}
	if got := cfg.Department("ops").Stakeholders.UpdateEvery.D(); got != 2*time.Hour {
		t.Errorf("update_every = %v, want 2h as written", got)
	}
	if got := cfg.Routes[0].SeverityLabel; got != "priority" {
		t.Errorf("severity_label = %q, want priority as written", got)
	}
	if got := cfg.User("alice").Language; got != "ja" {
		t.Errorf("alice's language = %q, want the global ja", got)
	}
	// A wall-clock start is read in the rotation's zone, which defaults to the global one.
	rot := cfg.Rotation("primary")
	want := time.Date(2026, 1, 5, 9, 0, 0, 0, rot.Location)
	if rot.Location.String() != "Asia/Tokyo" || !rot.StartTime.Equal(want) {
		t.Errorf("rotation start = %v in %v, want %v in Asia/Tokyo", rot.StartTime, rot.Location, want)
	}
	if got := cfg.Routes[0].Name; got != "route-1" {
		t.Errorf("unnamed route = %q, want route-1", got)
	}
}

func TestDerivedFields(t *testing.T) {
	cfg, err := Parse([]byte(complete(`routes:
  - name: db
    matchers: ['team="db"', 'severity=~"critical|page"']
    department: ops
departments:
  - id: ops
    escalation_policy: page
    rotations:
      - id: primary
        timezone: America/New_York
        start: "2026-01-05 09:00"
        shift: 1d
        members: [alice]
        changes:
          - {at: "2026-03-02 09:00", members: [alice]}
        overrides:
          - {user: alice, start: "2026-02-01T00:00:00Z", end: "2026-02-02 00:00"}
`)), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	rot := cfg.Rotation("primary")
	if want := time.Date(2026, 3, 2, 9, 0, 0, 0, ny); !rot.Changes[0].Time.Equal(want) {
		t.Errorf("change at %v, want %v", rot.Changes[0].Time, want)
	}
	o := rot.Overrides[0]
	if want := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC); !o.StartTime.Equal(want) {
		t.Errorf("override start %v, want %v (RFC 3339 keeps its offset)", o.StartTime, want)
	}
	if want := time.Date(2026, 2, 2, 0, 0, 0, 0, ny); !o.EndTime.Equal(want) {
		t.Errorf("override end %v, want %v (wall clock in the rotation's zone)", o.EndTime, want)
	}
	r := cfg.Route("db")
	if len(r.ParsedMatchers) != 2 || !r.ParsedMatchers.Matches(model.LabelSet{"team": "db", "severity": "page"}) {
		t.Errorf("parsed matchers = %v", r.ParsedMatchers)
	}
	if cfg.RoutePolicy(r) != cfg.Policy("page") {
		t.Error("a route without a policy does not use its department's")
	}
}

func TestInflightBodyBytes(t *testing.T) {
	cfg, err := Parse([]byte(complete("global:\n  max_body_bytes: 1048576\n")), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Global.MaxInflightBodyBytes; got != 8<<20 {
		t.Errorf("default max_inflight_body_bytes = %d, want 8 × max_body_bytes = %d", got, 8<<20)
	}
	_, err = Parse([]byte(complete("global:\n  max_body_bytes: 1048576\n  max_inflight_body_bytes: 1048575\n")), "hikyaku.yml")
	const want = "hikyaku.yml:3:28: max_inflight_body_bytes must be at least max_body_bytes (1048576)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("inflight below one body: err = %v, want %q", err, want)
	}
	_, err = Parse([]byte(complete("global:\n  max_body_bytes: 4096\n  max_inflight_body_bytes: 1048575\n")), "hikyaku.yml")
	if err == nil || !strings.Contains(err.Error(), "hikyaku.yml:3:28: max_inflight_body_bytes must be at least max_body_bytes (4096) and 1 MiB") {
		t.Fatalf("inflight below a Slack interaction: err = %v", err)
	}
}
