package router

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// consoleLimit is how many open incidents the page lists, newest first.
const consoleLimit = 100

// consoleRoutes serve sign-in and the first console page. Every page goes
// through htmlPage's headers; every POST through the CSRF check.
func (s *Server) consoleRoutes(mux *http.ServeMux) {
	a := s.Auth
	mux.Handle("GET "+access.SignInPath, htmlPage(a.StartSignIn))
	mux.Handle("GET "+access.CallbackPath, htmlPage(a.Callback))
	mux.Handle("POST "+access.SignOutPath, htmlPage(a.Identify(a.CSRF(http.HandlerFunc(a.SignOut))).ServeHTTP))
	mux.Handle("GET /{$}", consoleHTML(a.Identify(http.HandlerFunc(s.consoleHome)).ServeHTTP))
	mux.Handle("GET /console/calendar/{id}", consoleHTML(a.Identify(http.HandlerFunc(s.consoleCalendar)).ServeHTTP))
	mux.Handle("GET /console/me", consoleHTML(a.Identify(http.HandlerFunc(s.consoleMe)).ServeHTTP))
	mux.Handle("POST /console/me/cover", consoleHTML(a.Identify(a.CSRF(http.HandlerFunc(s.consoleCover))).ServeHTTP))
	mux.Handle("POST /console/me/cover/{id}/remove", consoleHTML(a.Identify(a.CSRF(http.HandlerFunc(s.consoleUncover))).ServeHTTP))
	mux.Handle("POST /console/mute", consoleHTML(a.Identify(a.CSRF(http.HandlerFunc(s.consoleMute))).ServeHTTP))
	mux.Handle("POST /console/mute/{id}/end", consoleHTML(a.Identify(a.CSRF(http.HandlerFunc(s.consoleUnmute))).ServeHTTP))
	mux.Handle("POST /console/me/test-page", consoleHTML(a.Identify(a.CSRF(http.HandlerFunc(s.consoleTestPage))).ServeHTTP))
	mux.Handle("POST /console/me/calendar", consoleHTML(a.Identify(a.CSRF(http.HandlerFunc(s.consoleCalendarLink))).ServeHTTP))
	mux.Handle("GET /console/incidents", consoleHTML(a.Identify(http.HandlerFunc(s.consoleList)).ServeHTTP))
	mux.Handle("GET /console/incidents/{id}", consoleHTML(a.Identify(http.HandlerFunc(s.consoleIncident)).ServeHTTP))
	mux.Handle("POST /console/incidents/{id}/{verb}", consoleHTML(a.Identify(a.CSRF(http.HandlerFunc(s.consoleAct))).ServeHTTP))
	mux.Handle("GET "+refreshScriptPath, http.HandlerFunc(serveRefreshScript))
	mux.Handle("GET /api/v1/me", a.Identify(http.HandlerFunc(s.me)))
}

var consolePage = template.Must(template.New("console").Parse(nowSection + refreshSection + `<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>hikyaku</title>
<style>body{font-family:system-ui,"Hiragino Sans","Noto Sans CJK JP",sans-serif;max-width:50em;margin:1em auto;padding:0 1em;line-height:1.5;color:#222}
li{margin:.5em 0}form{display:inline}.rows{list-style:none;padding:0}.rows li{border-left:4px solid #ccc;padding:.2em .6em}
.rows li.gap{border-left-color:#b00020;background:#fdf0f0}.muted{color:#555;font-size:.9em}.what{color:#555}
button{font-size:1em;padding:.4em .9em;margin:.2em 0}</style>
{{template "refresh-script" .Refresh}}</head>
<body><h1>hikyaku</h1>
<div>{{.SignedInAs}} <form method="post" action="{{.SignOut}}"><input type="hidden" name="csrf_token" value="{{.CSRF}}"><button>{{.SignOutText}}</button></form></div>
{{if .Notice}}<p role="status"><strong>{{.Notice}}</strong></p>{{end}}
{{template "refresh-status" .Refresh}}
<main data-refresh="{{.Refresh.Every}}" data-refresh-src="{{.Refresh.Src}}">
{{template "now" .Now}}
<h2>{{.Heading}}</h2><p><a href="{{.ListPage}}">{{.ListText}}</a> · <a href="{{.MePage}}">{{.MeText}}</a></p>
{{if .Incidents}}<ul>{{range .Incidents}}<li><a href="{{.Page}}">#{{.ID}}</a> {{.Summary}}
{{if .Ack}}<form method="post" action="{{.Ack}}"><input type="hidden" name="csrf_token" value="{{$.CSRF}}"><button>{{$.AckText}}</button></form>{{end}}</li>
{{end}}</ul>{{else}}<p>{{.None}}</p>{{end}}
</main>
</body></html>
`))

type consoleIncident struct {
	ID      int64
	Summary string
	Ack     string
	Page    string
}

type consoleView struct {
	Lang, SignedInAs, SignOut, SignOutText, CSRF, Notice, Heading, None, AckText string
	Incidents                                                                    []consoleIncident
	Now                                                                          nowView
	ListPage, ListText, MePage, MeText                                           string
	Refresh                                                                      refreshView
}

