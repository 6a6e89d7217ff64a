package router

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/store"
)

// The results hikyaku_calendar_feed_requests_total counts. Every refusal
// answers the same bare 404: a guesser learns nothing from it.
const (
	feedServed    = "served"
	feedBadToken  = "bad_token"  // not a token's shape, unknown, replaced, revoked, or a wrong secret
	feedWrongFeed = "wrong_feed" // a real token on another feed's path
	feedNoUser    = "no_user"    // the token's person left the configuration
	feedGone      = "gone"       // its rotation or schedule left the configuration
	feedFailed    = "failed"     // the store did not answer: 503
)

func newFeedRequests(f func(prometheus.Collector)) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_calendar_feed_requests_total",
		Help: "Calendar feed fetches, by result (served; bad_token, wrong_feed, no_user, gone: 404; failed: 503)."},
		[]string{"result"})
	for _, r := range []string{feedServed, feedBadToken, feedWrongFeed, feedNoUser, feedGone, feedFailed} {
		c.WithLabelValues(r)
	}
	f(c)
	return c
}

func (s *Server) calendarRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /calendar/{token}/me.ics", s.calendarFeed)
	mux.HandleFunc("GET /calendar/{token}/rotation/{dept}/{file}", s.calendarFeed)
	mux.Handle("POST /api/v1/calendar/url", s.api(s.apiCalendarURL))
	mux.Handle("POST /api/v1/calendar/revoke", s.api(s.apiCalendarRevoke))
}

// calendarFeed is GET /calendar/{token}/me.ics and
// /calendar/{token}/rotation/{dept}/{rotation}.ics: the URL is the only
// credential a calendar app can send. Logs name the token's public id,
// never the path, which holds its secret.
func (s *Server) calendarFeed(w http.ResponseWriter, r *http.Request) {
	refuse := func(result, tokenID string) {
		s.Engine.metrics.feedRequests.WithLabelValues(result).Inc()
		s.Engine.log.LogAttrs(r.Context(), slog.LevelWarn, "calendar feed refused",
			slog.String("source", sourceOf(r)), slog.String("token", tokenID), slog.String("result", result))
		http.NotFound(w, r)
	}
	feed := feedMe
	if d := r.PathValue("dept"); d != "" {
		rot, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
		if !ok {
			refuse(feedWrongFeed, "")
			return
		}
		feed = d + "/" + rot
	}
	id, secret, err := access.ParseCalendarToken(r.PathValue("token"))
	if err != nil {
		refuse(feedBadToken, "")
		return
	}
	tok, err := s.Engine.Store().CalendarToken(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		refuse(feedBadToken, id)
		return
	case err != nil:
		s.Engine.metrics.feedRequests.WithLabelValues(feedFailed).Inc()
		s.Engine.log.Error("calendar feed: the store did not answer", "token", id, "err", err)
		w.Header().Set("Retry-After", "60")
		http.Error(w, "store unavailable; retry", http.StatusServiceUnavailable)
		return
	case !access.SecretMatches(secret, tok.Hash):
		refuse(feedBadToken, id)
		return
	case tok.Feed != feed:
		refuse(feedWrongFeed, id)
		return
	}
	// The stored covers count as the configuration's overrides do: a feed
	// without them would show the covered person on call.
	set, err := s.Engine.livePolicies(r.Context())
	if err != nil {
		s.Engine.metrics.feedRequests.WithLabelValues(feedFailed).Inc()
		s.Engine.log.Error("calendar feed: the stored overrides cannot be read", "token", id, "err", err)
		w.Header().Set("Retry-After", "60")
		http.Error(w, "store unavailable; retry", http.StatusServiceUnavailable)
		return
	}
	cfg := set.Config()
	u := cfg.User(tok.User)
	if u == nil {
		refuse(feedNoUser, id)
		return
	}
	now := s.Engine.now()
	from, to := now.Add(-feedBack), now.Add(feedAhead)
	name, events, err := buildFeed(set, catalog.For(u.Language), u.ID, feed, from, to)
	if err != nil {
		refuse(feedGone, id)
		return
	}
	loc := u.Location
	if loc == nil {
		loc = cfg.Global.Location
	}
	var b bytes.Buffer
	if err := writeFeed(&b, name, loc, now, from, to, events); err != nil {
		s.Engine.metrics.feedRequests.WithLabelValues(feedFailed).Inc()
		s.Engine.log.Error("calendar feed: writing it failed", "token", id, "err", err)
		http.Error(w, "the feed could not be written", http.StatusInternalServerError)
		return
	}
	s.Engine.metrics.feedRequests.WithLabelValues(feedServed).Inc()
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	// The URL is a secret: no shared cache may keep the answer.
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Write(b.Bytes())
}

// CalendarLinkView is a calendar link as the API answers it; URL is set
// once, in the answer that made it.
type CalendarLinkView struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Feed      string    `json:"feed"`
	CreatedAt time.Time `json:"created_at"`
	URL       string    `json:"url,omitempty"`
}

