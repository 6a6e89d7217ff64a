package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// escalateAfter is every step's wait in the test policy: short, so real-time
// tests stay short, and long enough that a page two seconds late is visible.
const escalateAfter = 2 * time.Second

// phones are the test users' only contacts: sms, so every page is one SMS
// and the dry-run sender logs it with the number.
var phones = map[string]string{"alice": "+15550000001", "bob": "+15550000002", "carol": "+15550000003"}

var configTemplate = template.Must(template.New("hikyaku.yml").Parse(`# written by internal/e2e; no providers: serve runs with --dry-run, every message is recorded
global:
  timezone: UTC
  language: en
  api_token: {value: {{.APIToken}}}
receivers:
  - name: hikyaku
    bearer_token: {value: {{.WebhookToken}}}
users:
{{- range $id, $phone := .Phones}}
  - id: {{$id}}
    name: {{$id}}
    contacts: {sms: "{{$phone}}"}
{{- end}}
departments:
  - id: ops
    name: Ops
    escalation_policy: e2e
    rotations:
      - id: primary
        start: "2026-01-05 00:00"
        shift: 1d
        members: [{{.Primary}}]
      - id: secondary
        start: "2026-01-05 00:00"
        shift: 1w
        members: [bob]
escalation_policies:
  - id: e2e
    repeat: 1
    steps:
      - targets: {rotations: [primary]}
        escalate_after: {{.EscalateAfter}}
      - targets: {rotations: [secondary]}
        escalate_after: {{.EscalateAfter}}
routes:
  - name: payments
    matchers: ['team="payments"']
    department: ops
default_route:
  department: ops
`))

