package router

import (
	"errors"
	"net/http"
	"time"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/catalog"
)

// calendarSection is My on-call's subscribe part: the link just made, or
// when the person's link was made (only its hash is kept, so it cannot be
// shown again), and a CSRF-checked button that makes a new one.
const calendarSection = `{{define "calendar"}}<h2>{{.Heading}}</h2>
{{if .Notice}}<p role="status"><strong>{{.Notice}}</strong></p>{{end}}
{{if .Link}}<p>{{.NewLinkText}}<br><a href="{{.Link}}"><code>{{.Link}}</code></a></p>
{{else if .Made}}<p>{{.Made}}</p>{{else}}<p>{{.NoLink}}</p>{{end}}
<p class="muted">{{.Explain}}</p>
{{if .CanMake}}<form method="post" action="{{.Action}}"><input type="hidden" name="csrf_token" value="{{.CSRF}}"><button>{{.Button}}</button></form>{{end}}
{{end}}`

type myCalendarView struct {
	Heading, Notice, Link, NewLinkText, Made, NoLink, Explain, Action, CSRF, Button string
	CanMake                                                                         bool
}

func (s *Server) calendarSection(r *http.Request, id access.Identity, t catalog.For, loc *time.Location, notice, newLink string) myCalendarView {
	v := myCalendarView{Heading: t.T("calendar.heading"), Notice: notice, Link: newLink, NewLinkText: t.T("calendar.new_link"),
		NoLink: t.T("calendar.no_link"), Explain: t.T("calendar.explain"), Action: s.Auth.Path("/console/me/calendar"),
		CSRF: s.Auth.CSRFToken(id.Session), Button: t.T("calendar.make"), CanMake: true}
	if s.Engine.Policies().Config().Global.ExternalURL == "" {
		v.CanMake, v.NoLink = false, t.T("calendar.no_url")
		return v
	}
	toks, err := s.Engine.Store().CalendarTokensOf(r.Context(), id.User)
	if err != nil {
		s.Engine.log.Error("console: reading the calendar links failed", "user", id.User, "err", err)
		v.CanMake, v.NoLink = false, t.T("calendar.unreadable")
		return v
	}
	for _, tk := range toks {
		if tk.Feed == feedMe {
			v.Made, v.Button = t.T("calendar.has_link", viewerTime(tk.CreatedAt, loc)), t.T("calendar.regenerate")
		}
	}
	return v
}

// consoleCalendarLink is POST /console/me/calendar: a new link to the
// person's own feed, the old one ended, shown on My on-call this once.
func (s *Server) consoleCalendarLink(w http.ResponseWriter, r *http.Request) {
	id, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	lang, _, _ := s.viewer(id)
	ctx := WithAuditSource(r.Context(), AuditSource{Addr: r.RemoteAddr, User: id.User})
	link, err := s.issueCalendarLink(r.WithContext(ctx), id.User, feedMe)
	var he *httpError
	switch {
	case errors.As(err, &he):
		s.renderMe(w, r, id, catalog.Text(lang, "calendar.failed", he.msg), "", he.code)
	case err != nil:
		s.Engine.log.Error("console: making a calendar link failed", "user", id.User, "err", err)
		s.renderMe(w, r, id, catalog.Text(lang, "calendar.failed", err.Error()), "", http.StatusServiceUnavailable)
	default:
		s.renderMe(w, r, id, catalog.Text(lang, "calendar.made"), link.URL, http.StatusOK)
	}
}
