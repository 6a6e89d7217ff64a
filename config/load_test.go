package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// minimal is a valid configuration, one section a line, that broken snippets
// complete: a snippet's own sections replace these, and its line numbers are
// unchanged because the rest is appended after it.
const minimal = `users: [{id: alice, contacts: {sms: "+819011110001"}}]
departments: [{id: ops, escalation_policy: page, rotations: [{id: primary, start: "2026-01-05 09:00", shift: 1w, members: [alice]}]}]
escalation_policies: [{id: page, steps: [{targets: {rotations: [primary]}}]}]
default_route: {department: ops}
`

// complete appends the sections of minimal that snippet does not write.
func complete(snippet string) string {
	var b strings.Builder
	b.WriteString(snippet)
	for _, line := range strings.Split(strings.TrimSpace(minimal), "\n") {
		section, _, _ := strings.Cut(line, ":")
		if strings.HasPrefix(snippet, section+":") || strings.Contains(snippet, "\n"+section+":") {
			continue
		}
		b.WriteString("\n" + line)
	}
	return b.String()
}

// want is one expected error: its position and part of its message.
type want struct {
	line, col int
	msg       string
}

func (w want) String() string { return fmt.Sprintf("%d:%d: …%s…", w.line, w.col, w.msg) }

// brokenConfigs has one row per kind of mistake an admin makes. Each snippet is
// otherwise valid, so the row's errors are the only ones reported.
var brokenConfigs = []struct {
	name string
	yaml string
	raw  bool // do not complete with minimal
	want []want
}{
	{name: "unknown key", yaml: "global:\n  timzone: UTC\n", want: []want{{2, 3, `unknown key "timzone" (did you mean "timezone"?)`}}},
	{name: "timer attempts below the outbox's", yaml: "global:\n  timer_max_attempts: 3\n", want: []want{{2, 23, "timer_max_attempts must be at least 5"}}},
	{name: "retention too short", yaml: "global:\n  retention: 1h\n", want: []want{{2, 14, "retention 1h is too short: at least 1d"}}},
	{name: "stale_after too short", yaml: "global:\n  stale_after: 5m\n", want: []want{{2, 16, "stale_after 5m is too short: at least 12h"}}},
	{name: "retention not a duration", yaml: "global:\n  retention: a year\n", want: []want{{2, 14, "a year"}}},
	{name: "unknown section", yaml: "user:\n  - id: bob\n", want: []want{{1, 1, `unknown key "user" (did you mean "users"?)`}}},
	{name: "string where a list is expected", yaml: `users:
  - id: alice
    contacts: {sms: "+819011110001"}
    notify:
      - {after: 1m, channels: sms}
`, want: []want{{5, 31, "channels must be a list"}}},
	{name: "number for a user id", yaml: `users:
  - id: 42
    contacts: {sms: "+819011110001"}
`, want: []want{{2, 9, `id: 42 is a number, not text: quote it ("42")`}}},
	{name: "number for a phone number", yaml: `users:
  - id: alice
    contacts: {sms: +819011110001}
`, want: []want{{3, 21, `sms: +819011110001 is a number`}}},
	{name: "mapping where a list is expected", yaml: "users:\n  id: alice\n", want: []want{{2, 3, "users must be a list"}}},
	{name: "bad duration", yaml: `escalation_policies:
  - id: page
    steps:
      - targets: {rotations: [primary]}
        escalate_after: 5 minutes
`, want: []want{{5, 25, `invalid duration "5 minutes"`}}},
	{name: "unknown time zone", yaml: "global:\n  timezone: Asia/Tokio\n", want: []want{{2, 13, `unknown time zone "Asia/Tokio"`}}},
	{name: "rotation time zone", yaml: `departments:
  - id: ops
    escalation_policy: page
    rotations:
      - id: primary
        timezone: Tokyo
        start: "2026-01-05 09:00"
        shift: 1w
        members: [alice]
`, want: []want{{6, 19, `unknown time zone "Tokyo"`}}},
	{name: "phone number not E.164", yaml: `users:
  - id: alice
    contacts: {sms: "090-1111-0001"}
`, want: []want{{3, 21, `invalid phone number "090-1111-0001": use E.164`}}},
	{name: "bad email", yaml: `users:
  - id: alice
    contacts: {email: "alice at example.com"}
`, want: []want{{3, 23, `invalid email address "alice at example.com"`}}},
	{name: "route to a missing policy", yaml: `routes:
  - matchers: ['team="db"']
    department: ops
    escalation_policy: db-critical
`, want: []want{{4, 24, `unknown escalation policy "db-critical"`}}},
	{name: "step naming a missing rotation", yaml: `escalation_policies:
  - id: page
    steps:
      - targets: {rotations: [primary, secondary]}
`, want: []want{{4, 40, `unknown rotation "secondary"`}}},
	{name: "duplicate user id", yaml: `users:
  - id: alice
    contacts: {sms: "+819011110001"}
  - id: alice
    contacts: {email: alice@example.com}
`, want: []want{{4, 9, `duplicate user id "alice"`}}},
	{name: "rotation id reused by a schedule", yaml: `departments:
  - id: ops
    escalation_policy: page
    rotations:
      - {id: primary, start: "2026-01-05 09:00", shift: 1w, members: [alice]}
    schedules:
      - {id: primary, layers: [primary]}
`, want: []want{{7, 14, `duplicate rotation or schedule id "primary"`}}},
	{name: "empty rotation", yaml: `departments:
  - id: ops
    escalation_policy: page
    rotations:
      - id: primary
        start: "2026-01-05 09:00"
        shift: 1w
        members: []
`, want: []want{{5, 9, `rotation "primary" has no members`}}},
	{name: "matcher syntax", yaml: `routes:
  - matchers: ['team=="db"']
    department: ops
`, want: []want{{2, 16, `invalid matcher "team==\"db\""`}}},
	{name: "bad timestamp", yaml: `departments:
  - id: ops
    escalation_policy: page
    rotations:
      - id: primary
        start: "2026-13-05 09:00"
        shift: 1w
        members: [alice]
`, want: []want{{6, 16, `invalid time "2026-13-05 09:00"`}}},
	{name: "override ends before it starts", yaml: `departments:
  - id: ops
    escalation_policy: page
    rotations:
      - id: primary
        start: "2026-01-05 09:00"
        shift: 1w
        members: [alice]
        overrides:
          - {user: alice, start: "2026-02-02 09:00", end: "2026-02-01 09:00"}
`, want: []want{{10, 59, "override ends before it starts"}}},
	{name: "roster change out of order", yaml: `departments:
  - id: ops
    escalation_policy: page
    rotations:
      - id: primary
        start: "2026-01-05 09:00"
        shift: 1w
        members: [alice]
        changes:
          - {at: "2026-03-02 09:00", members: [alice]}
          - {at: "2026-02-02 09:00", members: [alice]}
`, want: []want{{11, 18, "roster changes must come after start and after each other"}}},
	{name: "duplicate key", yaml: "global:\n  timezone: UTC\n  timezone: Asia/Tokyo\n", want: []want{{3, 3, `mapping key "timezone" already defined at [2:3]`}}},
	{name: "YAML syntax error", raw: true, yaml: "users: [{id: alice\n", want: []want{{1, 9, "could not find flow mapping end token '}'"}}},
	{name: "bad indentation", raw: true, yaml: "users:\n  - id: alice\n   name: Alice\n", want: []want{{3, 4, "value is not allowed in this context"}}},
	{name: "empty file", raw: true, yaml: "", want: []want{{1, 1, "empty configuration"}}},
	{name: "only comments", raw: true, yaml: "# nothing yet\n", want: []want{{1, 1, "empty configuration"}}},
	{name: "root is a list", raw: true, yaml: "- users\n- departments\n", want: []want{{1, 1, "the configuration must be a mapping of sections"}}},
	{name: "root is a scalar", raw: true, yaml: "hikyaku\n", want: []want{{1, 1, "the configuration must be a mapping of sections"}}},
	{name: "two documents", raw: true, yaml: complete("global: {}\n") + "\n---\nglobal: {}\n", want: []want{{7, 1, "only one YAML document is allowed"}}},
	{name: "merge key", yaml: `users:
  - &alice
    id: alice
    contacts: {sms: "+819011110001"}
  - <<: *alice
    id: bob
`, want: []want{{5, 5, "merge keys (<<) are not supported"}, {5, 5, `user "bob" has no contacts`}}},
	{name: "alias", yaml: `users:
  - id: alice
    contacts: {sms: &phone "+819011110001", voice: *phone}
`, want: []want{{3, 52, "aliases (*name) are not supported"}}},
	{name: "route without department", yaml: `routes:
  - name: db
    matchers: ['team="db"']
`, want: []want{{2, 5, "route needs a department (or drop: true)"}}},
	{name: "drop route with department", yaml: `routes:
  - matchers: ['env="test"']
    drop: true
    department: ops
`, want: []want{{3, 11, "a drop route pages nobody"}}},
	{name: "drop route with continue", yaml: `routes:
  - matchers: ['env="test"']
    drop: true
    continue: true
`, want: []want{{4, 15, "continue has no effect"}}},
	{name: "drop route with a time condition", yaml: `routes:
  - matchers: ['env="test"']
    drop: true
    inactive: hold
`, want: []want{{3, 11, "a drop route always drops"}}},
	{name: "default route that drops", yaml: `default_route:
  drop: true
`, want: []want{{2, 9, "default_route cannot drop"}}},
	{name: "default route skipping", yaml: `default_route:
  department: ops
  inactive: skip
`, want: []want{{3, 13, "default_route has no route after it"}}},
	{name: "default route with matchers", yaml: `default_route:
  department: ops
  matchers: ['team="db"']
`, want: []want{{3, 13, "default_route matches every alert: it takes no matchers"}}},
	{name: "maintenance with start and time_intervals", yaml: `time_intervals:
  - name: sundays
    time_intervals: [{weekdays: [sunday]}]
maintenance_windows:
  - name: migration
    start: "2026-03-01 02:00"
    end: "2026-03-01 04:00"
    time_intervals: [sundays]
`, want: []want{{5, 5, "give start and end (one-off) or time_intervals (recurring), not both"}}},
	{name: "Slack user id", yaml: `users:
  - id: alice
    contacts: {slack: "@alice"}
`, want: []want{{3, 23, `invalid Slack user id "@alice"`}}},
	{name: "Slack channel id", yaml: `chat_channels:
  - id: ops
    slack: "#ops"
`, want: []want{{3, 12, `invalid Slack channel id "#ops"`}}},
	{name: "unknown channel in notify rule", yaml: `users:
  - id: alice
    contacts: {sms: "+819011110001"}
    notify:
      - {after: 0s, channels: [sms, pager]}
`, want: []want{{5, 37, `unknown channel "pager"`}}},
	{name: "notify channel without its contact", yaml: `users:
  - id: alice
    contacts: {sms: "+819011110001"}
    notify:
      - {after: 0s, channels: [sms]}
      - {after: 5m, channels: [voice]}
`, want: []want{{6, 32, `user "alice" has no contacts.voice for channel "voice"`}}},
	{name: "inline secret and env at once", yaml: `providers:
  slack:
    bot_token: {env: SLACK_TOKEN, value: xoxb-1}
`, want: []want{{3, 17, "bot_token: give only one of file, env and value"}}},
	{name: "missing required secret", yaml: `providers:
  twilio:
    account_sid: AC123
    from: "+815012345678"
`, want: []want{{3, 5, "auth_token is required"}}},
	{name: "unknown time interval", yaml: `routes:
  - matchers: ['severity="warning"']
    department: ops
    active_time_intervals: [office-hours]
`, want: []want{{4, 29, `unknown time interval "office-hours"`}}},
	{name: "no default route", raw: true, yaml: strings.Replace(minimal, "default_route: {department: ops}\n", "", 1), want: []want{{1, 1, "default_route is required"}}},
}

