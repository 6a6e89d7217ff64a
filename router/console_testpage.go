package router

import (
	"net/http"
	"strings"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/config"
)

// My on-call's "send me a test page" buttons: one per contact method and
// one for the notification rules, each a CSRF-checked form that goes
// through Engine.TestPage as POST /api/v1/test-pages does, so the roles,
// the audit line, the record and the MTTA exclusion are the API's.

const testPageSection = `{{define "testpage"}}<h2>{{.Heading}}</h2>
{{if .Notice}}<p role="status"><strong>{{.Notice}}</strong></p>{{end}}
<p class="muted">{{.Explain}}</p>
{{range .Buttons}}<form method="post" action="{{$.Action}}"><input type="hidden" name="csrf_token" value="{{$.CSRF}}"><input type="hidden" name="channel" value="{{.Value}}"><button>{{.Text}}</button></form>
{{end}}{{end}}`

type myTestView struct {
	Show                                   bool
	Heading, Notice, Explain, Action, CSRF string
	Buttons                                []formOption
}

// testPageSection offers the buttons to whom the roles let test-page
// themselves (everyone configured, today), one per contact method the
// person has and one for their rules when they have some.
func (s *Server) testPageSection(id access.Identity, t catalog.For, notice string) myTestView {
	cfg := s.Engine.Policies().Config()
	v := myTestView{Heading: t.T("console.test_page"), Notice: notice, Explain: t.T("console.test_explain"),
		Action: s.Auth.Path("/console/me/test-page"), CSRF: s.Auth.CSRFToken(id.Session)}
	u := cfg.User(id.User)
	if u == nil || !access.Decide(cfg, access.Request{User: id.User, Action: access.TestPage, Target: id.User}).Allowed {
		v.Show = notice != ""
		return v
	}
	if len(u.Notify) > 0 {
		v.Buttons = append(v.Buttons, formOption{"", t.T("console.test_rules")})
	}
	for _, spec := range cfg.Channels() {
		if u.Contacts.Has(spec.Name) {
			v.Buttons = append(v.Buttons, formOption{string(spec.Name), t.T("console.test_on", spec.Name)})
		}
	}
	v.Show = len(v.Buttons) > 0 || notice != ""
	return v
}

// consoleTestPage is POST /console/me/test-page: a test page to the
// signed-in person on channel, or by their notification rules without one.
func (s *Server) consoleTestPage(w http.ResponseWriter, r *http.Request) {
	id, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	lang, _, _ := s.viewer(id)
	t := catalog.For(lang)
	channel := r.PostFormValue("channel")
	ctx := WithAuditSource(r.Context(), AuditSource{Addr: r.RemoteAddr, User: id.User})
	inc, err := s.Engine.TestPage(ctx, TestPageRequest{Actor: id.User, User: id.User, Channel: channel, Via: "console"})
	if err != nil {
		why, code := s.formError(err, id.User)
		s.renderMePage(w, r, id, meNotes{Test: t.T("console.test_failed", why)}, code)
		return
	}
	notice := t.T("console.test_sent", inc.ID, channel)
	if channel == "" {
		notice = t.T("console.test_sent_rules", inc.ID, strings.Join(ruleChannels(s.Engine.Policies().Config().User(id.User)), ", "))
	}
	s.renderMePage(w, r, id, meNotes{Test: notice}, http.StatusOK)
}

// ruleChannels are the channels of a person's notification rules, in the
// rules' order, each once.
func ruleChannels(u *config.User) []string {
	var out []string
	seen := map[config.Channel]bool{}
	if u == nil {
		return nil
	}
	for _, rule := range u.Notify {
		for _, c := range rule.Channels {
			if !seen[c] {
				seen[c] = true
				out = append(out, string(c))
			}
		}
	}
	return out
}
