package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/token"
)

// docStep is one key on the way from Config to a section: seq when the key
// holds a list of mappings.
type docStep struct {
	key string
	seq bool
}

// docAnchor is a struct of the schema and the keys that lead to it.
type docAnchor struct {
	t    reflect.Type
	path []docStep
	// seq is true when the last step's value is a list of t.
	seq bool
}

// docAnchors are the structs of the schema reachable from Config, nearest first.
func docAnchors() []docAnchor {
	out := []docAnchor{{t: reflect.TypeFor[Config]()}}
	type seenKey struct {
		t   reflect.Type
		seq bool
	}
	seen := map[seenKey]bool{{out[0].t, false}: true}
	for i := 0; i < len(out); i++ {
		a := out[i]
		fields := yamlFields(a.t)
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, key := range keys {
			ft := a.t.Field(fields[key]).Type
			seq := false
			if ft.Kind() == reflect.Slice && isStructLike(ft.Elem()) {
				ft, seq = ft.Elem(), true
			}
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft == contactsType || !isStructLike(ft) || seen[seenKey{ft, seq}] {
				continue
			}
			seen[seenKey{ft, seq}] = true
			path := append(append([]docStep{}, a.path...), docStep{key, seq})
			out = append(out, docAnchor{t: ft, path: path, seq: seq})
		}
	}
	return out
}

func (a docAnchor) takes(keys []string) bool {
	fields := yamlFields(a.t)
	for _, k := range keys {
		if _, ok := fields[k]; !ok && !(a.t == providersType && openProvider(k)) {
			return false
		}
	}
	return len(keys) > 0
}

// wrap nests body (YAML at column 0) under the anchor's keys, as the first
// entry of each list on the way.
func (a docAnchor) wrap(body string, bodyIsSeq bool) string {
	steps := a.path
	if bodyIsSeq {
		// The body is the list itself: its key is the last step's.
		last := steps[len(steps)-1]
		steps = steps[:len(steps)-1]
		body = last.key + ":\n" + indent(body, "  ")
	}
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i].seq {
			body = steps[i].key + ":\n  -\n" + indent(body, "    ")
		} else {
			body = steps[i].key + ":\n" + indent(body, "  ")
		}
	}
	return body
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = by + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// dedent removes the indentation of the block's first key line from every line.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	n := -1
	for _, l := range lines {
		if t := strings.TrimLeft(l, " "); t != "" && !strings.HasPrefix(t, "#") {
			n = len(l) - len(t)
			break
		}
	}
	for i, l := range lines {
		if len(l) >= n && strings.TrimSpace(l[:n]) == "" {
			lines[i] = l[n:]
		}
	}
	return strings.Join(lines, "\n")
}

// foreignYAML is a block of another program's configuration: Alertmanager's
// (its receivers have webhook_configs), the web listener's (named in its
// first line).
var foreignYAML = regexp.MustCompile(`(?m)^# (alertmanager\.yml|admin-web\.yml)|^\s*-? *webhook_configs:`)

// docChannels are the test channels and ntfy, as channels/ntfy declares it,
// for the docs' ntfy examples (config's tests cannot import the registry).
func docChannels() []ChannelSpec {
	return append(testChannels(), ChannelSpec{Name: "ntfy", Provider: "ntfy", ReportRank: 35, Endpoint: "topic"})
}

// topLevel splits a block at its lines in column 0, comments aside: the
// parts of a block that shows alternatives (auth_token: three ways) or
// values from different sections (durations).
func topLevel(body string) []string {
	var parts []string
	for _, line := range strings.SplitAfter(body, "\n") {
		if line != "" && line[0] != ' ' && line[0] != '#' && line[0] != '\n' && line[0] != '-' || len(parts) == 0 {
			parts = append(parts, "")
		}
		parts[len(parts)-1] += line
	}
	return parts
}

// topKeys are the keys of body's top mapping, or of its first entry when
// body is a list.
func topKeys(body string) (keys []string, isSeq bool, err error) {
	var top any
	if err := yaml.Unmarshal([]byte(body), &top); err != nil {
		return nil, false, err
	}
	switch v := top.(type) {
	case map[string]any:
		for k := range v {
			keys = append(keys, k)
		}
	case []any:
		isSeq = true
		if len(v) > 0 {
			if first, ok := v[0].(map[string]any); ok {
				for k := range first {
					keys = append(keys, k)
				}
			}
		}
	}
	sort.Strings(keys)
	return keys, isSeq, nil
}

