package router

import (
	"cmp"
	"context"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// myHorizon is how far ahead My on-call lists the viewer's shifts.
const myHorizon = 28 * 24 * time.Hour

var myPage = template.Must(template.New("me").Parse(calendarSection + coverSection + muteSection + testPageSection + `<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>hikyaku</title>
<style>body{font-family:system-ui,"Hiragino Sans","Noto Sans CJK JP",sans-serif;max-width:50em;margin:1em auto;padding:0 1em;line-height:1.5;color:#222}
li{margin:.4em 0}.muted{color:#555;font-size:.9em}</style></head>
<body><p><a href="{{.Home}}">{{.BackText}}</a></p><h1>{{.Heading}}</h1><p class="muted">{{.TimesIn}}</p>
<h2>{{.PagesHeading}}</h2>{{if .Pages}}<ul>{{range .Pages}}<li><a href="{{.Link}}">#{{.ID}}</a> {{.Text}}<br><span class="muted">{{.Sent}}</span></li>{{end}}{{if .MorePages}}<li>{{.MorePages}}</li>{{end}}</ul>{{else}}<p>{{.NoPages}}</p>{{end}}
<h2>{{.ShiftsHeading}}</h2>{{if .Shifts}}<ul>{{range .Shifts}}<li>{{.}}</li>{{end}}</ul>{{else}}<p>{{.NoShifts}}</p>{{end}}
<h2>{{.RulesHeading}}</h2>{{if .Rules}}<ul>{{range .Rules}}<li>{{.}}</li>{{end}}</ul>{{else}}<p>{{.NoRules}}</p>{{end}}
<h2>{{.ContactsHeading}}</h2><ul>{{range .Contacts}}<li>{{.}}</li>{{end}}</ul>
{{if .Test.Show}}{{template "testpage" .Test}}{{end}}
{{template "cover" .Cover}}
{{if .Mute.Show}}{{template "mute" .Mute}}{{end}}
{{template "calendar" .Calendar}}
</body></html>
`))

type myView struct {
	Lang, Home, BackText, Heading, TimesIn, ShiftsHeading, NoShifts, RulesHeading, NoRules, ContactsHeading string
	PagesHeading, NoPages, MorePages                                                                        string
	Pages                                                                                                   []myPageRow
	Shifts, Rules, Contacts                                                                                 []string
	Calendar                                                                                                myCalendarView
	Cover                                                                                                   myCoverView
	Mute                                                                                                    myMuteView
	Test                                                                                                    myTestView
}

// consoleMe is GET /console/me: the viewer's shifts in the next four
// weeks in every rotation and schedule, their notification rules and
// contact methods.
func (s *Server) consoleMe(w http.ResponseWriter, r *http.Request) {
	id, ok := s.signedIn(w, r)
	if !ok {
		return
	}
	s.renderMe(w, r, id, "", "", http.StatusOK)
}

// renderMe writes My on-call; notice says what a form did, and newLink is
// a calendar link just made (shown this once).
func (s *Server) renderMe(w http.ResponseWriter, r *http.Request, id access.Identity, notice, newLink string, code int) {
	s.renderMePage(w, r, id, meNotes{Calendar: notice, NewLink: newLink}, code)
}

// meNotes are what My on-call's forms say happened, each in its section.
type meNotes struct{ Calendar, NewLink, Cover, Mute, Test string }

func (s *Server) renderMePage(w http.ResponseWriter, r *http.Request, id access.Identity, notes meNotes, code int) {
	lang, loc, _ := s.viewer(id)
	t := catalog.For(lang)
	set, err := s.Engine.livePolicies(r.Context())
	if err != nil {
		s.Engine.log.Error("console: reading the stored overrides failed", "user", id.User, "err", err)
		http.Error(w, "the store cannot be read right now; reload in a moment", http.StatusServiceUnavailable)
		return
	}
	cfg := set.Config()
	now := s.Engine.now()
	v := myView{Lang: lang, Home: s.Auth.Path("/"), BackText: t.T("console.back_now"), Heading: t.T("console.my_oncall"),
		TimesIn: t.T("console.times_in", now.In(loc).Format("MST"), loc.String()), ShiftsHeading: t.T("console.my_shifts"),
		NoShifts: t.T("console.no_shifts"), RulesHeading: t.T("console.my_rules"), NoRules: t.T("console.no_rules"),
		ContactsHeading: t.T("console.my_contacts"), Calendar: s.calendarSection(r, id, t, loc, notes.Calendar, notes.NewLink),
		Test: s.testPageSection(id, t, notes.Test)}
	if v.Pages, v.MorePages, err = s.myPages(r.Context(), id.User, t, loc); err != nil {
		s.Engine.log.Error("console: reading the viewer's pages failed", "user", id.User, "err", err)
		http.Error(w, "the store cannot be read right now; reload in a moment", http.StatusServiceUnavailable)
		return
	}
	v.PagesHeading, v.NoPages = t.T("console.my_pages"), t.T("console.no_pages")
	if v.Cover, v.Mute, err = s.coverSections(r, id, t, loc, notes); err != nil {
		s.Engine.log.Error("console: reading the stored overrides failed", "user", id.User, "err", err)
		http.Error(w, "the store cannot be read right now; reload in a moment", http.StatusServiceUnavailable)
		return
	}
	type mine struct {
		start time.Time
		text  string
	}
	var shifts []mine
	for _, d := range cfg.Departments {
		ids := []string{}
		for _, r := range d.Rotations {
			ids = append(ids, r.ID)
		}
		for _, sc := range d.Schedules {
			ids = append(ids, sc.ID)
		}
		for _, src := range ids {
			all, err := set.Shifts(src, now, now.Add(myHorizon))
			if err != nil {
				s.Engine.log.Error("console: computing shifts failed", "rotation", src, "err", err)
				continue
			}
			for _, sh := range all {
				if sh.User == id.User {
					shifts = append(shifts, mine{sh.Start, t.T("console.my_shift", viewerTime(sh.Start, loc), viewerTime(sh.End, loc), d.ID, src)})
				}
			}
		}
	}
	slices.SortStableFunc(shifts, func(a, b mine) int { return a.start.Compare(b.start) })
	for _, m := range shifts {
		v.Shifts = append(v.Shifts, m.text)
	}
	if u := cfg.User(id.User); u != nil {
		for _, rule := range u.Notify {
			chs := make([]string, len(rule.Channels))
			for i, c := range rule.Channels {
				chs[i] = string(c)
			}
			v.Rules = append(v.Rules, t.T("console.my_rule", rule.After.String(), strings.Join(chs, ", ")))
		}
		for _, spec := range cfg.Channels() {
			addr := u.Contacts.Get(spec.Name)
			switch {
			case addr == "":
			case spec.Name == config.ChannelWebhook:
				// A webhook URL may carry a token in its path or query: the
				// page says one is set, never what it is.
				v.Contacts = append(v.Contacts, string(spec.Name)+": "+t.T("console.set"))
			default:
				v.Contacts = append(v.Contacts, string(spec.Name)+": "+addr)
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if err := myPage.Execute(w, v); err != nil {
		s.Engine.log.Warn("writing My on-call failed", "err", err)
	}
}

// maxMyPages bounds the incidents My on-call lists: a page at 3 a.m. is
// about the few that are open now, not a history.
const maxMyPages = 20

type myPageRow struct {
	ID         int64
	Link, Text string
	Sent       string // the channels it reached the viewer on, and when last
}

// myPages are the open and acknowledged incidents that paged user, newest
// first, read from the by-person page index (store.Deliveries.Paged), so
// their cost is the viewer's pages, not every open incident.
func (s *Server) myPages(ctx context.Context, user string, t catalog.For, loc *time.Location) ([]myPageRow, string, error) {
	ds, err := s.Engine.Store().Paged(ctx, user, "")
	if err != nil {
		return nil, "", err
	}
	type paged struct {
		id       int64
		channels []string
		last     time.Time
	}
	var incs []*paged
	byID := map[int64]*paged{}
	for _, d := range ds {
		p := byID[d.Incident]
		if p == nil {
			p = &paged{id: d.Incident}
			byID[d.Incident] = p
			incs = append(incs, p)
		}
		if !slices.Contains(p.channels, d.Channel) {
			p.channels = append(p.channels, d.Channel)
		}
		if d.At.After(p.last) {
			p.last = d.At
		}
	}
	slices.SortFunc(incs, func(a, b *paged) int { return cmp.Compare(b.id, a.id) })
	more := ""
	if len(incs) > maxMyPages {
		more = t.T("console.more_pages", len(incs)-maxMyPages)
		incs = incs[:maxMyPages]
	}
	var rows []myPageRow
	for _, p := range incs {
		inc, err := s.Engine.Store().Get(ctx, p.id)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted by retention since the index was read
		}
		if err != nil {
			return nil, "", err
		}
		if inc.Status == store.StatusResolved {
			continue // resolved since the index was read
		}
		rows = append(rows, myPageRow{ID: inc.ID, Link: s.Auth.Path("/console/incidents/" + strconv.FormatInt(inc.ID, 10)),
			Text: summary(inc), Sent: t.T("console.my_page_sent", strings.Join(p.channels, ", "), viewerTime(p.last, loc))})
	}
	return rows, more, nil
}
