package router

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
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
