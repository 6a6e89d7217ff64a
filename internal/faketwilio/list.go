package faketwilio

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rfc2822 is how Twilio writes dates in its JSON ("Wed, 02 Dec 2026 04:19:14 +0000").
const rfc2822 = time.RFC1123Z

// Twilio's page sizes: 50 unless asked, at most 1000.
const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

// serveList answers GET Messages.json or Calls.json as Twilio does: the
// accepted resources of the account, newest first, filtered by To, From,
// Status and the date filter (DateSent for messages, StartTime for calls:
// "=" one GMT day, ">=" on or after, "<=" on or before; a day as
// YYYY-MM-DD, or an RFC 3339 instant as twilio-go sends it, of which only
// the day counts), in pages of PageSize linked by next_page_uri with a
// PageToken. A call still queued has no start time, so a StartTime filter
// leaves it out: asking for Status=queued finds it.
func (s *Server) serveList(w http.ResponseWriter, r *http.Request, resource string) {
	q := r.URL.Query()
	s.mu.Lock()
	s.lists = append(s.lists, q)
	s.mu.Unlock()
	dateField := "DateSent"
	if resource == "Calls" {
		dateField = "StartTime"
	}
	var on, after, before time.Time
	for key, dst := range map[string]*time.Time{dateField: &on, dateField + ">": &after, dateField + "<": &before} {
		v := q.Get(key)
		if v == "" {
			continue
		}
		d, err := parseDay(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, 20001, fmt.Sprintf("Invalid %s: %q", key, v))
			return
		}
		*dst = d
	}
	size := defaultPageSize
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			writeError(w, http.StatusBadRequest, 20001, fmt.Sprintf("Invalid PageSize: %q", v))
			return
		}
		size = n
	}
	page := 0
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, 20001, fmt.Sprintf("Invalid Page: %q", v))
			return
		}
		page = n
	}
	now := time.Now()
	var all []Request
	for _, req := range s.created(resource) {
		st := stateOf(&req, now)
		dated := !on.IsZero() || !after.IsZero() || !before.IsZero()
		day := st.start.Truncate(24 * time.Hour)
		switch {
		case q.Get("To") != "" && req.Form.Get("To") != q.Get("To"),
			q.Get("From") != "" && req.Form.Get("From") != q.Get("From"),
			q.Get("Status") != "" && st.status != q.Get("Status"),
			dated && st.start.IsZero(),
			!on.IsZero() && !day.Equal(on),
			!after.IsZero() && day.Before(after),
			!before.IsZero() && day.After(before):
			continue
		}
		all = append(all, req)
	}
	slices.Reverse(all) // newest first
	start := 0
	if tok := q.Get("PageToken"); tok != "" {
		// Twilio's token names the last resource of the previous page.
		i := slices.IndexFunc(all, func(r Request) bool { return "PA"+r.SID == tok })
		if i < 0 {
			writeError(w, http.StatusBadRequest, 20001, "Invalid PageToken")
			return
		}
		start = i + 1
	} else if page > 0 {
		writeError(w, http.StatusBadRequest, 20001, "Page requires a PageToken")
		return
	}
	end := min(start+size, len(all))
	items := make([]map[string]any, 0, end-start)
	for i := start; i < end; i++ {
		items = append(items, s.listed(&all[i], now))
	}
	base := fmt.Sprintf("/2010-04-01/Accounts/%s/%s.json", s.AccountSID, resource)
	uri := func(extra url.Values) string {
		v := url.Values{}
		for _, k := range []string{"To", "From", "Status", dateField, dateField + ">", dateField + "<"} {
			if q.Has(k) {
				v.Set(k, q.Get(k))
			}
		}
		v.Set("PageSize", strconv.Itoa(size))
		for k, vs := range extra {
			v[k] = vs
		}
		return base + "?" + v.Encode()
	}
	var next any // JSON null on the last page, as Twilio sends
	if end < len(all) {
		next = uri(url.Values{"Page": {strconv.Itoa(page + 1)}, "PageToken": {"PA" + all[end-1].SID}})
	}
	key := strings.ToLower(resource)
	writeJSON(w, http.StatusOK, map[string]any{
		"first_page_uri":    uri(url.Values{"Page": {"0"}}),
		"next_page_uri":     next,
		"previous_page_uri": nil,
		"page":              page,
		"page_size":         size,
		"start":             start,
		"end":               max(end-1, start),
		"uri":               r.URL.RequestURI(),
		key:                 items,
	})
}

// state is where a message or call stands at one moment.
type state struct {
	status     string
	start, end time.Time // a call's; zero until it is dialed, and until it ends
}

// stateOf is req as a list shows it at now: a message sent at once; a
// call at the stage its CallProgress has reached.
func stateOf(req *Request, now time.Time) state {
	if req.Resource == "Messages" {
		return state{status: "sent", start: req.At}
	}
	p := req.progress
	st := state{status: "queued"}
	n := p.reached(now.Sub(req.At))
	if n >= 1 {
		st.status, st.start = "ringing", req.At.Add(p.Initiated)
	}
	if n >= 3 {
		st.status = "in-progress"
	}
	if n >= 4 {
		st.status, st.end = "completed", req.At.Add(p.Completed)
		if p.Answered < 0 {
			st.status = "no-answer"
		}
	}
	return st
}

// listed is one resource as a list shows it at now: a message sent at once;
// a call with its start_time, end_time and duration null until they are
// known, as Twilio sends them.
func (s *Server) listed(req *Request, now time.Time) map[string]any {
	out := s.resource(req)
	at := req.At.Format(rfc2822)
	out["date_created"], out["date_updated"] = at, at
	st := stateOf(req, now)
	out["status"] = st.status
	if req.Resource == "Messages" {
		out["date_sent"] = at
		return out
	}
	out["start_time"], out["end_time"], out["duration"] = nil, nil, nil
	if !st.start.IsZero() {
		out["start_time"] = st.start.Format(rfc2822)
	}
	if !st.end.IsZero() {
		out["end_time"] = st.end.Format(rfc2822)
		secs := 0
		if req.progress.Answered >= 0 {
			secs = int(st.end.Sub(req.At.Add(req.progress.Answered)).Seconds())
		}
		out["duration"] = strconv.Itoa(secs)
	}
	return out
}

// parseDay reads a Twilio date filter's value as its GMT day.
func parseDay(v string) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		return d, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC().Truncate(24 * time.Hour), nil
}
