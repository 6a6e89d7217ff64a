package policies

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// planYAML: yamada is always on call in primary; nights has someone only
// from 22:00 to 24:00 JST, so by day its steps are empty.
const planYAML = `
global:
  timezone: Asia/Tokyo
time_intervals:
  - name: late-evening
    time_intervals:
      - times: [{start_time: "22:00", end_time: "24:00"}]
        location: Asia/Tokyo
users:
  - id: yamada
    contacts: {sms: "+819011110001", voice: "+819011110001", email: yamada@example.co.jp}
    notify:
      - {after: 0s, channels: [sms]}
      - {after: 3m, channels: [voice]}
      - {after: 10m, channels: [email]}
  - {id: suzuki, contacts: {sms: "+819011110002"}}
  - {id: sato, contacts: {sms: "+819011110003", voice: "+819011110003"}}
  - {id: boss, contacts: {email: boss@example.co.jp}}
  - {id: night, contacts: {sms: "+819011110004"}}
chat_channels:
  - {id: inc, slack: C01INC}
departments:
  - id: eng
    escalation_policy: main
    rotations:
      - {id: primary, start: "2026-01-05 09:00", shift: 1w, members: [yamada]}
      - {id: nights, start: "2026-01-05 09:00", shift: 1w, members: [night], active: [late-evening]}
    schedules:
      - {id: night-sched, layers: [nights]}
escalation_policies:
  - id: main
    repeat: 1
    steps:
      - {targets: {rotations: [primary], chat_channels: [inc]}, escalate_after: 5m}
      - {targets: {users: [suzuki]}, escalate_after: 10m}
  - id: night-first
    steps:
      - {targets: {rotations: [nights]}, escalate_after: 10m}
      - {targets: {users: [suzuki]}, escalate_after: 5m}
  - id: fallback
    steps:
      - {targets: {rotations: [nights]}, escalate_after: 10m, fallback: boss}
  - id: chat-only
    steps:
      - {targets: {rotations: [nights], chat_channels: [inc]}, fallback: boss}
  - id: gaps
    repeat: 3
    steps:
      - {targets: {rotations: [nights]}}
      - {targets: {departments: [eng]}}
      - {targets: {rotations: [nights]}}
  - id: void
    repeat: 2
    steps:
      - {targets: {rotations: [nights]}}
      - {targets: {schedules: [night-sched]}}
routes: []
default_route: {department: eng}
`

// noon is a Wednesday at 12:00 JST: nights is empty. late is 23:00.
var (
	noon = at(2026, 3, 11, 12, 0)
	late = at(2026, 3, 11, 23, 0)
)

// pageLine writes a page relative to start, e.g. "+3m s0 r1 yamada voice".
func pageLine(start time.Time, p Page) string {
	who := p.User + " " + string(p.Channel)
	if p.ChatChannel != "" {
		who = "#" + p.ChatChannel
	}
	if p.Fallback {
		who += " (fallback)"
	}
	return fmt.Sprintf("+%s s%d r%d %s", p.At.Sub(start), p.Step, p.Round, who)
}

// stepLine writes a firing relative to start, e.g. "+5m s1 r0 [suzuki]".
func stepLine(start time.Time, f StepFiring) string {
	s := fmt.Sprintf("+%s s%d r%d %v", f.At.Sub(start), f.Step, f.Round, f.Users)
	if len(f.ChatChannels) > 0 {
		s += fmt.Sprintf(" #%v", f.ChatChannels)
	}
	if f.Empty {
		s += " empty"
	}
	if f.Fallback != "" {
		s += " fallback=" + f.Fallback
	}
	return s
}