// writeConfig writes the test configuration: two steps (rotation primary,
// then secondary: bob) two seconds apart, two rounds. primary lists the
// members of the primary rotation, "alice" when empty.
func writeConfig(t *testing.T, primary ...string) string {
	t.Helper()
	if len(primary) == 0 {
		primary = []string{"alice"}
	}
	var b strings.Builder
	err := configTemplate.Execute(&b, map[string]any{
		"APIToken": apiToken, "WebhookToken": webhookToken, "Phones": phones,
		"Primary": strings.Join(primary, ", "), "EscalateAfter": fmt.Sprintf("%ds", int(escalateAfter.Seconds())),
	})
	if err != nil {
		t.Fatalf("config template: %v", err)
	}
	path := filepath.Join(t.TempDir(), "hikyaku.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
	return path
}

// testPlan is what the test policy promises for an incident nobody acks:
// step 1 pages alice at once, step 2 pages bob escalateAfter later, and the
// whole again one round later. Offsets are from the incident's creation.
var testPlan = plan{Steps: []string{"alice", "bob"}, Rounds: 2, Every: escalateAfter}

type plan struct {
	Steps  []string // the user each step pages
	Rounds int
	Every  time.Duration
}

// page is one page the plan schedules.
type page struct {
	Incident    int64
	Round, Step int
	User        string
}

func (p page) String() string {
	return fmt.Sprintf("incident %d round %d step %d → %s", p.Incident, p.Round+1, p.Step+1, p.User)
}

// pages lists the pages of incident id, in order.
func (p plan) pages(id int64) []page {
	var out []page
	for r := range p.Rounds {
		for s, u := range p.Steps {
			out = append(out, page{Incident: id, Round: r, Step: s, User: u})
		}
	}
	return out
}

// due is when pg is due, counted from the incident's creation.
func (p plan) due(pg page) time.Duration {
	return time.Duration(pg.Round*len(p.Steps)+pg.Step) * p.Every
}

// keyRE reads a page's idempotency key: <ref>/g<gen>/r<round>/s<step>/u:<user>/<channel>/<rule>.
var keyRE = regexp.MustCompile(`/g(\d+)/r(\d+)/s(\d+)/u:([^/]+)/([a-z]+)/(\d+)$`)

// sent is one logged send, with the replica that logged it.
type sent struct {
	logLine
	Replica string
}

// sendsOf gathers the sends every process logged.
func sendsOf(ds ...*daemon) []sent {
	var out []sent
	for _, d := range ds {
		for _, l := range d.Sends() {
			out = append(out, sent{logLine: l, Replica: d.name})
		}
	}
	return out
}

// pageOf is the plan page a send delivers.
func pageOf(s sent) (page, error) {
	m := keyRE.FindStringSubmatch(s.Key)
	if m == nil || s.Kind != "page" {
		return page{}, fmt.Errorf("%s sent %s %q: not a page of the plan", s.Replica, s.Kind, s.Key)
	}
	r, _ := strconv.Atoi(m[2])
	st, _ := strconv.Atoi(m[3])
	return page{Incident: s.Incident, Round: r, Step: st, User: m[4]}, nil
}

// byPage indexes sends by page and key, reporting every violation of
// "each page of the plan for these incidents is sent exactly once, by SMS to
// the right number". allowDup, when set, excuses a repeat of a key (the
// at-least-once window of a crash).
func byPage(sends []sent, ids []int64, p plan, allowDup func(first, again sent) bool) (map[page]sent, []string) {
	var problems []string
	want := map[page]bool{}
	for _, id := range ids {
		for _, pg := range p.pages(id) {
			want[pg] = true
		}
	}
	got := map[page]sent{}
	byKey := map[string]sent{}
	for _, s := range sends {
		pg, err := pageOf(s)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if first, dup := byKey[s.Key]; dup {
			if allowDup == nil || !allowDup(first, s) {
				problems = append(problems, fmt.Sprintf("%s sent twice: by %s at %s and by %s at %s (key %s)",
					pg, first.Replica, first.Time.Format(time.StampMilli), s.Replica, s.Time.Format(time.StampMilli), s.Key))
			}
			continue
		}
		byKey[s.Key] = s
		if prev, ok := got[pg]; ok {
			problems = append(problems, fmt.Sprintf("%s sent under two keys: %s and %s", pg, prev.Key, s.Key))
			continue
		}
		switch {
		case !want[pg]:
			problems = append(problems, fmt.Sprintf("%s sent but not in the plan (key %s)", pg, s.Key))
		case s.Channel != "sms" || s.To != phones[pg.User]:
			problems = append(problems, fmt.Sprintf("%s sent by %s to %q, want sms to %q", pg, s.Channel, s.To, phones[pg.User]))
		}
		got[pg] = s
	}
	var missing []page
	for pg := range want {
		if _, ok := got[pg]; !ok {
			missing = append(missing, pg)
		}
	}
	slices.SortFunc(missing, func(a, b page) int { return strings.Compare(a.String(), b.String()) })
	for i, pg := range missing {
		if i == 10 {
			problems = append(problems, fmt.Sprintf("... and %d more pages never sent", len(missing)-10))
			break
		}
		problems = append(problems, pg.String()+" never sent")
	}
	return got, problems
}

// reportProblems fails the test with at most 20 of the problems.
func reportProblems(t *testing.T, problems []string) {
	t.Helper()
	for i, p := range problems {
		if i == 20 {
			t.Errorf("... and %d more", len(problems)-20)
			break
		}
		t.Error(p)
	}
}

// waitExhausted waits until n incidents have run out their plan (the
// "escalation exhausted" line is their last act) across the processes, and,
// with a Redis URL, until the store holds no timer at all: nothing is left
// that could still send, so counting sends now is final.
func waitExhausted(t *testing.T, ds []*daemon, n int, redisURL string) {
	t.Helper()
	last := testPlan.due(page{Round: testPlan.Rounds - 1, Step: len(testPlan.Steps) - 1}) + testPlan.Every
	deadline := time.Now().Add(last + 20*time.Second)
	count := func() int {
		c := 0
		for _, d := range ds {
			c += len(d.log.filter(func(l *logLine) bool { return l.Msg == "escalation exhausted: nobody acknowledged" }))
		}
		return c
	}
	for count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d incidents ran out their plan in time", count(), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if redisURL == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := store.Open(ctx, redisURL, "")
	if err != nil {
		t.Fatalf("open the replicas' Redis: %v", err)
	}
	defer st.Close()
	for {
		pending, err := st.Pending(ctx)
		if err != nil {
			t.Fatalf("count pending timers: %v", err)
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d timers still pending after every plan ran out", pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkSchedule checks each step against the incident's timeline: it fired
// no earlier than escalateAfter after the step before it (the first one: no
// earlier than the incident's creation), and no later than late after that;
// and its page went out no later than late after the step fired. Checking
// each hop, rather than offsets from the creation, keeps a slow machine's
// delays from adding up into a false alarm. It returns when each page was
// due and how long after that it went out.
func checkSchedule(t *testing.T, addr string, got map[page]sent, p plan, late time.Duration) map[page]timing {
	t.Helper()
	ids := map[int64]bool{}
	for pg := range got {
		ids[pg.Incident] = true
	}
	var firing, sending []time.Duration
	out := map[page]timing{}
	for id := range ids {
		inc, err := getIncident(addr, id)
		if err != nil {
			t.Errorf("incident %d: %v", id, err)
			continue
		}
		due := inc.CreatedAt
		for _, ev := range inc.events("step_fired") {
			r, _ := strconv.Atoi(ev.Detail["round"])
			st, _ := strconv.Atoi(ev.Detail["step"])
			pg := page{Incident: id, Round: r - 1, Step: st - 1}
			if pg.Step >= 0 && pg.Step < len(p.Steps) {
				pg.User = p.Steps[pg.Step]
			}
			d := ev.At.Sub(due)
			firing = append(firing, d)
			switch {
			case d < 0:
				t.Errorf("%s fired %s before it was due: escalated early", pg, (-d).Round(time.Millisecond))
			case d > late:
				t.Errorf("%s fired %s after it was due (more than %s)", pg, d.Round(time.Millisecond), late)
			}
			if s, ok := got[pg]; ok {
				out[pg] = timing{Due: due, Delay: s.Time.Sub(due)}
				d := s.Time.Sub(ev.At)
				sending = append(sending, d)
				if d > late {
					t.Errorf("%s sent %s after its step fired (more than %s)", pg, d.Round(time.Millisecond), late)
				}
			}
			due = ev.At.Add(p.Every)
		}
	}
	t.Logf("steps fired after due: %s; pages sent after their step fired: %s", spread(firing), spread(sending))
	return out
}

// timing is when a page was due (its step's) and how late it went out.
type timing struct {
	Due   time.Time
	Delay time.Duration
}

// spread summarises durations as median, p99 and max.
func spread(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	slices.Sort(ds)
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("median %s, p99 %s, max %s", r(ds[len(ds)/2]), r(ds[len(ds)*99/100]), r(ds[len(ds)-1]))
}