// signedIn is the request's identity, or false after answering for a
// request that has none: with OIDC the browser is sent to sign in.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request) (access.Identity, bool) {
	id, ok := access.FromContext(r.Context())
	if ok {
		return id, true
	}
	if s.Auth.OIDC() && r.Method == http.MethodGet {
		http.Redirect(w, r, s.Auth.Path(access.SignInPath), http.StatusFound)
		return id, false
	}
	lang := s.Engine.Policies().Config().Global.Language
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	http.Error(w, catalog.Text(lang, "console.not_signed_in"), http.StatusUnauthorized)
	return id, false
}

// consoleHome is GET /: who is signed in and the open incidents, each with
// an Acknowledge button.
func (s *Server) consoleHome(w http.ResponseWriter, r *http.Request) {
	id, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	s.renderConsole(w, r, id, "", http.StatusOK)
}

func (s *Server) renderConsole(w http.ResponseWriter, r *http.Request, id access.Identity, notice string, code int) {
	set, err := s.Engine.livePolicies(r.Context())
	if err != nil {
		s.Engine.log.Error("console: reading the stored overrides failed", "user", id.User, "err", err)
		http.Error(w, "the store cannot be read right now; reload in a moment", http.StatusServiceUnavailable)
		return
	}
	cfg := set.Config()
	u := cfg.User(id.User)
	lang, name, loc := cfg.Global.Language, id.User, cfg.Global.Location
	if u != nil {
		lang, name, loc = u.Language, u.Name, u.Location
	}
	t := catalog.For(lang)
	v := consoleView{Lang: lang, SignedInAs: t.T("console.signed_in_as", name, id.User),
		SignOut: s.Auth.Path(access.SignOutPath), SignOutText: t.T("console.sign_out"), CSRF: s.Auth.CSRFToken(id.Session),
		Notice: notice, Heading: t.T("console.open_incidents"), None: t.T("console.no_incidents"), AckText: t.T("console.ack"),
		ListPage: s.Auth.Path("/console/incidents"), ListText: t.T("console.all_incidents"),
		MePage: s.Auth.Path("/console/me"), MeText: t.T("console.my_oncall"),
		Now:     buildNow(set, s.Engine.now(), t, loc, s.Auth.Path("/console/calendar/")),
		Refresh: s.refreshOf(t, s.Auth.Path("/"))}
	incs, err := s.unresolved(r.Context(), id.User)
	if err != nil {
		s.Engine.log.Error("console: listing open incidents failed", "user", id.User, "err", err)
		http.Error(w, "the store cannot be read right now; reload in a moment", http.StatusServiceUnavailable)
		return
	}
	for _, row := range incs {
		inc := row.inc
		ci := consoleIncident{ID: inc.ID, Summary: summary(inc), Page: s.Auth.Path("/console/incidents/" + strconv.FormatInt(inc.ID, 10))}
		// Only an open incident is acknowledged, and only by whom the
		// roles let act: the button is offered by the rule the post obeys.
		if inc.Status == store.StatusOpen && row.mayAck {
			ci.Ack = s.Auth.Path("/console/incidents/" + strconv.FormatInt(inc.ID, 10) + "/ack")
		}
		v.Incidents = append(v.Incidents, ci)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if err := consolePage.Execute(w, v); err != nil {
		s.Engine.log.Warn("writing the console page failed", "err", err)
	}
}

// consoleAck acknowledges as the signed-in user, through the engine's
// Ack as the API does, and shows the page again with what happened.
func (s *Server) consoleAck(w http.ResponseWriter, r *http.Request) {
	id, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	lang := s.Engine.Policies().Config().Global.Language
	if u := s.Engine.Policies().Config().User(id.User); u != nil {
		lang = u.Language
	}
	n, err := incidentID(r)
	if err != nil {
		s.renderConsole(w, r, id, err.Error(), http.StatusBadRequest)
		return
	}
	ctx := WithAuditSource(r.Context(), AuditSource{Addr: r.RemoteAddr, User: id.User})
	inc, err := s.Engine.Ack(ctx, n, id.User, "console")
	if err != nil {
		code := apiStatus(err)
		if errors.Is(err, ErrForbidden) {
			code = http.StatusForbidden
		}
		why := err.Error()
		if reason := ForbiddenReason(s.Engine.Policies().Config(), err, id.User); reason != "" {
			why = reason // the roles' reason, in the person's language
		}
		s.renderConsole(w, r, id, catalog.Text(lang, "console.ack_failed", n, why), code)
		return
	}
	s.renderConsole(w, r, id, catalog.Text(lang, "console.acked", inc.ID, inc.AckedBy), http.StatusOK)
}

// MeView is GET /api/v1/me: who the console session is.
type MeView struct {
	User    string    `json:"user"`
	Name    string    `json:"name"`
	Email   string    `json:"email,omitempty"`
	Method  string    `json:"method"`
	Expires time.Time `json:"expires"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	id, ok := access.FromContext(r.Context())
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": "not signed in"})
		return
	}
	v := MeView{User: id.User, Name: id.User, Method: id.Method, Expires: id.Session.Expires.UTC()}
	if u := s.Engine.Policies().Config().User(id.User); u != nil {
		v.Name, v.Email = u.Name, u.Contacts.Get(config.ChannelEmail)
	}
	json.NewEncoder(w).Encode(v)
}
