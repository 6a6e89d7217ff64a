package router

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// incidentQueryParams are the parameters GET /api/v1/incidents takes.
var incidentQueryParams = map[string]bool{
	"status": true, "department": true, "severity": true, "route": true, "policy": true, "acked_by": true,
	"opened_after": true, "opened_before": true, "resolved_after": true, "resolved_before": true,
	"order": true, "limit": true, "cursor": true, "tests": true,
}

// ParseIncidentQuery turns GET /api/v1/incidents's parameters into a store
// query. Any parameter it does not know, given twice, or out of range is an
// error naming it, so a typo does not silently widen the answer.
func ParseIncidentQuery(q url.Values) (store.ListOptions, error) {
	var opt store.ListOptions
	for name, vs := range q {
		if !incidentQueryParams[name] {
			return opt, fmt.Errorf("unknown parameter %q", name)
		}
		if len(vs) > 1 {
			return opt, fmt.Errorf("%s: given %d times, want once", name, len(vs))
		}
	}
	opt.Status = store.Status(q.Get("status"))
	switch opt.Status {
	case "", store.StatusOpen, store.StatusAcked, store.StatusResolved:
	default:
		return opt, errors.New("status: want open, acked or resolved")
	}
	opt.Department, opt.Severity, opt.Route = q.Get("department"), q.Get("severity"), q.Get("route")
	opt.Policy, opt.AckedBy, opt.Cursor = q.Get("policy"), q.Get("acked_by"), q.Get("cursor")
	for _, tp := range []struct {
		name string
		dst  *time.Time
	}{
		{"opened_after", &opt.OpenedAfter}, {"opened_before", &opt.OpenedBefore},
		{"resolved_after", &opt.ResolvedAfter}, {"resolved_before", &opt.ResolvedBefore},
	} {
		v := q.Get(tp.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return opt, fmt.Errorf("%s: %q is not an RFC 3339 time such as 2026-11-24T02:27:00Z or 2026-11-24T11:27:00+09:00", tp.name, v)
		}
		if t.Unix() < 0 {
			return opt, fmt.Errorf("%s: %q is before 1970", tp.name, v)
		}
		*tp.dst = t
	}
	if !opt.OpenedAfter.IsZero() && !opt.OpenedBefore.IsZero() && !opt.OpenedAfter.Before(opt.OpenedBefore) {
		return opt, errors.New("opened_after must be before opened_before")
	}
	if !opt.ResolvedAfter.IsZero() && !opt.ResolvedBefore.IsZero() && !opt.ResolvedAfter.Before(opt.ResolvedBefore) {
		return opt, errors.New("resolved_after must be before resolved_before")
	}
	switch q.Get("tests") {
	case "", "include":
	default:
		return opt, errors.New("tests: want include (test pages are left out unless asked for, or severity=test)")
	}
	switch q.Get("order") {
	case "", "newest":
	case "oldest":
		opt.Oldest = true
	default:
		return opt, errors.New("order: want newest or oldest")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > store.MaxPage {
			return opt, fmt.Errorf("limit: want a number from 0 to %d (0: %d)", store.MaxPage, store.MaxPage)
		}
		opt.Limit = n
	}
	return opt, nil
}

// IncidentPage is GET /api/v1/incidents's answer.
type IncidentPage struct {
	Items []IncidentView `json:"items"`
	// NextCursor continues the listing (pass it as cursor, with the same
	// filters); "" when there is no more.
	NextCursor string `json:"next_cursor"`
}

func (s *Server) listIncidents(_ http.ResponseWriter, r *http.Request) (any, error) {
	opt, err := ParseIncidentQuery(r.URL.Query())
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, err.Error()}
	}
	page, err := s.Engine.Store().Query(r.Context(), opt)
	if errors.Is(err, store.ErrBadCursor) {
		return nil, &httpError{http.StatusBadRequest, "cursor: " + err.Error()}
	}
	if err != nil {
		return nil, err
	}
	if r.URL.Query().Get("tests") != "include" && opt.Severity != TestSeverity {
		page.Incidents = withoutTests(page.Incidents, "")
	}
	out := IncidentPage{Items: make([]IncidentView, 0, len(page.Incidents)), NextCursor: page.Next}
	for _, inc := range page.Incidents {
		out.Items = append(out.Items, view(inc, nil))
	}
	return out, nil
}

// withoutTests leaves test pages out of a listing, but for user's own: a
// contact check is nobody else's incident. Filtered after the store's
// query, so a page of a listing may hold fewer than its limit.
func withoutTests(incs []*store.Incident, user string) []*store.Incident {
	out := incs[:0:0]
	for _, inc := range incs {
		if inc.Test == nil || (user != "" && inc.Test.User == user) {
			out = append(out, inc)
		}
	}
	return out
}
