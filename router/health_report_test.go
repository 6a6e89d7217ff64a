package router

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// reportConfig: infra keeps Tokyo time and default business hours; ada
// sleeps in Tokyo, ben in London (UTC in November). primary hands over
// Mondays 09:00 JST; backup is cat on weekdays only, so the policy the db
// route uses has nobody at its first step at weekends.
const reportConfig = `
global: {timezone: Asia/Tokyo, language: en, api_token: {value: report-token}}
time_intervals:
  - name: weekdays
    time_intervals:
      - weekdays: ['monday:friday']
        location: Asia/Tokyo
users:
  - {id: ada, name: Ada Lovelace, timezone: Asia/Tokyo, contacts: {sms: "+819000000001"}}
  - {id: ben, name: Ben, timezone: Europe/London, contacts: {sms: "+447700900002"}}
  - {id: cat, contacts: {sms: "+819000000003"}}
departments:
  - id: infra
    name: Infrastructure
    timezone: Asia/Tokyo
    escalation_policy: page
    rotations:
      - {id: primary, start: "2026-10-26 09:00", shift: 1w, members: [ada, ben]}
      - {id: backup, start: "2026-10-26 00:00", shift: 1w, members: [cat], active: [weekdays]}
    roles: {viewers: [cat]}
  - id: web
    escalation_policy: page
    rotations: [{id: webrot, start: "2026-10-26 09:00", shift: 1w, members: [cat]}]
escalation_policies:
  - {id: page, steps: [{targets: {rotations: [primary]}, escalate_after: 5m}, {targets: {users: [ada]}}]}
  - {id: backup-first, steps: [{targets: {rotations: [backup]}}]}
routes:
  - {name: db, matchers: ['team="db"'], department: infra, escalation_policy: backup-first}
default_route: {department: infra}
`