func TestParseReportsEachMistakeWhereItIs(t *testing.T) {
	for _, tt := range brokenConfigs {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.yaml
			if !tt.raw {
				data = complete(tt.yaml)
			}
			_, err := Parse([]byte(data), "hikyaku.yml")
			checkErrors(t, err, tt.want)
		})
	}
}

// checkErrors asserts that err lists exactly the wanted errors, in order.
func checkErrors(t *testing.T, err error, wants []want) {
	t.Helper()
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error = %v (%T), want config.Errors", err, err)
	}
	for i := 0; i < max(len(es), len(wants)); i++ {
		switch {
		case i >= len(wants):
			t.Errorf("unexpected error %v", es[i])
		case i >= len(es):
			t.Errorf("missing error %v", wants[i])
		case es[i].File != "hikyaku.yml" || es[i].Line != wants[i].line || es[i].Column != wants[i].col || !strings.Contains(es[i].Msg, wants[i].msg):
			t.Errorf("error %d = %v, want hikyaku.yml:%v", i, es[i], wants[i])
		}
	}
}

func TestExampleLoads(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "examples", "hikyaku.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// The example reads its secrets from the environment, so on a fresh
	// machine each is a warning and never an error.
	for _, w := range cfg.Warnings {
		if !strings.Contains(w.Msg, "environment variable") {
			t.Errorf("unexpected warning %v", w)
		}
	}
	if got := len(cfg.Users); got != 10 {
		t.Errorf("users = %d, want the example's 10", got)
	}
	if r := cfg.Rotation("eng-primary"); r == nil || r.StartTime.IsZero() || r.Location.String() != "Asia/Tokyo" {
		t.Errorf("rotation eng-primary = %+v, want a start in Asia/Tokyo", r)
	}
}

