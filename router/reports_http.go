package router

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// The report API: POST .../reports sends one now, PUT .../reports/draft
// and .../reports/period change the next one. Who may is ChangeReports'.

func (s *Server) reportRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/incidents/{id}/reports", s.api(s.postReport))
	mux.Handle("PUT /api/v1/incidents/{id}/reports/draft", s.api(s.putReportDraft))
	mux.Handle("PUT /api/v1/incidents/{id}/reports/period", s.api(s.putReportPeriod))
}

type reportNowRequest struct {
	SendNow bool `json:"send_now"`
}

type reportDraftRequest struct {
	Text    *string `json:"text"`
	Replace bool    `json:"replace"`
}

type reportPeriodRequest struct {
	Period string `json:"period"`
}

// Report request kinds, one per route.
const (
	reportReqNow    = "now"
	reportReqDraft  = "draft"
	reportReqPeriod = "period"
)

func (s *Server) postReport(_ http.ResponseWriter, r *http.Request) (any, error) {
	return s.reportRequest(r, reportReqNow)
}

func (s *Server) putReportDraft(_ http.ResponseWriter, r *http.Request) (any, error) {
	return s.reportRequest(r, reportReqDraft)
}

func (s *Server) putReportPeriod(_ http.ResponseWriter, r *http.Request) (any, error) {
	return s.reportRequest(r, reportReqPeriod)
}

// parseReportRequest reads the body of a report request of kind into the
// change it asks for (Incident, Actor and Via left to the caller), or the
// 400 that says what is wrong with it: everything ChangeReports would
// refuse without reading the store is refused here, before it.
func parseReportRequest(kind string, body []byte) (ReportChange, error) {
	var c ReportChange
	switch kind {
	case reportReqNow:
		var q reportNowRequest
		if err := decodeJSON(body, &q); err != nil {
			return c, err
		}
		if !q.SendNow {
			return c, &httpError{http.StatusBadRequest, `give {"send_now": true} to send a report now`}
		}
		c.SendNow = true
	case reportReqDraft:
		var q reportDraftRequest
		if err := decodeJSON(body, &q); err != nil {
			return c, err
		}
		if q.Text == nil {
			return c, &httpError{http.StatusBadRequest, `no text: give {"text": "…"} ("" clears the draft)`}
		}
		if err := checkText("text", *q.Text, maxNoteText, true); err != nil {
			return c, &httpError{http.StatusBadRequest, err.Error()}
		}
		c.Draft, c.Replace = q.Text, q.Replace
	case reportReqPeriod:
		var q reportPeriodRequest
		if err := decodeJSON(body, &q); err != nil {
			return c, err
		}
		d, err := ParseReportPeriod(q.Period)
		if err != nil {
			return c, &httpError{http.StatusBadRequest, err.Error()}
		}
		c.Period = d
	default:
		return c, fmt.Errorf("router: report request kind %q", kind) // the routes name only the three
	}
	return c, nil
}

func (s *Server) reportRequest(r *http.Request, kind string) (any, error) {
	id, err := incidentID(r)
	if err != nil {
		return nil, err
	}
	body, err := readRunBody(r.Body)
	if err != nil {
		return nil, err
	}
	c, err := parseReportRequest(kind, body)
	if err != nil {
		return nil, err
	}
	c.Incident, c.Actor, c.Via = id, requestActor(r), "api"
	inc, err := s.Engine.ChangeReports(r.Context(), c)
	if err != nil {
		return nil, runError(err)
	}
	return view(inc, nil), nil
}

// ParseReportPeriod reads a period as "30m" or "1h30m", 1m to 24h.
func ParseReportPeriod(v string) (time.Duration, error) {
	d, err := model.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return 0, &periodError{v, err.Error()}
	}
	if time.Duration(d) < minReportPeriod || time.Duration(d) > maxReportPeriod {
		return 0, &periodError{v, "want 1m to 24h"}
	}
	return time.Duration(d), nil
}

type periodError struct{ v, why string }

func (e *periodError) Error() string { return "period " + `"` + e.v + `": ` + e.why }
