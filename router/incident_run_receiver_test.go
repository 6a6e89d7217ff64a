package router

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/store"
)

// TestRunFromChannelsFollowsTheRoles: taking a role and adding a note
// from Slack, email and the console go through channels.Receiver and the
// same rule as an ack (access.Run): admins, responders and whoever the
// incident paged may; a viewer, an outsider and a stranger are refused
// with the reason in their language, a refused event and nothing changed.
func TestRunFromChannelsFollowsTheRoles(t *testing.T) {
	h, _ := rolesHarness(t, rolesConfig)
	r := h.engine.Receiver()
	for _, via := range []string{"slack", "email"} {
		for _, verb := range []channels.Verb{channels.TakeRole, channels.AddNote} {
			for _, p := range matrixRoles {
				name := fmt.Sprintf("%s/%s/%s", via, verb, p.user)
				id := pagedIncident(t, h, name)
				a := channels.Action{Incident: id, Verb: verb, User: p.user, Via: via, Dedup: name, Role: "ops",
					Note: channels.NoteText{Text: "db-1 is full", Decision: true}}
				res, err := channels.ActOnce(t.Context(), r, a, time.Hour)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				inc := h.get(id)
				if p.refusal == "" {
					if res.Outcome != channels.Done || res.Retry {
						t.Errorf("%s: %+v, want done", name, res)
					}
					got := h.runEvents(id, "role_assigned", "note")
					want := fmt.Sprintf("role_assigned %s role=ops user=%s via=%s", p.user, p.user, via)
					if verb == channels.AddNote {
						want = fmt.Sprintf("note %s decision=true text=db-1 is full via=%s", p.user, via)
					}
					eq(t, name, got, []string{want})
					// The provider's retry of the same request is answered
					// as the first and writes nothing.
					again, err := channels.ActOnce(t.Context(), r, a, time.Hour)
					if err != nil || again.Outcome != channels.Done || !again.Retry {
						t.Errorf("%s: the retry: %+v %v, want done as a retry", name, again, err)
					}
					eq(t, name+" after the retry", h.runEvents(id, "role_assigned", "note"), []string{want})
					continue
				}
				want := p.refusal
				if strings.Contains(want, "%d") {
					want = fmt.Sprintf(want, id)
				}
				if res.Outcome != channels.Forbidden || res.Reason != want {
					t.Errorf("%s: %s %q, want forbidden %q", name, res.Outcome, res.Reason, want)
				}
				if inc.Roles != nil || inc.Report != nil {
					t.Errorf("%s: a refused request changed roles %v or report %+v", name, inc.Roles, inc.Report)
				}
				eq(t, name, h.runEvents(id, "refused"), []string{fmt.Sprintf("refused %s reason=%s verb=%s via=%s", p.user,
					matrixEnglish(p.user, id), map[channels.Verb]string{channels.TakeRole: "assign", channels.AddNote: "note"}[verb], via)})
			}
		}
	}
}

// TestRunFromChannelsRefusesBadContent: a note the API would refuse is
// refused from a channel too, with the reason, and a role already held by
// the person changes nothing.
func TestRunFromChannelsRefusesBadContent(t *testing.T) {
	h, _ := rolesHarness(t, rolesConfig)
	r := h.engine.Receiver()
	id := pagedIncident(t, h, "bad")
	for _, tc := range []struct {
		a    channels.Action
		want channels.Outcome
		why  string
	}{
		{channels.Action{Verb: channels.AddNote, Note: channels.NoteText{Text: " \n "}}, channels.Invalid, "bad note: the note has no text"},
		{channels.Action{Verb: channels.AddNote, Note: channels.NoteText{Text: strings.Repeat("x", maxNoteText+1)}}, channels.Invalid,
			"bad note: text has 4001 characters, at most 4000"},
		{channels.Action{Verb: channels.TakeRole, Role: "boss"}, channels.Invalid, `role "boss": unknown role: want ic, ops, comm or rec`},
		{channels.Action{Verb: channels.TakeRole, Role: "ic"}, channels.Done, ""},
		{channels.Action{Verb: channels.TakeRole, Role: "ic"}, channels.Unchanged, ""},
		{channels.Action{Verb: channels.AddNote, Incident: 99, Note: channels.NoteText{Text: "x"}}, channels.NotFound, ""},
	} {
		tc.a.User, tc.a.Via = "rei", "slack"
		if tc.a.Incident == 0 {
			tc.a.Incident = id
		}
		res, err := r.Act(t.Context(), tc.a)
		if err != nil || res.Outcome != tc.want || res.Reason != tc.why {
			t.Errorf("%s %q %.20q: %s %q %v, want %s %q", tc.a.Verb, tc.a.Role, tc.a.Note.Text, res.Outcome, res.Reason, err, tc.want, tc.why)
		}
	}
	eq(t, "timeline", h.runEvents(id, "role_assigned", "note"), []string{"role_assigned rei role=ic user=rei via=slack"})
}