// TestDocsYAMLExamplesDecode: every ```yaml example of hikyaku's file in
// README.md and docs/*.md uses only keys the loader accepts, with values of
// the right shape. A block is a fragment, so it is placed where its keys
// belong (the nearest section whose keys they all are) and only decoding is
// checked: references to users or rotations the fragment does not define are
// not its point. Placeholders ([...]) stand for an empty list, and a line
// "..." separates fragments of different sections.
func TestDocsYAMLExamplesDecode(t *testing.T) {
	UseChannels(docChannels()...)
	t.Cleanup(func() { UseChannels(testChannels()...) })
	files, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../README.md")
	block := regexp.MustCompile("(?s)```yaml\n(.*?)```")
	elision := regexp.MustCompile(`(?m)^\s*\.\.\.\s*$`)
	anchors := docAnchors()
	n := 0
	check := func(where, body string) bool {
		keys, isSeq, err := topKeys(body)
		if err != nil {
			return false
		}
		// A fragment's keys may fit more than one section (slack: is a
		// provider and a chat channel's key): it is right if one takes it.
		var first Errors
		var firstFull string
		tried := false
		for _, a := range anchors {
			if (isSeq && !a.seq) || !a.takes(keys) {
				continue
			}
			full := a.wrap(body, isSeq)
			l := &loader{file: where, positions: map[string]token.Position{}, undecodable: map[string]bool{},
				unsetCredential: map[string]unsetCredential{}, endpoints: map[string]Endpoint{}}
			l.decode([]byte(full))
			if len(l.errs) == 0 {
				first = nil
				tried = true
				break
			}
			if !tried {
				first, firstFull = l.errs, full
			}
			tried = true
		}
		if !tried {
			return false
		}
		for _, e := range first {
			t.Errorf("%s: %s\n%s", where, e.Msg, firstFull)
		}
		n++
		return true
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		for _, m := range block.FindAllStringSubmatchIndex(doc, -1) {
			text := doc[m[2]:m[3]]
			where := file[len("../"):] + ":" + strconv.Itoa(strings.Count(doc[:m[0]], "\n")+1)
			if foreignYAML.MatchString(text) {
				continue
			}
			text = strings.ReplaceAll(text, "[...]", "[]")
			for _, frag := range elision.Split(text, -1) {
				body := dedent(frag)
				if check(where, body) {
					continue
				}
				for _, part := range topLevel(body) {
					if !check(where, part) {
						_, _, err := topKeys(part)
						t.Errorf("%s: no section of the configuration takes\n%s(%v)", where, part, err)
					}
				}
			}
		}
	}
	if n < 40 {
		t.Errorf("%d blocks checked: the docs lost their examples, or the test its way to them", n)
	}
}

// TestConfigDocNamesEveryKey: docs/config.md's key tables name only keys
// the loader accepts (a key of some section, an open provider's url or
// token, or a contact's channel), and every key the loader accepts is
// named in docs/config.md.
func TestConfigDocNamesEveryKey(t *testing.T) {
	b, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	known := map[string]bool{}
	for _, a := range docAnchors() {
		for k := range yamlFields(a.t) {
			known[k] = true
			// Named as `key`, `key.sub`, `section.key`, `{key: …}` or key: in an example.
			named := regexp.MustCompile("`([a-z_]+\\.)*" + regexp.QuoteMeta(k) + "[`.\\[]|`\\{" + regexp.QuoteMeta(k) + ":|(?m)^\\s*-? *" + regexp.QuoteMeta(k) + ":")
			if !named.MatchString(doc) {
				t.Errorf("docs/config.md does not name %s.%s", a.t.Name(), k)
			}
		}
	}
	for k := range yamlFields(reflect.TypeFor[ProviderSettings]()) {
		known[k] = true
	}
	for _, c := range docChannels() {
		known[string(c.Name)] = true
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_.\\[\\]]+)`(?:, `([a-z_.\\[\\]]+)`)* \\|")
	n := 0
	for _, m := range row.FindAllStringSubmatch(doc, -1) {
		for _, key := range m[1:] {
			for _, part := range regexp.MustCompile(`[.\[\]]+`).Split(key, -1) {
				if part != "" && !known[part] {
					t.Errorf("docs/config.md's table names %s, which the loader does not accept (%s)", key, part)
				}
				n++
			}
		}
	}
	if n < 100 {
		t.Errorf("%d table keys read: the tables or this test's pattern changed", n)
	}
}

// TestConfigDocDefaults: the default docs/config.md gives a key is the one
// the loader fills in.
func TestConfigDocDefaults(t *testing.T) {
	b, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	const file = `users: [{id: alice, contacts: {sms: "+819011110001", email: alice@example.com}}]
providers:
  twilio: {account_sid: AC0, auth_token: {value: x}, from: "+815012345678"}
  smtp: {smarthost: "smtp.example.com:587", from: hikyaku@example.com}
  slack: {bot_token: {value: x}}
