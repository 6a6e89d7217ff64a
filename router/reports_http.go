package router

import (
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

func (s *Server) postReport(_ http.ResponseWriter, r *http.Request) (any, error) {
	var q reportNowRequest
	id, err := s.reportBody(r, &q)
	if err != nil {
		return nil, err
	}
	if !q.SendNow {
		return nil, &httpError{http.StatusBadRequest, `give {"send_now": true} to send a report now`}
	}
	return s.changeReports(r, ReportChange{Incident: id, SendNow: true})
}

func (s *Server) putReportDraft(_ http.ResponseWriter, r *http.Request) (any, error) {
	var q reportDraftRequest
	id, err := s.reportBody(r, &q)
	if err != nil {
		return nil, err
	}
	if q.Text == nil {
		return nil, &httpError{http.StatusBadRequest, `no text: give {"text": "…"} ("" clears the draft)`}
	}
	return s.changeReports(r, ReportChange{Incident: id, Draft: q.Text, Replace: q.Replace})
}

func (s *Server) putReportPeriod(_ http.ResponseWriter, r *http.Request) (any, error) {
	var q reportPeriodRequest
	id, err := s.reportBody(r, &q)
	if err != nil {
		return nil, err
	}
	d, err := ParseReportPeriod(q.Period)
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, err.Error()}
	}
	return s.changeReports(r, ReportChange{Incident: id, Period: d})
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

func (s *Server) reportBody(r *http.Request, v any) (int64, error) {
	id, err := incidentID(r)
	if err != nil {
		return 0, err
	}
	return id, decodeBody(r.Body, v)
}

func (s *Server) changeReports(r *http.Request, c ReportChange) (any, error) {
	c.Actor, c.Via = requestActor(r), "api"
	inc, err := s.Engine.ChangeReports(r.Context(), c)
	if err != nil {
		return nil, runError(err)
	}
	return view(inc, nil), nil
}
