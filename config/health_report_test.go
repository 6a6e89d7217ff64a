package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// healthDept is lines 1 to 11; a health_report starts on line 12. A flow
// mapping is positioned at its first key, as the drill tests have it.
const healthDept = `users:
  - {id: alice, contacts: {sms: "+819011110001"}}
  - {id: ann, contacts: {email: ann@example.com, slack: U0ANN}}
chat_channels:
  - {id: hook, webhook: "https://example.com/hook"}
  - {id: ops, slack: C0OPS}
departments:
  - id: ops
    escalation_policy: page
    rotations: [{id: primary, start: "2026-01-05 09:00", shift: 1w, members: [alice]}]
    roles: {admins: [alice]}
`

func TestHealthReportParsed(t *testing.T) {
	cfg, err := Parse([]byte(complete(healthDept+"    health_report: {every: weekly, to: {users: [ann]}}\n")), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Department("ops")
	h := d.HealthReport
	if h == nil || h.Monthly || h.SendWeekday != time.Monday || h.Hour != 9 || h.Minute != 0 {
		t.Fatalf("weekly defaults = %+v, want monday 09:00", h)
	}
	if got, want := h.Spec(d.Location), "weekly monday 09:00 UTC"; got != want {
		t.Errorf("spec %q, want %q", got, want)
	}
	if got := cfg.HealthReportRecipients(d); !slices.Equal(got, []HealthRecipient{{User: "ann", Channel: ChannelEmail}}) {
		t.Errorf("recipients %+v, want ann by email", got)
	}

	cfg, err = Parse([]byte(complete(healthDept+
		"    health_report: {every: monthly, day: 15, at: \"18:45\", to: {admins: true, chat_channels: [ops], users: [ann]}}\n")), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	d = cfg.Department("ops")
	if h := d.HealthReport; !h.Monthly || h.Day != 15 || h.Hour != 18 || h.Minute != 45 {
		t.Fatalf("monthly = %+v", h)
	}
	want := []HealthRecipient{{User: "ann", Channel: ChannelEmail}, {ChatChannel: "ops", Channel: ChannelSlack}, {User: "alice"}}
	if got := cfg.HealthReportRecipients(d); !slices.Equal(got, want) {
		t.Errorf("recipients %+v, want %+v", got, want)
	}
	// alice, an admin, has only an SMS number: a warning, not an error.
	var warned bool
	for _, w := range cfg.Warnings {
		warned = warned || strings.Contains(w.Error(), `hikyaku.yml:12:`) && strings.Contains(w.Error(), `user "alice" gets no health report`)
	}
	if !warned {
		t.Errorf("warnings %v lack alice's at line 12", cfg.Warnings)
	}
}

func TestHealthReportMistakesArePositioned(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		want       []want
	}{
		{"weekly mistakes", healthDept + `    health_report:
      every: weekly
      weekday: funday
      day: 3
      at: "9am"
      to:
        users: [alice, nobody]
        chat_channels: [hook]
`, []want{
			{14, 16, `weekday "funday"`},
			{15, 12, "day is the day of the month of a monthly report"},
			{16, 11, `at "9am": want a time of day as HH:MM`},
			{18, 17, `user "alice" has neither email nor slack contact`},
			{18, 24, `unknown user "nobody"`},
			{19, 25, `chat channel "hook" is no Slack channel`},
		}},
		{"unknown every", healthDept + "    health_report: {every: daily, to: {admins: true}}\n", []want{{12, 28, `every "daily": want weekly or monthly`}}},
		{"day past 28", healthDept + "    health_report: {every: monthly, day: 31, to: {users: [ann]}}\n", []want{{12, 42, "day 31: want 1 to 28"}}},
		{"weekday on a monthly report", healthDept + "    health_report: {every: monthly, weekday: monday, to: {users: [ann]}}\n", []want{{12, 46, "weekday is the day of a weekly report"}}},
		{"nobody to send to", healthDept + "    health_report: {every: weekly}\n", []want{{12, 21, "health_report has nobody to send to"}}},
		{"no every", healthDept + "    health_report: {to: {users: [ann]}}\n", []want{{12, 21, "health_report needs every: weekly or monthly"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(complete(tt.yaml)), "hikyaku.yml")
			checkErrors(t, err, tt.want)
		})
	}
}