receivers: [{name: am, allow_unauthenticated: true}]
departments:
  - id: ops
    escalation_policy: page
    rotations: [{id: primary, start: "2026-01-05 09:00", shift: 1w, members: [alice]}]
    drill: {week: first, weekday: monday, at: "10:00"}
    health_report: {every: weekly, to: {users: [alice]}}
  - id: exec
    health_report: {every: monthly, to: {users: [alice]}}
escalation_policies: [{id: page, steps: [{targets: {rotations: [primary]}}]}]
routes: [{matchers: ['team="x"'], department: ops}]
default_route: {department: ops}
heartbeats: [{name: prod, matchers: ['alertname="Watchdog"'], timeout: 5m, department: ops}]
sign_in: {trusted_proxy: {sources: [127.0.0.1]}}
`
	cfg, err := Parse([]byte(file), "defaults.yml")
	if err != nil {
		t.Fatal(err)
	}
	ops, exec := cfg.Departments[0], cfg.Departments[1]
	for _, tc := range []struct {
		section, key, want string
		got                string
	}{
		{"## global", "timezone", "UTC", cfg.Global.TimeZone},
		{"## global", "language", "en", cfg.Global.Language},
		{"## global", "max_body_bytes", "4194304", strconv.FormatInt(cfg.Global.MaxBodyBytes, 10)},
		{"## global", "timer_max_attempts", "10", strconv.Itoa(cfg.Global.TimerMaxAttempts)},
		{"## global", "retention", "400d", durOf(cfg.Global.Retention)},
		{"## global", "stale_after", "7d", durOf(cfg.Global.StaleAfter)},
		{"## global", "contacts_verified_within", "35d", durOf(cfg.Global.ContactsVerifiedWithin)},
		{"### providers.twilio", "api_url", "https://api.twilio.com", cfg.Providers.Twilio.APIURL},
		{"### providers.twilio", "max_sms_segments", "3", strconv.Itoa(cfg.Providers.Twilio.MaxSMSSegments)},
		{"### providers.smtp", "tls", "starttls", cfg.Providers.SMTP.TLS},
		{"### providers.slack", "api_url", "https://slack.com/api/", cfg.Providers.Slack.APIURL},
		{"### stakeholders", "update_every", "30m", durOf(ops.Stakeholders.UpdateEvery)},
		{"### drill", "answer_within", "30m", durOf(ops.Drill.AnswerWithin)},
		{"### health_report", "weekday", "monday", strings.ToLower(ops.HealthReport.SendWeekday.String())},
		{"### health_report", "day", "1", strconv.Itoa(exec.HealthReport.Day)},
		{"### health_report", "at", `"09:00"`, fmt.Sprintf(`"%02d:%02d"`, ops.HealthReport.Hour, ops.HealthReport.Minute)},
		{"### steps", "escalate_after", "5m", durOf(cfg.Policies[0].Steps[0].EscalateAfter)},
		{"## routes", "severity_label", "severity", cfg.Routes[0].SeverityLabel},
		{"## routes", "inactive", "hold", cfg.Routes[0].Inactive},
		{"## heartbeats", "severity", "critical", cfg.Heartbeats[0].Severity},
		{"## sign_in", "session_ttl", "12h", durOf(cfg.SignIn.SessionTTL)},
		{"## sign_in", "console_refresh", "15s", durOf(cfg.SignIn.ConsoleRefresh)},
	} {
		if got := tc.got; got != tc.want && !(strings.HasPrefix(got, "dur:") && sameDuration(t, got, tc.want)) {
			t.Errorf("%s %s: the loader's default is %s, the test says %s", tc.section, tc.key, strings.TrimPrefix(got, "dur:"), tc.want)
		}
		_, sec, ok := strings.Cut(doc, "\n"+tc.section+"\n")
		if !ok {
			t.Errorf("docs/config.md has no section %q", tc.section)
			continue
		}
		m := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(tc.key) + "` \\|[^|]*\\|([^|]*)\\|").FindStringSubmatch(sec)
		if m == nil {
			t.Errorf("docs/config.md %s: no row for %s", tc.section, tc.key)
			continue
		}
		if !strings.Contains(m[1], "`"+tc.want+"`") {
			t.Errorf("docs/config.md %s: %s's default says%s, the loader's is %s", tc.section, tc.key, m[1], tc.want)
		}
	}
}

// durOf marks a duration for sameDuration: 7d and 1w are one default.
func durOf(d Duration) string { return "dur:" + strconv.FormatInt(int64(d), 10) }

func sameDuration(t *testing.T, got, want string) bool {
	t.Helper()
	var w Duration
	if err := yaml.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%q: %v", want, err)
	}
	return got == durOf(w)
}
