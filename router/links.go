package router

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/store"
)

// LinkTTL is how long an acknowledgement link in an email or chat message works.
const LinkTTL = 24 * time.Hour

// link is what a signed action link grants: one action on one incident, by
// one person, once, until it expires.
type link struct {
	Incident int64
	Action   string // ack, resolve, escalate
	User     string
	Expires  time.Time
	// Nonce makes each page's links its own: the link's replay record is
	// keyed by its signature, so a second page's escalate link escalates
	// again while a used one does nothing. Links made before it existed
	// have none and still verify.
	Nonce string
}

var errBadLink = errors.New("this link is invalid or has expired")

// signLink makes the token of a link: the claims in the clear, then an
// HMAC-SHA256 of them under global.signing_key.
func signLink(key []byte, l link) string {
	claims := fmt.Sprintf("%d|%s|%s|%d", l.Incident, l.Action, l.User, l.Expires.Unix())
	if l.Nonce != "" {
		claims += "|" + l.Nonce
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(claims))
	return base64.RawURLEncoding.EncodeToString([]byte(claims)) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

// verifyLink checks a token's signature and expiry.
func verifyLink(key []byte, token string, now time.Time) (link, error) {
	c64, s64, ok := strings.Cut(token, ".")
	if !ok || len(key) == 0 {
		return link{}, errBadLink
	}
	claims, err1 := base64.RawURLEncoding.DecodeString(c64)
	sig, err2 := base64.RawURLEncoding.DecodeString(s64)
	if err1 != nil || err2 != nil {
		return link{}, errBadLink
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(claims)
	if !hmac.Equal(sig, mac.Sum(nil)[:16]) {
		return link{}, errBadLink
	}
	parts := strings.Split(string(claims), "|")
	if len(parts) != 4 && len(parts) != 5 {
		return link{}, errBadLink
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	exp, err2 := strconv.ParseInt(parts[3], 10, 64)
	l := link{Incident: id, Action: parts[1], User: parts[2], Expires: time.Unix(exp, 0)}
	if len(parts) == 5 {
		l.Nonce = parts[4]
	}
	if err1 != nil || err2 != nil || !now.Before(l.Expires) {
		return link{}, errBadLink
	}
	switch l.Action {
	case "ack", "resolve", "escalate":
		return l, nil
	}
	return link{}, errBadLink
}

// Links returns the signed ack/resolve/escalate URLs for a person's message,
// or nil when global.signing_key or global.external_url is not configured.
func (e *Engine) Links(inc *store.Incident, user string) map[string]string {
	g := e.Policies().Config().Global
	key, ok := g.SigningKey.Reveal()
	if !ok || g.ExternalURL == "" || user == "" {
		return nil
	}
	out := map[string]string{}
	exp := e.now().Add(LinkTTL)
	for _, a := range []string{"ack", "resolve", "escalate"} {
		l := link{Incident: inc.ID, Action: a, User: user, Expires: exp, Nonce: linkNonce()}
		out[a] = strings.TrimRight(g.ExternalURL, "/") + "/act/" + signLink([]byte(key), l)
	}
	return out
}

// linkNonce is 64 random bits, URL-safe.
func linkNonce() string {
	b := make([]byte, 8)
	rand.Read(b) // never fails (crypto/rand, Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// linkKey names a link's replay record: its signature, which differs for
// any two links (their claims differ, by the nonce at least), needs no
// state to compute and, unlike the whole token, no parsing to find.
// Links without a nonce work the same way: the two identical links of two
// pages sent in one second share one record.
func linkKey(token string) string {
	_, sig, _ := strings.Cut(token, ".")
	return "link:" + sig
}

// linkEvents are the timeline lines each link action writes.
var linkEvents = map[string]string{"ack": "acked", "resolve": "resolved", "escalate": "escalated"}

// usedLink tells the person pressing a link that already acted what it did
// and when; the incident's timeline has the line.
func (e *Engine) usedLink(ctx context.Context, l link, lang string) string {
	t := catalog.For(lang)
	verb := t.T(catalog.Key("link.verb." + l.Action))
	tl, err := e.opts.Store.Timeline(ctx, l.Incident)
	if err != nil {
		e.log.Warn("reading the timeline for a used link's page failed", "incident", l.Incident, "err", err)
	}
	loc := e.Policies().Config().Global.Location
	if u := e.Policies().Config().User(l.User); u != nil && u.Location != nil {
		loc = u.Location
	}
	if loc == nil {
		loc = time.UTC
	}
	for i := len(tl) - 1; i >= 0; i-- {
		ev := tl[i]
		if ev.Type == linkEvents[l.Action] && ev.Actor == l.User && ev.Detail["via"] == "link" {
			return t.T("link.used.done", verb, ev.At.In(loc).Format("2006-01-02 15:04:05 MST"), l.User)
		}
	}
	return t.T("link.used.unknown", verb)
}

var linkPage = template.Must(template.New("link").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hikyaku #{{.ID}}</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 2em auto">
<h1>hikyaku #{{.ID}}</h1>
{{if .Error}}<p>{{.Error}}</p>{{else if .Done}}<p>{{.Done}}</p>{{else}}
<p>{{.Summary}}</p>
<form method="post"><button type="submit" style="font-size: 1.4em; padding: .5em 1em">{{.Button}}</button></form>
{{end}}</body></html>
`))

type linkView struct {
	ID                           int64
	Summary, Button, Done, Error string
}

// actLink serves signed links. GET only shows a confirmation page (or,
// for a link that acted, what it did): link scanners and chat unfurlers
// fetch with GET, so GET must never act nor write. The button on that page
// POSTs to the same URL, and only that acts.
func (s *Server) actLink(w http.ResponseWriter, r *http.Request) {
	e := s.Engine
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	key, _ := e.Policies().Config().Global.SigningKey.Reveal()
	l, err := verifyLink([]byte(key), r.PathValue("token"), e.now())
	if err != nil {
		w.WriteHeader(http.StatusForbidden)
		linkPage.Execute(w, linkView{Error: err.Error()})
		return
	}
	var lang string
	if u := e.Policies().Config().User(l.User); u != nil {
		lang = u.Language
	} else {
		w.WriteHeader(http.StatusForbidden)
		linkPage.Execute(w, linkView{ID: l.Incident, Error: catalog.Text(e.Policies().Config().Global.Language, "link.error.user_gone")})
		return
	}
	t := catalog.For(lang)
	verb := t.T(catalog.Key("link.verb." + l.Action))
	inc, err := e.opts.Store.Get(r.Context(), l.Incident)
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		linkPage.Execute(w, linkView{ID: l.Incident, Error: t.T("link.error.no_incident")})
		return
	}
	// A link acts once: it is a bearer token, and a browser's resubmit, a
	// second press or a captured POST must not escalate again.
	token := r.PathValue("token")
	if r.Method != http.MethodPost {
		// A used link says so at once rather than offering a button that
		// would only say so then. When the record cannot be read, the form
		// is shown: its POST is what decides, and it asks the store again.
		used, err := e.wasSeen(r.Context(), "link", linkKey(token))
		if err != nil {
			e.log.Warn("a link's page cannot tell whether it was used: showing its button", "incident", l.Incident, "err", err)
		}
		if used {
			linkPage.Execute(w, linkView{ID: l.Incident, Done: e.usedLink(r.Context(), l, lang)})
			return
		}
		linkPage.Execute(w, linkView{ID: inc.ID, Summary: summary(inc), Button: verb})
		return
	}
	a := Action{Incident: l.Incident, Verb: l.Action, User: l.User, Via: "link", Dedup: linkKey(token)}
	inc, done, err := e.actOnce(r.Context(), a, l.Expires.Sub(e.now())+linkSkew)
	switch {
	case errors.Is(err, ErrReplayed), err == nil && !done && slices.Contains(inc.Handled, a.Dedup):
		linkPage.Execute(w, linkView{ID: l.Incident, Done: e.usedLink(r.Context(), l, lang)})
	case errors.Is(err, ErrResolved):
		w.WriteHeader(http.StatusConflict)
		linkPage.Execute(w, linkView{ID: l.Incident, Error: t.T("link.error.resolved")})
	case errors.Is(err, ErrForbidden):
		w.WriteHeader(http.StatusForbidden)
		linkPage.Execute(w, linkView{ID: l.Incident, Error: ForbiddenReason(e.Policies().Config(), err, l.User)})
	case err != nil:
		w.WriteHeader(http.StatusServiceUnavailable)
		linkPage.Execute(w, linkView{ID: l.Incident, Error: t.T("link.error.failed")})
	default:
		linkPage.Execute(w, linkView{ID: inc.ID, Done: fmt.Sprintf("%s: %s (%s)", verb, inc.Status, l.User)})
	}
}

// summary is one line saying what the incident is.
func summary(inc *store.Incident) string {
	what := ""
	if msg, err := DecodeMessage(inc.Message); err == nil {
		if what = msg.CommonAnnotations["summary"]; what == "" {
			what = msg.CommonLabels["alertname"]
		}
	}
	return fmt.Sprintf("%s %s (%s): %s", strings.ToUpper(inc.Severity), inc.Department, inc.Status, what)
}