// TestRunThroughTheAPIFollowsTheRoles: with roles, a viewer's and an
// outsider's own tokens are refused 403 with the reason on roles, notes
// and severity; a responder's act.
func TestRunThroughTheAPIFollowsTheRoles(t *testing.T) {
	h, _ := rolesHarness(t, rolesConfig)
	srv := httptest.NewServer((&Server{Engine: h.engine}).Handler())
	t.Cleanup(srv.Close)
	id := pagedIncident(t, h, "api")
	base := fmt.Sprintf("%s/api/v1/incidents/%d", srv.URL, id)
	for _, p := range []struct{ user, why string }{
		{"vic", "You are a viewer in eng: viewers read, they do not act. Nothing was changed."},
		{"oto", fmt.Sprintf("Incident #%d belongs to eng, where you have no role, and did not page you: nothing was changed.", id)},
		{"rei", ""},
	} {
		tok := createToken(t, srv.URL, p.user).Token
		for _, r := range []struct{ path, body string }{
			{"/roles", `{"role":"rec","user":"` + p.user + `"}`},
			{"/notes", `{"text":"x"}`},
			{"/severity", `{"severity":"major","reason":"` + p.user + `"}`},
		} {
			code, body := do(t, "POST", base+r.path, tok, []byte(r.body))
			switch {
			case p.why == "" && code != 200:
				t.Errorf("%s %s: %d %s, want 200", p.user, r.path, code, body)
			case p.why != "" && (code != 403 || !strings.Contains(body, p.why)):
				t.Errorf("%s %s: %d %s, want 403 saying %q", p.user, r.path, code, body, p.why)
			}
		}
	}
	inc := h.get(id)
	if inc.Roles["rec"] != "rei" || len(inc.Roles) != 1 || CurrentSeverity(inc) != "major" || inc.Report.SeverityReason != "rei" {
		t.Errorf("roles %v, report %+v: want only rei's changes", inc.Roles, inc.Report)
	}
	if got := len(h.runEvents(id, "refused")); got != 6 {
		t.Errorf("%d refused events, want 6", got)
	}
}

// TestNoteFromChannelsSetsReportFields: the report fields an email or
// Slack note's field lines set reach the incident's report and the note
// event, as the API's do; a field left out keeps its value, and a field
// the API would refuse refuses the whole note.
func TestNoteFromChannelsSetsReportFields(t *testing.T) {
	h, _ := rolesHarness(t, rolesConfig)
	r := h.engine.Receiver()
	id := pagedIncident(t, h, "fields")
	for _, a := range []channels.Action{
		{Via: "email", Dedup: "email:1", Note: channels.NoteText{Text: "failed over", Fields: channels.NoteFields{Impact: "checkout",
			Cause: "disk full", ActionProvisional: "db-2"}}},
		{Via: "slack", Dedup: "slack:event:2", Note: channels.NoteText{Text: "恒久対応を決定", Decision: true,
			Fields: channels.NoteFields{ActionPermanent: "容量監視", Prevention: "OPS-123", Impact: "決済"}}},
	} {
		a.Incident, a.Verb, a.User = id, channels.AddNote, "rei"
		if res, err := channels.ActOnce(t.Context(), r, a, time.Hour); err != nil || res.Outcome != channels.Done {
			t.Fatalf("%s: %+v %v", a.Via, res, err)
		}
	}
	rep := h.get(id).Report
	if rep == nil || *rep != (store.ReportFields{Impact: "決済", Cause: "disk full", ActionProvisional: "db-2",
		ActionPermanent: "容量監視", Prevention: "OPS-123"}) {
		t.Errorf("report %+v", rep)
	}
	eq(t, "notes", h.runEvents(id, "note"), []string{
		"note rei action_provisional=db-2 cause=disk full impact=checkout text=failed over via=email",
		"note rei action_permanent=容量監視 decision=true impact=決済 prevention=OPS-123 text=恒久対応を決定 via=slack"})

	res, err := r.Act(t.Context(), channels.Action{Incident: id, Verb: channels.AddNote, User: "rei", Via: "email",
		Note: channels.NoteText{Text: "x", Fields: channels.NoteFields{Cause: strings.Repeat("長", maxNoteField+1)}}})
	if err != nil || res.Outcome != channels.Invalid || res.Reason != "bad note: cause has 1001 characters, at most 1000" {
		t.Errorf("a too long field: %+v %v", res, err)
	}
	if got := h.get(id).Report.Cause; got != "disk full" {
		t.Errorf("a refused note changed the cause to %q", got)
	}

	// A severity line sets the current severity as the API's change does,
	// after the note; a bad one, or one without a reason, refuses the note.
	for _, tc := range []struct {
		sev, reason, why string
	}{
		{"ma jor", "x", `bad note: severity "ma jor": use 1 to 32 letters, digits, '.', '_' or '-'`},
		{"major", " ", "bad note: a severity change needs a reason"},
	} {
		res, err := r.Act(t.Context(), channels.Action{Incident: id, Verb: channels.AddNote, User: "rei", Via: "email",
			Note: channels.NoteText{Text: "y", Severity: tc.sev, SeverityReason: tc.reason}})
		if err != nil || res.Outcome != channels.Invalid || res.Reason != tc.why {
			t.Errorf("severity %q reason %q: %+v %v, want invalid %q", tc.sev, tc.reason, res, err, tc.why)
		}
	}
	a := channels.Action{Incident: id, Verb: channels.AddNote, User: "rei", Via: "slack", Dedup: "slack:event:3",
		Note: channels.NoteText{Text: "only retries fail", Severity: "major", SeverityReason: "only retries fail"}}
	for range 2 { // the provider's retry sets it once
		if res, err := channels.ActOnce(t.Context(), r, a, time.Hour); err != nil || res.Outcome != channels.Done {
			t.Fatalf("the severity note: %+v %v", res, err)
		}
	}
	if inc := h.get(id); CurrentSeverity(inc) != "major" || inc.Report.SeverityReason != "only retries fail" || inc.Report.Cause != "disk full" {
		t.Errorf("report after the severity note: %+v", inc.Report)
	}
	eq(t, "severity", h.runEvents(id, "severity_changed"), []string{
		"severity_changed rei from=unknown reason=only retries fail to=major via=slack"})
	if n := len(h.runEvents(id, "note")); n != 3 {
		t.Errorf("%d notes, want the 2 before and the severity note once", n)
	}
}
