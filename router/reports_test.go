package router

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/store"
)

// stakeholderReportConfig is runConfig with a Japanese stakeholder beside boss, an
// admin (carol) and responders (alice, bob) in the department.
var stakeholderReportConfig = strings.Replace(strings.Replace(runConfig,
	"  - {id: boss, contacts: {email: boss@example.com}}",
	"  - {id: boss, contacts: {email: boss@example.com}}\n  - {id: kumi, language: ja, contacts: {email: kumi@example.com}}", 1),
	"      users: [boss]\n      update_every: 30m",
	"      users: [boss, kumi]\n      update_every: 30m\n    roles: {admins: [carol], responders: [alice, bob]}", 1)

// reportsTo is the subject and text of every report message to addr, in order.
func (h *harness) reportsTo(addr string) string {
	var b strings.Builder
	for _, m := range h.sent.Messages() {
		if m.To == addr && m.Kind != channels.KindPage {
			b.WriteString("=== " + m.Subject + "\n" + m.Text + "\n")
		}
	}
	return b.String()
}

func (h *harness) informed(id int64) []string {
	h.t.Helper()
	var out []string
	for _, ev := range h.events(id, "stakeholders_informed") {
		out = append(out, ev.At.UTC().Format("15:04")+" "+ev.Detail["report"]+" "+ev.Detail["number"]+" next "+ev.Detail["next"])
	}
	return out
}

func (h *harness) advanceToUTC(hhmm string) {
	h.t.Helper()
	at, err := time.Parse(time.RFC3339, "2026-01-07T"+hhmm+":00Z")
	if err != nil {
		h.t.Fatal(err)
	}
	h.advance(at.Sub(h.clock.Now()))
}