func TestPlan(t *testing.T) {
	s := parseSet(t, planYAML)
	tests := []struct {
		name      string
		policy    string
		start     time.Time
		horizon   time.Duration
		steps     []string
		pages     []string
		exhausted string // after start, as "+30m0s"; "": not within the horizon
	}{
		{
			name: "notification rules, repeat and exhaustion", policy: "main", start: noon, horizon: time.Hour,
			steps: []string{"+0s s0 r0 [yamada] #[inc]", "+5m0s s1 r0 [suzuki]", "+15m0s s0 r1 [yamada] #[inc]", "+20m0s s1 r1 [suzuki]"},
			pages: []string{
				"+0s s0 r0 yamada sms", "+0s s0 r0 #inc",
				"+3m0s s0 r0 yamada voice",
				"+5m0s s1 r0 suzuki sms",
				"+10m0s s0 r0 yamada email",
				"+15m0s s0 r1 yamada sms", "+15m0s s0 r1 #inc",
				"+18m0s s0 r1 yamada voice",
				"+20m0s s1 r1 suzuki sms",
				"+25m0s s0 r1 yamada email",
			},
			exhausted: "+30m0s",
		},
		{
			name: "horizon cuts steps and pages", policy: "main", start: noon, horizon: 12 * time.Minute,
			steps: []string{"+0s s0 r0 [yamada] #[inc]", "+5m0s s1 r0 [suzuki]"},
			pages: []string{"+0s s0 r0 yamada sms", "+0s s0 r0 #inc", "+3m0s s0 r0 yamada voice", "+5m0s s1 r0 suzuki sms", "+10m0s s0 r0 yamada email"},
		},
		{
			name: "nothing at the horizon itself", policy: "main", start: noon, horizon: 10 * time.Minute,
			steps: []string{"+0s s0 r0 [yamada] #[inc]", "+5m0s s1 r0 [suzuki]"},
			pages: []string{"+0s s0 r0 yamada sms", "+0s s0 r0 #inc", "+3m0s s0 r0 yamada voice", "+5m0s s1 r0 suzuki sms"},
		},
		{
			name: "exhausted exactly at the horizon is outside it", policy: "main", start: noon, horizon: 30 * time.Minute,
			steps: []string{"+0s s0 r0 [yamada] #[inc]", "+5m0s s1 r0 [suzuki]", "+15m0s s0 r1 [yamada] #[inc]", "+20m0s s1 r1 [suzuki]"},
			pages: []string{
				"+0s s0 r0 yamada sms", "+0s s0 r0 #inc", "+3m0s s0 r0 yamada voice", "+5m0s s1 r0 suzuki sms",
				"+10m0s s0 r0 yamada email", "+15m0s s0 r1 yamada sms", "+15m0s s0 r1 #inc", "+18m0s s0 r1 yamada voice",
				"+20m0s s1 r1 suzuki sms", "+25m0s s0 r1 yamada email",
			},
		},
		{
			name: "empty step fires the next at once", policy: "night-first", start: noon, horizon: time.Hour,
			steps:     []string{"+0s s0 r0 [] empty", "+0s s1 r0 [suzuki]"},
			pages:     []string{"+0s s1 r0 suzuki sms"},
			exhausted: "+5m0s",
		},
		{
			name: "on-call step waits its escalate_after", policy: "night-first", start: late, horizon: time.Hour,
			steps:     []string{"+0s s0 r0 [night]", "+10m0s s1 r0 [suzuki]"},
			pages:     []string{"+0s s0 r0 night sms", "+10m0s s1 r0 suzuki sms"},
			exhausted: "+15m0s",
		},
		{
			name: "fallback when nobody is on call", policy: "fallback", start: noon, horizon: time.Hour,
			steps:     []string{"+0s s0 r0 [boss] fallback=boss"},
			pages:     []string{"+0s s0 r0 boss email (fallback)"},
			exhausted: "+10m0s",
		},
		{
			name: "no fallback while the rotation has someone", policy: "fallback", start: late, horizon: time.Hour,
			steps:     []string{"+0s s0 r0 [night]"},
			pages:     []string{"+0s s0 r0 night sms"},
			exhausted: "+10m0s",
		},
		{
			name: "a chat channel is enough: no fallback", policy: "chat-only", start: noon, horizon: time.Hour,
			steps:     []string{"+0s s0 r0 [] #[inc]"},
			pages:     []string{"+0s s0 r0 #inc"},
			exhausted: "+5m0s",
		},
		{
			name: "empty steps in every round", policy: "gaps", start: noon, horizon: time.Hour,
			steps: []string{
				"+0s s0 r0 [] empty", "+0s s1 r0 [yamada]", "+5m0s s2 r0 [] empty",
				"+5m0s s0 r1 [] empty", "+5m0s s1 r1 [yamada]", "+10m0s s2 r1 [] empty",
				"+10m0s s0 r2 [] empty", "+10m0s s1 r2 [yamada]", "+15m0s s2 r2 [] empty",
				"+15m0s s0 r3 [] empty", "+15m0s s1 r3 [yamada]", "+20m0s s2 r3 [] empty",
			},
			pages: []string{
				"+0s s1 r0 yamada sms", "+3m0s s1 r0 yamada voice", "+5m0s s1 r1 yamada sms", "+8m0s s1 r1 yamada voice",
				"+10m0s s1 r0 yamada email", "+10m0s s1 r2 yamada sms", "+13m0s s1 r2 yamada voice",
				"+15m0s s1 r1 yamada email", "+15m0s s1 r3 yamada sms", "+18m0s s1 r3 yamada voice",
				"+20m0s s1 r2 yamada email", "+25m0s s1 r3 yamada email",
			},
			exhausted: "+20m0s",
		},
		{
			name: "all-empty policy ends at once", policy: "void", start: noon, horizon: time.Hour,
			steps: []string{
				"+0s s0 r0 [] empty", "+0s s1 r0 [] empty",
				"+0s s0 r1 [] empty", "+0s s1 r1 [] empty",
				"+0s s0 r2 [] empty", "+0s s1 r2 [] empty",
			},
			exhausted: "+0s",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.Plan(tt.policy, tt.start, tt.horizon)
			if err != nil {
				t.Fatal(err)
			}
			if p.Policy != tt.policy {
				t.Errorf("Policy = %q, want %q", p.Policy, tt.policy)
			}
			var steps, pages []string
			for _, f := range p.Steps {
				steps = append(steps, stepLine(tt.start, f))
			}
			for _, pg := range p.Pages {
				pages = append(pages, pageLine(tt.start, pg))
			}
			if !reflect.DeepEqual(steps, tt.steps) {
				t.Errorf("steps:\n got %s\nwant %s", strings.Join(steps, "\n     "), strings.Join(tt.steps, "\n     "))
			}
			if !reflect.DeepEqual(pages, tt.pages) {
				t.Errorf("pages:\n got %s\nwant %s", strings.Join(pages, "\n     "), strings.Join(tt.pages, "\n     "))
			}
			var exhausted string
			if !p.Exhausted.IsZero() {
				exhausted = fmt.Sprintf("+%s", p.Exhausted.Sub(tt.start))
			}
			if exhausted != tt.exhausted {
				t.Errorf("Exhausted = %q, want %q", exhausted, tt.exhausted)
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	s := parseSet(t, planYAML)
	if _, err := s.Plan("nope", noon, time.Hour); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown policy: err = %v", err)
	}
	if _, err := s.Plan("main", noon, 0); err == nil {
		t.Error("zero horizon: no error")
	}
}

func TestStepTargets(t *testing.T) {
	s := parseSet(t, planYAML)
	cfg := s.Config()
	tests := []struct {
		policy string
		step   int
		at     time.Time
		want   StepFiring
	}{
		{"main", 0, noon, StepFiring{At: noon, Step: 0, Users: []string{"yamada"}, ChatChannels: []string{"inc"}}},
		{"main", 1, noon, StepFiring{At: noon, Step: 1, Users: []string{"suzuki"}}},
		{"fallback", 0, noon, StepFiring{At: noon, Users: []string{"boss"}, Fallback: "boss"}},
		{"fallback", 0, late, StepFiring{At: late, Users: []string{"night"}}},
		{"night-first", 0, noon, StepFiring{At: noon, Users: []string{}, Empty: true}},
		{"chat-only", 0, noon, StepFiring{At: noon, Users: []string{}, ChatChannels: []string{"inc"}}},
		{"main", 2, noon, StepFiring{At: noon, Step: 2, Users: []string{}, Empty: true}},
		{"main", -1, noon, StepFiring{At: noon, Step: -1, Users: []string{}, Empty: true}},
	}
	for _, tt := range tests {
		got := s.StepTargets(cfg.Policy(tt.policy), tt.step, tt.at)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("StepTargets(%s, %d, %s) = %+v, want %+v", tt.policy, tt.step, tt.at, got, tt.want)
		}
	}
}

func TestNotifyPages(t *testing.T) {
	s := parseSet(t, planYAML)
	tests := []struct {
		user string
		want []string
	}{
		{"yamada", []string{"+0s s0 r0 yamada sms", "+3m0s s0 r0 yamada voice", "+10m0s s0 r0 yamada email"}},
		// No rules written: config's default texts at once and calls after 3m.
		{"sato", []string{"+0s s0 r0 sato sms", "+3m0s s0 r0 sato voice"}},
		{"boss", []string{"+0s s0 r0 boss email"}},
		{"ghost", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, p := range s.NotifyPages(tt.user, noon) {
			got = append(got, pageLine(noon, p))
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("NotifyPages(%s) = %q, want %q", tt.user, got, tt.want)
		}
	}
}

func exampleSet(b *testing.B) *Set {
	cfg, err := config.Load(filepath.Join("..", "examples", "hikyaku.yml"))
	if err != nil {
		b.Fatal(err)
	}
	return Compile(cfg)
}

// The escalation engine calls StepTargets and NotifyPages for every step of
// every open incident; this is their cost on the example company.
func BenchmarkStepTargets(b *testing.B) {
	s := exampleSet(b)
	p := s.Config().Policy("eng-critical")
	start := at(2026, 3, 11, 3, 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f := s.StepTargets(p, i%len(p.Steps), start.Add(time.Duration(i)*time.Minute))
		for _, u := range f.Users {
			s.NotifyPages(u, f.At)
		}
	}
}

func BenchmarkPlan(b *testing.B) {
	s := exampleSet(b)
	start := at(2026, 3, 11, 3, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Plan("eng-critical", start, 24*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoute is one webhook's routing decision, for a group that
// matches the first route and for one that falls through to a held default.
func BenchmarkRoute(b *testing.B) {
	s := exampleSet(b)
	saturday := at(2026, 3, 7, 15, 0)
	for _, bc := range []struct {
		name string
		lbls map[string]string
	}{
		{"first", map[string]string{"team": "payments", "severity": "critical"}},
		{"stakeholders", map[string]string{"team": "infra", "severity": "warning"}},
		{"default", map[string]string{"team": "unknown", "alertname": "X"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Route(bc.lbls, saturday)
			}
		})
	}
}