func TestLoadReportsEveryErrorAtOnce(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "many-errors.yml"))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error = %v, want config.Errors", err)
	}
	wants := []string{
		`testdata/many-errors.yml:3:13: unknown time zone "Asia/Tokio"`,
		`testdata/many-errors.yml:4:3: unknown key "langauge" (did you mean "language"?)`,
		`testdata/many-errors.yml:7:21: invalid phone number "090-1111-0001"`,
		`testdata/many-errors.yml:8:9: duplicate user id "alice"`,
		`testdata/many-errors.yml:9:23: invalid email address "not an address"`,
		`testdata/many-errors.yml:16:16: invalid duration "1 week"`,
		`testdata/many-errors.yml:17:26: unknown user "bob"`,
		`testdata/many-errors.yml:18:9: rotation "empty" has no members`,
		`testdata/many-errors.yml:25:40: unknown rotation "secondary"`,
		`testdata/many-errors.yml:27:16: invalid matcher "team=~\"db"`,
		`testdata/many-errors.yml:31:24: unknown escalation policy "web-critical"`,
	}
	if len(es) != len(wants) {
		t.Errorf("got %d errors, want %d:\n%v", len(es), len(wants), err)
	}
	for i := range min(len(es), len(wants)) {
		if !strings.HasPrefix(es[i].Error(), wants[i]) {
			t.Errorf("error %d = %v\nwant prefix %s", i, es[i], wants[i])
		}
	}
	// Error() is what the CLI prints: one problem a line, ready for an editor.
	if got := strings.Count(err.Error(), "\n") + 1; got != len(es) {
		t.Errorf("Error() has %d lines, want %d", got, len(es))
	}
}

func TestYAMLDirectiveIsNotADocument(t *testing.T) {
	// go-yaml returns "%YAML 1.2" as a document of its own.
	if _, err := Parse([]byte("%YAML 1.2\n---\n"+minimal), "hikyaku.yml"); err != nil {
		t.Fatal(err)
	}
}
