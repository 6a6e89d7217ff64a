package router

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/catalog"
)

// maxReportSpan bounds one report's period: a year of a department's
// incidents is the most one request reads.
const maxReportSpan = 366 * 24 * time.Hour

// healthReportParams are the parameters GET /api/v1/reports/health takes.
var healthReportParams = map[string]bool{"department": true, "from": true, "to": true, "format": true, "lang": true}

// HealthReportQuery is a parsed GET /api/v1/reports/health.
type HealthReportQuery struct {
	Department string
	From, To   time.Time
	Format     string // json, text or markdown
	Lang       string // "" for the configuration's global.language
}

// ParseHealthReportQuery reads the report's parameters; anything unknown,
// given twice, missing or out of range is an error naming it.
func ParseHealthReportQuery(q url.Values) (HealthReportQuery, error) {
	var hq HealthReportQuery
	for name, vs := range q {
		if !healthReportParams[name] {
			return hq, fmt.Errorf("unknown parameter %q", name)
		}
		if len(vs) > 1 {
			return hq, fmt.Errorf("%s: given %d times, want once", name, len(vs))
		}
	}
	hq.Department, hq.Format, hq.Lang = q.Get("department"), q.Get("format"), q.Get("lang")
	if hq.Department == "" {
		return hq, errors.New("department: required")
	}
	for _, tp := range []struct {
		name string
		dst  *time.Time
	}{{"from", &hq.From}, {"to", &hq.To}} {
		v := q.Get(tp.name)
		if v == "" {
			return hq, fmt.Errorf("%s: required, an RFC 3339 time such as 2026-11-24T00:00:00+09:00", tp.name)
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return hq, fmt.Errorf("%s: %q is not an RFC 3339 time such as 2026-11-24T00:00:00+09:00", tp.name, v)
		}
		if t.Unix() < 0 {
			return hq, fmt.Errorf("%s: %q is before 1970", tp.name, v)
		}
		*tp.dst = t
	}
	switch {
	case !hq.From.Before(hq.To):
		return hq, errors.New("from must be before to")
	case hq.To.Sub(hq.From) > maxReportSpan:
		return hq, fmt.Errorf("from to to spans %s, more than the %d days one report covers", hq.To.Sub(hq.From), int(maxReportSpan.Hours()/24))
	}
	switch hq.Format {
	case "":
		hq.Format = "json"
	case "json", "text", "markdown":
	default:
		return hq, fmt.Errorf("format %q: want json, text or markdown", hq.Format)
	}
	if hq.Lang != "" && !catalog.Has(hq.Lang) {
		return hq, fmt.Errorf("lang %q: want one of %s", hq.Lang, strings.Join(catalog.Languages(), ", "))
	}
	return hq, nil
}

// getHealthReport is GET /api/v1/reports/health: a department's report for
// anyone with a role in it (access.Report), as JSON, text or Markdown.
func (s *Server) getHealthReport(_ http.ResponseWriter, r *http.Request) (any, error) {
	hq, err := ParseHealthReportQuery(r.URL.Query())
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, err.Error()}
	}
	cfg := s.Engine.Policies().Config()
	if cfg.Department(hq.Department) == nil {
		return nil, &httpError{http.StatusNotFound, fmt.Sprintf("department %q: no such department", hq.Department)}
	}
	id, _ := IdentityOf(r.Context())
	if d := access.Decide(cfg, access.Request{User: id.User, Action: access.Report, Department: hq.Department}); !d.Allowed {
		return nil, &ForbiddenError{Reason: d.Reason}
	}
	rep, err := s.Engine.HealthReport(r.Context(), hq.Department, hq.From, hq.To)
	if err != nil {
		return nil, err
	}
	lang := hq.Lang
	if lang == "" {
		lang = cfg.Global.Language
	}
	switch hq.Format {
	case "text":
		return document{contentType: "text/plain; charset=utf-8", body: []byte(rep.Text(lang))}, nil
	case "markdown":
		return document{contentType: "text/markdown; charset=utf-8", body: []byte(rep.Markdown(lang))}, nil
	}
	return rep, nil
}
