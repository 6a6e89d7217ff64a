package router

import (
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// consoleRolesConfig is rolesConfig with an external URL and an email for
// each person, so the trusted proxy signs them in: eng's admin ada, responder rei and viewer
// vic (Japanese); db's responders pat, whom eng's policy pages, and oto,
// whom nothing pages.
var consoleRolesConfig = strings.NewReplacer(
	`{id: ada, contacts: {sms: "+819000000001"}}`, `{id: ada, contacts: {sms: "+819000000001", email: ada@example.com}}`,
	`{id: rei, contacts: {sms: "+819000000002"}}`, `{id: rei, contacts: {sms: "+819000000002", email: rei@example.com}}`,
	`{id: pat, contacts: {sms: "+819000000003"}}`, `{id: pat, contacts: {sms: "+819000000003", email: pat@example.com}}`,
	`{id: oto, contacts: {sms: "+819000000004"}}`, `{id: oto, contacts: {sms: "+819000000004", email: oto@example.com}}`,
	`{id: vic, language: ja, contacts: {sms: "+819000000005"}}`, `{id: vic, language: ja, contacts: {sms: "+819000000005", email: vic@example.com}}`,
	// external_url turns on the forms that make links (My on-call's
	// calendar link); http, so the test's cookie jar keeps the session.
	"global:\n", "global:\n  external_url: http://hikyaku.example.com\n",
).Replace(rolesConfig) + consoleSignIn

// consoleServer serves h's console with the trusted proxy sign-in, its
// sign-in and CSRF lines logged to log.
func consoleServer(t *testing.T, h *harness, log *slog.Logger) *httptest.Server {
	t.Helper()
	auth, err := access.New(access.Options{SignIn: h.engine.Policies().Config().SignIn, Key: []byte("0123456789abcdef0123456789abcdef"),
		Config: func() *config.Config { return h.engine.Policies().Config() }, Now: h.clock.Now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Engine: h.engine, Auth: auth}).PublicHandler())
	t.Cleanup(srv.Close)
	return srv
}

func signedInAs(t *testing.T, email string) *proxyClient {
	jar, _ := cookiejar.New(nil)
	return &proxyClient{t: t, http: &http.Client{Jar: jar}, email: email}
}

var (
	hrefAttr = regexp.MustCompile(`href="(/[^"]*)"`)
	formTag  = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	attrOf   = func(name string) *regexp.Regexp { return regexp.MustCompile(`\b` + name + `="([^"]*)"`) }
	methodA  = attrOf("method")
	actionA  = attrOf("action")
)

// crawl GETs every console page reachable by links from "/" (not the
// sign-in paths) and returns each page's body by path, so a page added
// later and linked from the others is covered without naming it here.
func crawl(t *testing.T, c *proxyClient, base string) map[string]string {
	t.Helper()
	pages := map[string]string{}
	queue := []string{"/"}
	for len(queue) > 0 && len(pages) < 200 {
		p := queue[0]
		queue = queue[1:]
		if _, seen := pages[p]; seen {
			continue
		}
		code, _, body := c.do(http.MethodGet, base+p, nil)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d, want 200 (linked from the console)", p, code)
		}
		pages[p] = body
		for _, m := range hrefAttr.FindAllStringSubmatch(body, -1) {
			link := html.UnescapeString(m[1])
			if !strings.HasPrefix(link, "/auth/") && !strings.HasPrefix(link, "/api/") {
				queue = append(queue, link)
			}
		}
	}
	return pages
}

// postForms are the POST forms of pages: action to the page it is on.
func postForms(t *testing.T, pages map[string]string) map[string]string {
	t.Helper()
	forms := map[string]string{}
	for p, body := range pages {
		for _, f := range formTag.FindAllStringSubmatch(body, -1) {
			m := methodA.FindStringSubmatch(f[1])
			if m == nil || !strings.EqualFold(m[1], "post") {
				continue
			}
			a := actionA.FindStringSubmatch(f[1])
			if a == nil {
				t.Errorf("a POST form on %s without an action: %s", p, f[0])
				continue
			}
			if !strings.Contains(f[2], `name="csrf_token"`) {
				t.Errorf("the form posting to %s on %s carries no csrf_token", a[1], p)
			}
			forms[html.UnescapeString(a[1])] = p
		}
	}
	return forms
}

