package router

import (
	"net/http"
	"strconv"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// DeadTimerView is a dead-lettered timer as the API shows it.
type DeadTimerView struct {
	ID             string    `json:"id"`
	Incident       int64     `json:"incident,omitempty"`
	Kind           string    `json:"kind"`
	Attempts       int       `json:"attempts"`
	Error          string    `json:"error"`
	DeadLetteredAt time.Time `json:"dead_lettered_at"`
	Due            time.Time `json:"due"`
}

func deadView(d store.DeadTimer) DeadTimerView {
	return DeadTimerView{ID: d.ID, Incident: d.IncidentID, Kind: d.Kind, Attempts: d.Attempt,
		Error: d.Error, DeadLetteredAt: d.At, Due: d.Due}
}

// deadLetterRoutes serves the dead-letter set, behind the API token. A
// timer id holds slashes: it goes in the path escaped (%2F).
func (s *Server) deadLetterRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/timers/dead", s.api(s.listDead))
	mux.Handle("POST /api/v1/timers/dead/{id}/{action}", s.api(s.actDead))
}

func (s *Server) listDead(_ http.ResponseWriter, r *http.Request) (any, error) {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, &httpError{http.StatusBadRequest, "limit: want a positive number"}
		}
		limit = n
	}
	ds, err := s.Engine.DeadTimers(r.Context(), limit)
	if err != nil {
		return nil, err
	}
	out := make([]DeadTimerView, len(ds))
	for i, d := range ds {
		out[i] = deadView(d)
	}
	return out, nil
}

// actDead is retry (run it again now, with a fresh count of attempts) or
// discard (drop it for good), by the request's identity.
func (s *Server) actDead(_ http.ResponseWriter, r *http.Request) (any, error) {
	id := r.PathValue("id")
	actor := requestActor(r)
	var d store.DeadTimer
	var err error
	switch r.PathValue("action") {
	case "retry":
		d, err = s.Engine.RetryDeadTimer(r.Context(), id, actor)
	case "discard":
		d, err = s.Engine.DiscardDeadTimer(r.Context(), id, actor)
	default:
		return nil, &httpError{http.StatusNotFound, "unknown action: want retry or discard"}
	}
	if err != nil {
		return nil, err
	}
	return deadView(d), nil
}
