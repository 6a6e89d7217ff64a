package router

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateGolden = flag.Bool("update", false, "rewrite the testdata/*.golden files")

// runIncident plays an incident on the fake clock: paged, acknowledged by
// alice (who becomes IC), roles, a decision, a severity change, the cause,
// resolved 25 minutes after it opened.
func runIncident(t *testing.T) (*harness, string) {
	t.Helper()
	h, api, tokenOf := newRunServerWithTokens(t)
	id := h.post("firing", "g1", map[string]string{"alertname": "DiskFull", "severity": "critical"})[0].ID
	h.advance(0)
	h.advance(2 * time.Minute)
	if _, err := h.engine.Ack(context.Background(), id, "alice", "sms"); err != nil {
		t.Fatal(err)
	}
	h.advance(0)
	steps := []struct {
		after      time.Duration
		path, body string // path?by=USER: the user whose token posts it
	}{
		{3 * time.Minute, "/1/roles?by=alice", `{"role":"ops","user":"bob"}`},
		{time.Minute, "/1/notes?by=alice", `{"text":"fail over to db-2","decision":true,"action_provisional":"failed over to db-2","impact":"checkout"}`},
		{2 * time.Minute, "/1/severity?by=alice", `{"severity":"major","reason":"only retries fail"}`},
		{12 * time.Minute, "/1/notes?by=bob", `{"text":"disk | full *again*\nsee <dashboard>","cause":"log rotation off","prevention":"OPS-7"}`},
		{5 * time.Minute, "/1/resolve?by=alice", ``},
	}
	for _, s := range steps {
		h.advance(s.after)
		path, as, _ := strings.Cut(s.path, "?by=")
		if code, body := do(t, "POST", api+path, tokenOf(as), []byte(s.body)); code != 200 {
			t.Fatalf("POST %s: %d %s", s.path, code, body)
		}
	}
	h.advance(0)
	return h, api
}

func TestTimelineMarkdownGolden(t *testing.T) {
	_, api := runIncident(t)
	for _, lang := range []string{"en", "ja"} {
		code, body := do(t, "GET", api+"/1/timeline?format=markdown&lang="+lang, "test-api-token", nil)
		if code != 200 {
			t.Fatalf("%s: %d %s", lang, code, body)
		}
		golden := filepath.Join("testdata", "timeline-"+lang+".golden")
		if *updateGolden {
			if err := os.WriteFile(golden, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if body != string(want) {
			t.Errorf("%s Markdown differs from %s:\n%s", lang, golden, body)
		}
	}
}

func TestTimelineJSONFigures(t *testing.T) {
	_, api := runIncident(t)
	code, body := do(t, "GET", api+"/1/timeline", "test-api-token", nil)
	var p Postmortem
	if err := json.Unmarshal([]byte(body), &p); code != 200 || err != nil {
		t.Fatalf("%d %v %s", code, err, body)
	}
	f := p.Figures
	if f.TimeToAcknowledge == nil || *f.TimeToAcknowledge != 120 || f.TimeToResolve == nil || *f.TimeToResolve != 25*60 ||
		f.PeoplePaged != 1 || f.StepsFired != 1 || f.ReportsSent != 3 {
		t.Errorf("figures %s, want ack 120 s, resolve 1500 s, 1 paged, 1 step, 3 reports", mustJSON(f))
	}
	if p.TimeZone != "Europe/Berlin" || p.OpenedAt != "2026-01-07 06:00:00 CET" {
		t.Errorf("zone %s, opened %s; want Europe/Berlin, 2026-01-07 06:00:00 CET", p.TimeZone, p.OpenedAt)
	}
	if p.Severity != (SeverityView{Provisional: "critical", Current: "major", Reason: "only retries fail"}) {
		t.Errorf("severity %+v", p.Severity)
	}
	if len(p.Decisions) != 1 || p.Decisions[0].Time != "2026-01-07 06:06:00 CET" || p.Decisions[0].Actor != "alice" {
		t.Errorf("decisions %s", mustJSON(p.Decisions))
	}
	for i := 1; i < len(p.Events); i++ {
		if p.Events[i].At.Before(p.Events[i-1].At) {
			t.Errorf("event %d (%s) is before event %d", i, p.Events[i].Time, i-1)
		}
	}
	for _, tc := range []struct {
		query string
		code  int
		want  string
	}{
		{"?format=pdf", 400, `format "pdf": want json or markdown`},
		{"?lang=fr", 400, `lang "fr": want one of en, ja`},
	} {
		if code, body := do(t, "GET", api+"/1/timeline"+tc.query, "test-api-token", nil); code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s", tc.query, code, body)
		}
	}
	if code, _ := do(t, "GET", api+"/9/timeline", "test-api-token", nil); code != 404 {
		t.Errorf("unknown incident: %d, want 404", code)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