// TestConsoleFormsRefuseWithoutCSRF: every POST form on every console page
// (found by following the pages' links, so new forms are covered) is
// refused with 403 by the CSRF check, before its handler runs, when its
// token is missing, garbage, or another session's; nothing changes.
func TestConsoleFormsRefuseWithoutCSRF(t *testing.T) {
	h, logs := rolesHarness(t, consoleRolesConfig)
	srv := consoleServer(t, h, slog.New(slog.NewTextHandler(logs, nil)))
	id := pagedIncident(t, h, "CSRF")
	// A stored cover and mute, so My on-call also has their remove and
	// end forms.
	now := h.clock.Now()
	cover, err := h.engine.AddOverride(t.Context(), "ada", CoverRequest{For: "rei", By: "ada", Start: now.Add(time.Hour), End: now.Add(2 * time.Hour), Reason: "dentist"})
	if err != nil {
		t.Fatal(err)
	}
	mute, err := h.engine.StartMute(t.Context(), "ada", MuteRequest{Department: "eng", For: time.Hour, Reason: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	ada := signedInAs(t, "ada@example.com")
	pages := crawl(t, ada, srv.URL)
	forms := postForms(t, pages)
	var actions []string
	for a := range forms {
		actions = append(actions, a)
	}
	slices.Sort(actions)
	t.Logf("%d pages, POST forms: %v", len(pages), actions)
	// The forms known today must be among those found, or the crawl
	// proves nothing.
	for _, want := range []string{"/auth/sign-out", fmt.Sprintf("/console/incidents/%d/ack", id),
		fmt.Sprintf("/console/incidents/%d/resolve", id), fmt.Sprintf("/console/incidents/%d/escalate", id),
		fmt.Sprintf("/console/incidents/%d/role", id), fmt.Sprintf("/console/incidents/%d/note", id), "/console/me/calendar",
		"/console/me/cover", "/console/me/cover/" + cover.ID + "/remove", "/console/mute", "/console/mute/" + mute.ID + "/end",
		"/console/me/test-page"} {
		if _, ok := forms[want]; !ok {
			t.Errorf("no form posting to %s found on %d pages", want, len(pages))
		}
	}

	// Another session's token is a valid token, of the wrong session.
	_, _, reiPage := signedInAs(t, "rei@example.com").do(http.MethodGet, srv.URL+"/", nil)
	m := csrfInput.FindStringSubmatch(reiPage)
	if m == nil {
		t.Fatalf("no CSRF token on rei's page:\n%s", reiPage)
	}
	tokens := map[string]url.Values{"missing": {}, "garbage": {"csrf_token": {"x"}}, "another session's": {"csrf_token": {m[1]}}}
	before, _ := h.st.Timeline(t.Context(), id)
	refusals := strings.Count(logs.String(), "state-changing request refused")
	tries := 0
	for _, a := range actions {
		for name, form := range tokens {
			code, _, body := ada.do(http.MethodPost, srv.URL+a, form)
			tries++
			if code != http.StatusForbidden || !strings.Contains(body, "This form was refused: missing or wrong CSRF token.") {
				t.Errorf("POST %s (form on %s) with the token %s: %d, want 403 from the CSRF check\n%s", a, forms[a], name, code, body)
			}
		}
	}
	if got := strings.Count(logs.String(), "state-changing request refused") - refusals; got != tries {
		t.Errorf("%d WARN lines for %d refused posts", got, tries)
	}
	inc, _ := h.st.Get(t.Context(), id)
	after, _ := h.st.Timeline(t.Context(), id)
	if inc.Status != store.StatusOpen || len(after) != len(before) {
		t.Errorf("refused posts changed incident %d: %s, %d timeline entries (were %d)", id, inc.Status, len(after), len(before))
	}
	covers, _ := h.st.ListOverrides(t.Context())
	mutes, _ := h.st.ListMutes(t.Context())
	if len(covers) != 1 || covers[0].ID != cover.ID || len(mutes) != 1 || mutes[0].ID != mute.ID || !mutes[0].End.Equal(mute.End) {
		t.Errorf("refused posts changed the stored covers %+v or mutes %+v", covers, mutes)
	}
	if tests, err := h.st.Query(t.Context(), store.ListOptions{Severity: TestSeverity}); err != nil || len(tests.Incidents) != 0 {
		t.Errorf("refused posts sent test pages: %+v %v", tests.Incidents, err)
	}
	if code, _, _ := ada.do(http.MethodGet, srv.URL+"/api/v1/me", nil); code != http.StatusOK {
		t.Errorf("ada was signed out by a refused sign-out: /api/v1/me %d", code)
	}
}

// TestConsolePagesByRole: with authorization roles, an incident's page is
// for whoever has a role in its department (viewers read) and whoever it
// paged; anyone else gets 403 with the reason, and the lists leave the
// incident out. The incident page and the Now page show action buttons
// only to whom the roles let act. A viewer's and an outsider's forms are 403 and change
// nothing. Who is on call (Now, calendars) and My on-call are everyone's.
func TestConsolePagesByRole(t *testing.T) {
	h, _ := rolesHarness(t, consoleRolesConfig)
	srv := consoleServer(t, h, slog.New(slog.DiscardHandler))
	id := pagedIncident(t, h, "Roles")
	page := fmt.Sprintf("/console/incidents/%d", id)
	link := fmt.Sprintf(`<a href="%s">#%d</a>`, page, id)
	people := []struct {
		user, role string
		sees       bool
		actRefusal string // "" when the person may act

		mutes, coversOwn bool // My on-call's mute of eng, and a cover of one's own shifts
		coversOthers     bool // My on-call offers whose shifts, and a cover of vic's is stored
	}{
		{"ada", "admin of eng", true, "", true, true, true},
		{"rei", "responder of eng", true, "", false, true, false},
		{"pat", "responder of db, paged", true, "", false, true, false},
		{"vic", "viewer of eng", true, "あなたは eng の閲覧者です。閲覧者は操作できません。何も変更していません。", false, false, false},
		{"oto", "responder of db, not paged", false, "", false, true, false},
	}
	for _, p := range people {
		t.Run(p.user, func(t *testing.T) {
			c := signedInAs(t, p.user+"@example.com")
			code, _, body := c.do(http.MethodGet, srv.URL+page, nil)
			switch {
			case p.sees && code != http.StatusOK:
				t.Errorf("%s (%s): GET %s %d, want 200\n%s", p.user, p.role, page, code, body)
			case !p.sees && (code != http.StatusForbidden ||
				strings.TrimSpace(body) != fmt.Sprintf("Incident #%d belongs to eng, where you have no role, and did not page you: you may not see it.", id)):
				t.Errorf("%s (%s): GET %s %d %q, want 403 with the reason", p.user, p.role, page, code, body)
			}
			if p.sees {
				// A person the roles let act has the buttons; a viewer has
				// none, only a line saying so.
				hasForms := strings.Contains(body, `<form method="post" action="`+page+`/`)
				readOnly := strings.Contains(body, "このインシデントは閲覧できますが、あなたの役割では操作できません。") ||
					strings.Contains(body, "You may read this incident; your roles do not let you act on it.")
				if hasForms != (p.actRefusal == "") || readOnly != (p.actRefusal != "") {
					t.Errorf("%s (%s): the incident page has forms %v, says read-only %v\n%s", p.user, p.role, hasForms, readOnly, body)
				}
			}
			// The Now page offers Acknowledge by the rule the ack obeys:
			// to whom may act, not to a viewer.
			ackForm := fmt.Sprintf(`<form method="post" action="%s/ack">`, page)
			if _, _, now := c.do(http.MethodGet, srv.URL+"/", nil); strings.Contains(now, ackForm) != (p.sees && p.actRefusal == "") {
				t.Errorf("%s (%s): the Now page has the Acknowledge button: %v, want %v\n%s", p.user, p.role, !(p.sees && p.actRefusal == ""), p.sees && p.actRefusal == "", now)
			}
			for _, list := range []string{"/", "/console/incidents", "/console/incidents?department=eng"} {
				code, _, body := c.do(http.MethodGet, srv.URL+list, nil)
				if code != http.StatusOK || strings.Contains(body, link) != p.sees {
					t.Errorf("%s (%s): GET %s %d, lists #%d: %v, want %v", p.user, p.role, list, code, id, strings.Contains(body, link), p.sees)
				}
			}
			for _, open := range []string{"/console/calendar/primary", "/console/calendar/dbs", "/console/me"} {
				code, _, body := c.do(http.MethodGet, srv.URL+open, nil)
				if code != http.StatusOK {
					t.Errorf("%s (%s): GET %s %d, want 200 (who is on call is everyone's)\n%s", p.user, p.role, open, code, body)
				}
				if open == "/console/me" && strings.Contains(body, `<select name="for">`) != p.coversOthers {
					t.Errorf("%s (%s): My on-call offers whose shifts: %v, want %v", p.user, p.role, !p.coversOthers, p.coversOthers)
				}
			}
			_, _, home := c.do(http.MethodGet, srv.URL+"/", nil)
			m := csrfInput.FindStringSubmatch(home)
			if m == nil {
				t.Fatalf("no CSRF token on %s's page", p.user)
			}
			// My on-call's forms follow the roles of cover and mute.
			start := h.clock.Now().In(h.engine.Policies().Config().Global.Location).Add(time.Hour)
			for _, f := range []struct {
				path string
				form url.Values
				want bool
			}{
				{"/console/mute", url.Values{"target": {"department:eng"}, "for": {"15m0s"}, "reason": {"deploy"}}, p.mutes},
				{"/console/me/cover", url.Values{"by": {"ada"}, "start": {start.Format(formTime)}, "end": {start.Add(time.Hour).Format(formTime)}}, p.coversOwn},
				{"/console/me/cover", url.Values{"for": {"vic"}, "by": {"oto"}, "start": {start.Format(formTime)}, "end": {start.Add(time.Hour).Format(formTime)}}, p.coversOthers},
			} {
				f.form.Set("csrf_token", m[1])
				if p.user == "ada" {
					f.form.Set("by", "rei")
				}
				code, _, body := c.do(http.MethodPost, srv.URL+f.path, f.form)
				if want := map[bool]int{true: http.StatusOK, false: http.StatusForbidden}[f.want]; code != want {
					t.Errorf("%s (%s): POST %s %d, want %d\n%s", p.user, p.role, f.path, code, want, body)
				}
			}
			if p.sees && p.actRefusal == "" {
				return
			}
			before, _ := h.st.Timeline(t.Context(), id)
			forms := map[string]url.Values{"role": {"role": {"ic"}}, "note": {"text": {"I lead"}, "decision": {"true"}, "cause": {"x"}}}
			for _, verb := range append(slices.Clone(consoleVerbs), "role", "note") {
				form := forms[verb]
				if form == nil {
					form = url.Values{}
				}
				form.Set("csrf_token", m[1])
				code, _, body := c.do(http.MethodPost, srv.URL+page+"/"+verb, form)
				if code != http.StatusForbidden {
					t.Errorf("%s (%s): %s %d, want 403\n%s", p.user, p.role, verb, code, body)
				}
				if p.actRefusal != "" && !strings.Contains(body, p.actRefusal) {
					t.Errorf("%s (%s): %s does not say %q:\n%s", p.user, p.role, verb, p.actRefusal, body)
				}
			}
			inc, _ := h.st.Get(t.Context(), id)
			after, _ := h.st.Timeline(t.Context(), id)
			if inc.Status != store.StatusOpen || inc.Roles != nil || inc.Report != nil {
				t.Errorf("%s's refused forms changed the incident: %s, roles %v, report %+v", p.user, inc.Status, inc.Roles, inc.Report)
			}
			for _, ev := range after[len(before):] {
				if ev.Type != "refused" || ev.Actor != p.user {
					t.Errorf("%s's refused forms wrote %+v", p.user, ev)
				}
			}
		})
	}
}