// The period: Monday 2 November 00:00 JST to Monday 9 November 00:00 JST.
var (
	reportFrom = time.Date(2026, 11, 1, 15, 0, 0, 0, time.UTC)
	reportTo   = time.Date(2026, 11, 8, 15, 0, 0, 0, time.UTC)
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func page(user, channel string, step int, at string) store.Delivery {
	return store.Delivery{Kind: store.DeliveryPage, Channel: channel, User: user, Step: step, At: utc(at)}
}

// seedReport writes the incidents the figures below are worked out from.
func seedReport(t *testing.T) (*Engine, store.Store) {
	t.Helper()
	cfg, err := config.Parse([]byte(reportConfig), "report.yml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "hikyaku.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	type seed struct {
		dept                     string
		created, acked, resolved string
		step                     int
		exhausted                bool
		deliveries               []store.Delivery
	}
	seeds := []seed{
		// Monday 10:00 JST: in business hours, 01:00 for ben in London.
		{dept: "infra", created: "2026-11-02T01:00:00Z", acked: "2026-11-02T01:02:00Z", resolved: "2026-11-02T01:30:00Z",
			deliveries: []store.Delivery{page("ben", "sms", 1, "2026-11-02T01:00:00Z"),
				{Kind: "page", Channel: "slack", Chat: "ops", Step: 1, At: utc("2026-11-02T01:00:00Z")},
				{Kind: "report", Channel: "email", User: "cat", At: utc("2026-11-02T01:30:00Z")}}},
		// Tuesday 23:00 JST: ada woken twice (an SMS, then a call).
		{dept: "infra", created: "2026-11-03T14:00:00Z", acked: "2026-11-03T14:10:00Z", resolved: "2026-11-03T15:00:00Z",
			deliveries: []store.Delivery{page("ada", "sms", 1, "2026-11-03T14:00:00Z"), page("ada", "voice", 1, "2026-11-03T14:05:00Z")}},
		// Wednesday 11:00 JST: business hours, 02:00 in London.
		{dept: "infra", created: "2026-11-04T02:00:00Z", acked: "2026-11-04T02:01:00Z", resolved: "2026-11-04T02:05:00Z",
			deliveries: []store.Delivery{page("ben", "slack", 1, "2026-11-04T02:00:00Z")}},
		// Friday 05:00 JST, never acknowledged, escalated to ada.
		{dept: "infra", created: "2026-11-05T20:00:00Z", resolved: "2026-11-06T00:00:00Z", step: 1,
			deliveries: []store.Delivery{page("ben", "sms", 1, "2026-11-05T20:00:00Z"), page("ada", "sms", 2, "2026-11-05T20:05:00Z")}},
		// Saturday 12:00 JST, still open, every step unanswered.
		{dept: "infra", created: "2026-11-07T03:00:00Z", step: 1, exhausted: true,
			deliveries: []store.Delivery{page("ben", "sms", 1, "2026-11-07T03:00:00Z"), page("ada", "sms", 2, "2026-11-07T03:05:00Z")}},
		// Not counted: just before and at the period's end, and another department.
		{dept: "infra", created: "2026-11-01T14:59:59Z", deliveries: []store.Delivery{page("ada", "sms", 1, "2026-11-01T14:59:59Z")}},
		{dept: "infra", created: "2026-11-08T15:00:00Z", deliveries: []store.Delivery{page("ada", "sms", 1, "2026-11-08T15:00:00Z")}},
		{dept: "web", created: "2026-11-04T03:00:00Z", deliveries: []store.Delivery{page("cat", "sms", 1, "2026-11-04T03:00:00Z")}},
	}
	ctx := context.Background()
	for i, s := range seeds {
		inc := store.Incident{Key: "r/" + s.created + s.dept, Status: store.StatusOpen, CreatedAt: utc(s.created),
			UpdatedAt: utc(s.created), Department: s.dept, Policy: "page",
			Escalation: store.Escalation{Step: s.step, Exhausted: s.exhausted}}
		if s.acked != "" {
			inc.Status, inc.AckedAt, inc.AckedBy = store.StatusAcked, utc(s.acked), "someone"
		}
		if s.resolved != "" {
			inc.Status, inc.ResolvedAt = store.StatusResolved, utc(s.resolved)
		}
		_, err := st.UpdateByKey(ctx, inc.Key, func(*store.Incident) (*store.Change, error) {
			c := inc
			return &store.Change{Incident: &c, Deliveries: s.deliveries}, nil
		})
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
	}
	return New(policies.Compile(cfg), Options{Store: st, Clock: &fakeClock{t: reportTo}, Owner: "test"}), st
}

func secs(v float64) *float64 { return &v }

func TestHealthReportFigures(t *testing.T) {
	e, _ := seedReport(t)
	r, err := e.HealthReport(context.Background(), "infra", reportFrom, reportTo)
	if err != nil {
		t.Fatal(err)
	}
	// Acks after 120 s, 600 s and 60 s: sorted 60, 120, 600; nearest rank
	// of n=3: p50 is rank 2, p90 rank 3.
	// Resolves after 1800, 3600, 300 and 14400 s: sorted 300, 1800, 3600,
	// 14400; of n=4, p50 is rank 2, p90 rank 4.
	checkInt := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %d, want %d", what, got, want)
		}
	}
	checkInt("incidents", r.Incidents, 5)
	checkInt("acknowledged", r.Acked, 3)
	checkInt("resolved", r.Resolved, 4)
	checkP := func(what string, got Percentiles, n int, p50, p90, top float64) {
		t.Helper()
		if got.Count != n || got.P50 == nil || *got.P50 != p50 || *got.P90 != p90 || *got.Max != top {
			b, _ := json.Marshal(got)
			t.Errorf("%s = %s, want count %d p50 %v p90 %v max %v", what, b, n, p50, p90, top)
		}
	}
	checkP("MTTA", r.MTTA, 3, 120, 600, 600)
	checkP("MTTR", r.MTTR, 4, 1800, 14400, 14400)
	// Eight pages to people (the chat post and the stakeholder mail are
	// none). Outside Mon–Fri 09–18 JST: all but the Monday and Wednesday mornings
	// (Monday and Wednesday mornings). At night in the person's own zone:
	// ben at 01:00, 02:00 and 03:00 London; ada at 23:00, 23:05, 05:05 Tokyo.
	checkInt("pages", r.Pages, 8)
	checkInt("outside business hours", r.PagesOutsideBusinessHours, 6)
	checkInt("at night", r.PagesAtNight, 6)
	checkInt("step 2 or later", r.ReachedStep2, 2)
	checkInt("exhausted", r.Exhausted, 1)
	want := []PersonHealth{
		// ada: primary Mon 00:00–09:00 JST (9 h); ben the rest of the week
		// (6 d 15 h = 159 h); cat backup Mon–Fri (120 h).
		{User: "ada", Name: "Ada Lovelace", Pages: 4, OutsideBusinessHours: 4, AtNight: 3, OnCallSeconds: 9 * 3600},
		{User: "ben", Name: "Ben", Pages: 4, OutsideBusinessHours: 2, AtNight: 3, OnCallSeconds: 159 * 3600},
		{User: "cat", Name: "cat", OnCallSeconds: 120 * 3600},
	}
	if len(r.People) != len(want) {
		t.Fatalf("people = %+v, want %+v", r.People, want)
	}
	for i := range want {
		if r.People[i] != want[i] {
			t.Errorf("person %d = %+v, want %+v", i, r.People[i], want[i])
		}
	}
	// backup-first (the db route's) has nobody from Saturday 00:00 JST to the end.
	if len(r.Gaps) != 1 || r.Gaps[0].Policy != "backup-first" || !r.Gaps[0].Start.Equal(utc("2026-11-06T15:00:00Z")) ||
		!r.Gaps[0].End.Equal(utc("2026-11-08T15:00:00Z")) || r.GapSeconds != 48*3600 {
		t.Errorf("gaps = %+v (%v s), want backup-first 2026-11-06T15:00Z to 2026-11-08T15:00Z (172800 s)", r.Gaps, r.GapSeconds)
	}
}

