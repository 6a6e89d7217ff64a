package router

import (
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/store"
)

// TestConsoleRunsTheIncident: on the incident page, a responder takes a
// role, gives one to a person, frees one and adds a decision with report
// fields; each goes onto the timeline as the API's would (via console),
// and the page shows the holders and the fields. A note the API refuses is
// refused here with 400 and the reason, and nothing is written.
func TestConsoleRunsTheIncident(t *testing.T) {
	h, _ := rolesHarness(t, consoleRolesConfig)
	srv := consoleServer(t, h, slog.New(slog.DiscardHandler))
	id := pagedIncident(t, h, "Run")
	page := fmt.Sprintf("%s/console/incidents/%d", srv.URL, id)
	rei := signedInAs(t, "rei@example.com")
	_, _, body := rei.do(http.MethodGet, page, nil)
	for _, want := range []string{
		fmt.Sprintf(`<form method="post" action="/console/incidents/%d/role">`, id),
		fmt.Sprintf(`<form method="post" action="/console/incidents/%d/note" class="note">`, id),
		`<option value="">me (rei)</option>`, `<option value="-">nobody (free the role)</option>`,
		`<option value="comm">Comm</option>`, `<input type="checkbox" name="decision" value="true">`,
		`Action taken (provisional)<br><input name="action_provisional"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the incident page lacks %s", want)
		}
	}
	token := csrfInput.FindStringSubmatch(body)[1]
	for _, tc := range []struct {
		verb string
		form url.Values
		code int
		says string
	}{
		{"role", url.Values{"role": {"ic"}, "user": {""}}, 200, fmt.Sprintf("Incident #%d: IC is now rei.", id)},
		{"role", url.Values{"role": {"ic"}, "user": {""}}, 200, fmt.Sprintf("Incident #%d: IC already stood so; nothing changed.", id)},
		{"role", url.Values{"role": {"ops"}, "user": {"pat"}}, 200, fmt.Sprintf("Incident #%d: Ops is now pat.", id)},
		{"role", url.Values{"role": {"comm"}, "user": {"ada"}}, 200, fmt.Sprintf("Incident #%d: Comm is now ada.", id)},
		{"role", url.Values{"role": {"comm"}, "user": {"-"}}, 200, fmt.Sprintf("Incident #%d: nobody is Comm now.", id)},
		{"role", url.Values{"role": {"boss"}}, 400, fmt.Sprintf(`Incident #%d: role was refused: role "boss": unknown role`, id)},
		{"role", url.Values{"role": {"rec"}, "user": {"mallory"}}, 400, `user "mallory": not a configured user`},
		{"note", url.Values{"text": {"fail over to db-2"}, "decision": {"true"}, "impact": {"checkout"},
			"action_provisional": {"failed over"}}, 200, fmt.Sprintf("Incident #%d: the decision is on the timeline.", id)},
		{"note", url.Values{"text": {"db-1 disk full"}, "cause": {"logs filled the disk"}}, 200,
			fmt.Sprintf("Incident #%d: the note is on the timeline.", id)},
		{"note", url.Values{"text": {"  "}}, 400, fmt.Sprintf("Incident #%d: note was refused: bad note: the note has no text", id)},
		{"note", url.Values{"text": {"x"}, "impact": {"two\nlines"}}, 400, "impact holds the control character U+000A"},
	} {
		tc.form.Set("csrf_token", token)
		code, _, body := rei.do(http.MethodPost, page+"/"+tc.verb, tc.form)
		if code != tc.code || !strings.Contains(html.UnescapeString(body), tc.says) {
			t.Errorf("%s %v: %d, want %d saying %q\n%s", tc.verb, tc.form, code, tc.code, tc.says, body)
		}
	}
	eq(t, "timeline", h.runEvents(id, "role_assigned", "role_unassigned", "note"), []string{
		"role_assigned rei role=ic user=rei via=console",
		"role_assigned rei role=ops user=pat via=console",
		"role_assigned rei role=comm user=ada via=console",
		"role_unassigned rei previous=ada role=comm via=console",
		"note rei action_provisional=failed over decision=true impact=checkout text=fail over to db-2 via=console",
		"note rei cause=logs filled the disk text=db-1 disk full via=console",
	})
	want := store.ReportFields{Impact: "checkout", ActionProvisional: "failed over", Cause: "logs filled the disk"}
	if got := h.get(id).Report; got == nil || *got != want {
		t.Errorf("report %+v, want %+v", got, want)
	}
	_, _, body = rei.do(http.MethodGet, page, nil)
	for _, want := range []string{"<dt>IC</dt><dd>rei (rei)</dd>", "<dt>Ops</dt><dd>pat (pat)</dd>", "<dt>Impact</dt><dd>checkout</dd>",
		"<dt>Cause</dt><dd>logs filled the disk</dd>", "text=fail over to db-2"} {
		if !strings.Contains(body, want) {
			t.Errorf("the incident page does not show %s", want)
		}
	}
}
