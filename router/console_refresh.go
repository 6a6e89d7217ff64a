package router

import (
	_ "embed" // the live refresh script
	"net/http"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/config"
)

// The console's live refresh: a small hand-written script, embedded in the
// binary and served from the console's own origin (the console's CSP
// allows scripts and fetches from 'self' only, nothing inline), re-fetches
// a page's <main> region. The pages are whole without it.

//go:embed console_refresh.js
var refreshScript []byte

// refreshScriptPath is where the script is served, under the console's prefix.
const refreshScriptPath = "/console/refresh.js"

// consoleCSP is pageCSP plus the refresh script and its fetch, both from
// the console's own origin.
const consoleCSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// refreshSection is the script tag, for the head, and the status line
// that says whether the page updates itself; without JavaScript it says
// to reload.
const refreshSection = `{{define "refresh-script"}}<script src="{{.Script}}" defer></script>{{end}}
{{define "refresh-status"}}<p class="muted" id="refresh-status" aria-live="polite" data-text-on="{{.On}}" data-text-paused="{{.Paused}}" data-text-failed="{{.Failed}}">{{.Manual}}</p>{{end}}`

// refreshView is one page's refresh: every Every seconds its main region
// is fetched again from Src (a GET of the page itself, also after a
// form's POST answered with it).
type refreshView struct {
	Every                                   int
	Script, Src, On, Paused, Failed, Manual string
}

func (s *Server) refreshOf(t catalog.For, src string) refreshView {
	d := config.DefaultConsoleRefresh
	if si := s.Engine.Policies().Config().SignIn; si != nil && si.ConsoleRefresh > 0 {
		d = si.ConsoleRefresh.D() // a reload may remove sign_in; the console stays until a restart
	}
	every := int(d.Seconds())
	on := t.T("console.refresh_on", every)
	if every == 1 {
		on = t.T("console.refresh_on_second")
	}
	return refreshView{Every: every, Script: s.Auth.Path(refreshScriptPath), Src: src,
		On: on, Paused: t.T("console.refresh_paused"),
		Failed: t.T("console.refresh_failed"), Manual: t.T("console.refresh_manual")}
}

// serveRefreshScript is GET /console/refresh.js. no-cache: a browser
// revalidates, so a new binary's script is used at once.
func serveRefreshScript(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(refreshScript)
}