// TestReportsContentAndTiming plays an incident on the fake clock: the
// initial report, the ack's update, an update with changes and Comm's
// draft, an extra report that moves the next periodic one, a period change
// that moves it again, and the final report, in English and Japanese; and
// a second incident resolved with no field known.
func TestReportsContentAndTiming(t *testing.T) {
	h := newHarness(t, stakeholderReportConfig)
	ctx := context.Background()
	id := h.post("firing", "g1", map[string]string{"alertname": "DiskFull", "instance": "db-1"})[0].ID
	h.advance(0) // 05:00Z, 06:00 CET: the initial report
	if _, _, err := h.engine.SetRole(ctx, RoleChange{Incident: id, Role: "comm", User: "bob", Actor: "alice", Via: "api"}); err != nil {
		t.Fatal(err)
	}
	h.advanceToUTC("05:10")
	if _, err := h.engine.Ack(ctx, id, "alice", "sms"); err != nil {
		t.Fatal(err)
	}
	h.advance(0) // the ack's update; the next moves to 05:40
	if _, err := h.engine.AddNote(ctx, Note{Incident: id, Text: "checkout is slow", Fields: NoteFields{Impact: "checkout (EU)"}, Actor: "alice", Via: "api"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.engine.ChangeSeverity(ctx, SeverityChange{Incident: id, Severity: "major", Reason: "only retries fail", Actor: "alice", Via: "api"}); err != nil {
		t.Fatal(err)
	}
	draft := "Failing over to db-2; customers may see errors."
	if _, err := h.engine.ChangeReports(ctx, ReportChange{Incident: id, Draft: &draft, Actor: "bob", Via: "api"}); err != nil {
		t.Fatal(err)
	}
	h.advanceToUTC("05:40") // update 3, with the changes and the draft
	h.advanceToUTC("05:50")
	if _, err := h.engine.ChangeReports(ctx, ReportChange{Incident: id, SendNow: true, Actor: "bob", Via: "api"}); err != nil {
		t.Fatal(err)
	}
	h.advance(0)            // the extra report 4; the next moves from 06:10 to 06:20
	h.advanceToUTC("06:10") // nothing: moved
	h.advanceToUTC("06:20") // update 5
	h.advanceToUTC("06:25")
	if _, err := h.engine.ChangeReports(ctx, ReportChange{Incident: id, Period: 15 * time.Minute, Actor: "carol", Via: "api"}); err != nil {
		t.Fatal(err)
	}
	h.advanceToUTC("06:35") // update 6: 06:20 + 15m
	if _, err := h.engine.AddNote(ctx, Note{Incident: id, Text: "root cause found", Fields: NoteFields{Cause: "log rotation was off",
		ActionProvisional: "failed over to db-2", ActionPermanent: "log rotation on every db", Prevention: "OPS-42"}, Actor: "alice", Via: "api"}); err != nil {
		t.Fatal(err)
	}
	h.advanceToUTC("06:40")
	if _, err := h.engine.Resolve(ctx, id, "alice", "api"); err != nil {
		t.Fatal(err)
	}
	h.advance(0)
	eq(t, "reports sent", h.informed(id), []string{
		"05:00 initial 1 next 2026-01-07T05:30:00Z",
		"05:10 update 2 next 2026-01-07T05:40:00Z",
		"05:40 update 3 next 2026-01-07T06:10:00Z",
		"05:50 update 4 next 2026-01-07T06:20:00Z",
		"06:20 update 5 next 2026-01-07T06:50:00Z",
		"06:35 update 6 next 2026-01-07T06:50:00Z",
	})
	if got := h.runEvents(id, "report_period_changed"); len(got) != 1 || got[0] != "report_period_changed carol next=2026-01-07T06:35:00Z period=15m0s seconds=900 via=api" {
		t.Errorf("period change: %q", got)
	}

	// A second incident resolved before anyone said anything.
	blank := h.post("firing", "g2", map[string]string{"alertname": "Quiet"})[0].ID
	h.advance(0)
	h.advanceToUTC("06:45")
	if _, err := h.engine.Resolve(ctx, blank, "alice", "api"); err != nil {
		t.Fatal(err)
	}
	h.advance(0)

	for _, c := range []struct{ addr, golden string }{{"boss@example.com", "testdata/reports-en.golden"}, {"kumi@example.com", "testdata/reports-ja.golden"}} {
		got := h.reportsTo(c.addr)
		if *updateGolden {
			if err := os.WriteFile(c.golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(c.golden)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("reports to %s differ from %s:\n%s", c.addr, c.golden, got)
		}
	}
}

// TestReportActionsAreCommsOrAdmins: the Comm holder and a department admin
// may; another responder and the shared token get 403 and a refused event.
func TestReportActionsAreCommsOrAdmins(t *testing.T) {
	h := newHarness(t, stakeholderReportConfig)
	s := &Server{Engine: h.engine}
	srv := httptest.NewServer(s.Handler())
	admin := httptest.NewServer(s.AdminHandler())
	t.Cleanup(srv.Close)
	t.Cleanup(admin.Close)
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	h.advance(0)
	if _, _, err := h.engine.SetRole(context.Background(), RoleChange{Incident: id, Role: "comm", User: "bob", Actor: "alice", Via: "api"}); err != nil {
		t.Fatal(err)
	}
	call := func(token, method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+"/api/v1/incidents/1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
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
		return resp.StatusCode, b.String()
	}
	bob, carol, alice := createToken(t, admin.URL, "bob").Token, createToken(t, admin.URL, "carol").Token, createToken(t, admin.URL, "alice").Token
	for _, c := range []struct {
		token, method, path, body string
		code                      int
		want                      string
	}{
		{bob, "POST", "/reports", `{"send_now":true}`, 200, `"sent": 2`},
		{carol, "PUT", "/reports/draft", `{"text":"working on it"}`, 200, `"draft": "working on it"`},
		{bob, "PUT", "/reports/period", `{"period":"20m"}`, 200, `"period_s": 1200`},
		{alice, "POST", "/reports", `{"send_now":true}`, 403, "Only the Comm of incident #1 (bob) or an admin of eng"},
		{alice, "PUT", "/reports/period", `{"period":"20m"}`, 403, "Only the Comm"},
		{"test-api-token", "PUT", "/reports/draft", `{"text":"x"}`, 403, "Only the Comm"},
		{bob, "PUT", "/reports/period", `{"period":"10s"}`, 400, `period "10s": want 1m to 24h`},
		{bob, "PUT", "/reports/period", `{"period":"soon"}`, 400, `period "soon"`},
		{bob, "POST", "/reports", `{}`, 400, "send_now"},
		{bob, "PUT", "/reports/draft", `{"txt":"x"}`, 400, "unknown field"},
	} {
		code, body := call(c.token, c.method, c.path, c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s %s %s: %d %s; want %d with %q", c.method, c.path, c.body, code, body, c.code, c.want)
		}
	}
	if n := len(h.events(id, "refused")); n != 3 {
		t.Errorf("%d refused events, want 3", n)
	}
	if _, err := h.engine.Resolve(context.Background(), id, "alice", "api"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.engine.ChangeReports(context.Background(), ReportChange{Incident: id, SendNow: true, Actor: "bob", Via: "api"}); !errors.Is(err, ErrResolved) {
		t.Errorf("a report on a resolved incident: %v, want ErrResolved", err)
	}
	_ = store.StatusResolved
}