func TestHealthReportEmptyAndRefusals(t *testing.T) {
	e, _ := seedReport(t)
	r, err := e.HealthReport(context.Background(), "web", utc("2026-12-01T00:00:00Z"), utc("2026-12-02T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Incidents != 0 || r.MTTA.Count != 0 || r.MTTA.P50 != nil || len(r.Gaps) != 0 {
		t.Errorf("empty day: %+v", r)
	}
	if _, err := e.HealthReport(context.Background(), "nope", reportFrom, reportTo); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown department: %v", err)
	}
	if _, err := e.HealthReport(context.Background(), "infra", reportTo, reportFrom); err == nil {
		t.Error("reversed period accepted")
	}
}

func TestHealthReportGolden(t *testing.T) {
	e, _ := seedReport(t)
	r, err := e.HealthReport(context.Background(), "infra", reportFrom, reportTo)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct{ file, got string }{
		{"health-en.txt.golden", r.Text("en")},
		{"health-ja.txt.golden", r.Text("ja")},
		{"health-en.md.golden", r.Markdown("en")},
		{"health-ja.md.golden", r.Markdown("ja")},
	} {
		path := filepath.Join("testdata", g.file)
		if *updateGolden {
			if err := os.WriteFile(path, []byte(g.got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if g.got != string(want) {
			t.Errorf("%s differs:\n%s", g.file, g.got)
		}
	}
}

func TestHealthReportAPI(t *testing.T) {
	e, _ := seedReport(t)
	srv := httptest.NewServer((&Server{Engine: e}).Handler())
	defer srv.Close()
	get := func(q string) (int, string, string) {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/reports/health?"+q, nil)
		req.Header.Set("Authorization", "Bearer report-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), b.String()
	}
	period := "&from=" + url.QueryEscape("2026-11-02T00:00:00+09:00") + "&to=" + url.QueryEscape("2026-11-09T00:00:00+09:00")
	code, ctype, body := get("department=infra" + period)
	if code != 200 || ctype != "application/json" {
		t.Fatalf("json: %d %s %s", code, ctype, body)
	}
	var r HealthReport
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Incidents != 5 || r.Pages != 8 || *r.MTTR.P90 != 14400 {
		t.Fatalf("json: %v %s", err, body)
	}
	code, ctype, body = get("department=infra&format=markdown&lang=ja" + period)
	want, _ := os.ReadFile("testdata/health-ja.md.golden")
	if code != 200 || ctype != "text/markdown; charset=utf-8" || body != string(want) {
		t.Errorf("markdown ja: %d %s\n%s", code, ctype, body)
	}
	for _, tc := range []struct {
		q    string
		code int
		want string
	}{
		{"department=nope" + period, 404, `department "nope"`},
		{"department=infra", 400, "from: required"},
		{"department=infra&from=2026-11-09T00:00:00Z&to=2026-11-02T00:00:00Z", 400, "from must be before to"},
		{"department=infra&from=2025-01-01T00:00:00Z&to=2026-11-02T00:00:00Z", 400, "more than the 366 days"},
		{"department=infra&format=pdf" + period, 400, `format "pdf"`},
		{"department=infra&lang=fr" + period, 400, `lang "fr"`},
		{"department=infra&dept=x" + period, 400, `unknown parameter "dept"`},
	} {
		code, _, body := get(tc.q)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %q, want %d %q", tc.q, code, body, tc.code, tc.want)
		}
	}
}

func FuzzParseHealthReportQuery(f *testing.F) {
	for _, s := range []string{"department=infra&from=2026-11-02T00:00:00Z&to=2026-11-09T00:00:00Z",
		"department=a&from=2026-11-02T00:00:00%2B09:00&to=2026-11-03T00:00:00Z&format=text&lang=ja", "from=x", "a=%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		hq, err := ParseHealthReportQuery(q)
		if err != nil {
			return
		}
		if hq.Department == "" || !hq.From.Before(hq.To) || hq.To.Sub(hq.From) > maxReportSpan {
			t.Fatalf("%q accepted as %+v", raw, hq)
		}
		if hq.Format != "json" && hq.Format != "text" && hq.Format != "markdown" {
			t.Fatalf("%q: format %q", raw, hq.Format)
		}
	})
}

// TestHealthReportDocs keeps docs/reports.md honest: its JSON example is
// the report of the data above, and its text example the English golden.
func TestHealthReportDocs(t *testing.T) {
	doc, err := os.ReadFile("../docs/reports.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/reports.md has no ```json example")
	}
	e, _ := seedReport(t)
	r, err := e.HealthReport(context.Background(), "infra", reportFrom, reportTo)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.MarshalIndent(r, "", "  ")
	if strings.TrimSpace(example) != string(got) {
		t.Errorf("docs/reports.md's JSON example is not the report's:\n%s", got)
	}
	if !strings.Contains(string(doc), "```\n"+r.Text("en")+"```") {
		t.Error("docs/reports.md's text example is not the report's English text")
	}
	if !strings.Contains(string(doc), "```markdown\n"+r.Markdown("ja")+"```") {
		t.Error("docs/reports.md's Markdown example is not the report's Japanese Markdown")
	}
}