// errNoExternalURL: a link needs the URL calendar apps reach hikyaku at.
var errNoExternalURL = errors.New("calendar links need hikyaku's public URL, and neither --web.external-url nor global.external_url is set")

// issueCalendarLink makes user's link for feed, ending their earlier one
// for it, and audits it.
func (s *Server) issueCalendarLink(r *http.Request, user, feed string) (CalendarLinkView, error) {
	cfg := s.Engine.Policies().Config()
	base := strings.TrimRight(cfg.Global.ExternalURL, "/")
	var err error
	var v CalendarLinkView
	defer func() { s.auditCalendar(r, "calendar_link_create", v.ID, user, feed, err) }()
	if base == "" {
		err = &httpError{http.StatusConflict, errNoExternalURL.Error()}
		return v, err
	}
	if _, _, err = parseFeed(cfg, feed); err != nil {
		err = &httpError{http.StatusBadRequest, err.Error()}
		return v, err
	}
	id, value, hash, err := access.NewCalendarToken()
	if err != nil {
		return v, err
	}
	t := store.CalendarToken{ID: id, User: user, Feed: feed, Hash: hash, CreatedAt: s.Engine.now()}
	if err = s.Engine.Store().IssueCalendarToken(r.Context(), t); err != nil {
		err = fmt.Errorf("router: storing the calendar link: %w", err)
		return v, err
	}
	v = CalendarLinkView{ID: id, User: user, Feed: feed, CreatedAt: t.CreatedAt, URL: base + "/calendar/" + value + "/" + feedPath(feed)}
	return v, nil
}

// feedPath is the part of a feed's URL after its token.
func feedPath(feed string) string {
	if feed == feedMe {
		return "me.ics"
	}
	return "rotation/" + feed + ".ics"
}

// maxCalendarRequest bounds a calendar request's body: a feed's name.
const maxCalendarRequest = 4 << 10

// calendarRequest is the body of POST /api/v1/calendar/url and /revoke;
// an empty body is {} (the person's own feed).
type calendarRequest struct {
	Rotation string `json:"rotation"` // DEPARTMENT/ROTATION; "" is the person's own shifts
	All      bool   `json:"all"`      // revoke: every feed of the person
}

// calendarCaller is the person a calendar request acts for: a link is a
// person's, so the shared api_token, which is nobody, gets none.
func calendarCaller(w http.ResponseWriter, r *http.Request) (string, calendarRequest, error) {
	var req calendarRequest
	user := requestActor(r)
	if user == ServiceActor {
		return "", req, &httpError{http.StatusForbidden, "a calendar link is a person's: call with your own API token (hikyaku token create --user U), not the shared api_token"}
	}
	if r.ContentLength != 0 {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxCalendarRequest))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return "", req, &httpError{http.StatusBadRequest, `want {"rotation": "DEPARTMENT/ROTATION"} or {} for your own shifts: ` + err.Error()}
		}
	}
	return user, req, nil
}

func (req calendarRequest) feed() string {
	if req.Rotation == "" {
		return feedMe
	}
	return req.Rotation
}

// apiCalendarURL is POST /api/v1/calendar/url: a new link to the caller's
// feed, ending their earlier link to it (only its hash is kept, so an old
// link cannot be shown again).
func (s *Server) apiCalendarURL(w http.ResponseWriter, r *http.Request) (any, error) {
	user, req, err := calendarCaller(w, r)
	if err != nil {
		return nil, err
	}
	if req.All {
		return nil, &httpError{http.StatusBadRequest, `"all" is for revoke`}
	}
	return s.issueCalendarLink(r, user, req.feed())
}

// apiCalendarRevoke is POST /api/v1/calendar/revoke: ends the caller's
// link to a feed, or to every feed with {"all": true}.
func (s *Server) apiCalendarRevoke(w http.ResponseWriter, r *http.Request) (any, error) {
	user, req, err := calendarCaller(w, r)
	if err != nil {
		return nil, err
	}
	feed := req.feed()
	if req.All {
		if req.Rotation != "" {
			return nil, &httpError{http.StatusBadRequest, `give "rotation" or "all", not both`}
		}
		feed = ""
	}
	n, err := s.Engine.Store().RevokeCalendarTokens(r.Context(), user, feed)
	if err != nil {
		err = fmt.Errorf("router: revoking calendar links: %w", err)
	}
	s.auditCalendar(r, "calendar_link_revoke", "", user, feed, err)
	if err != nil {
		return nil, err
	}
	return map[string]any{"user": user, "feed": feed, "revoked": n}, nil
}

// auditCalendar is the audit line of a calendar link made or revoked.
func (s *Server) auditCalendar(r *http.Request, action, id, user, feed string, err error) {
	result := auditDone
	var he *httpError
	switch {
	case errors.As(err, &he):
		result = auditRefused
	case err != nil:
		result = auditFailed
	}
	s.Engine.audit(r.Context(), action, result, err, slog.String("token", id), slog.String("user", user), slog.String("feed", feed))
}
