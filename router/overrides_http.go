package router

import (
	"net/http"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// The stored overrides and mutes API, behind the incident API's token:
// who acts is the token's user (requestActor), and the roles decide
// (access.Decide: Cover, Mute).

func (s *Server) storedRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/overrides", s.api(s.postOverride))
	mux.Handle("GET /api/v1/overrides", s.api(s.listOverrides))
	mux.Handle("DELETE /api/v1/overrides/{id}", s.api(s.deleteOverride))
	mux.Handle("POST /api/v1/maintenance", s.api(s.postMute))
	mux.Handle("GET /api/v1/maintenance", s.api(s.listMutes))
	mux.Handle("DELETE /api/v1/maintenance/{id}", s.api(s.deleteMute))
}

// overrideRequest is POST /api/v1/overrides.
type overrideRequest struct {
	For      string    `json:"for"`
	By       string    `json:"by"`
	Rotation string    `json:"rotation"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Reason   string    `json:"reason"`
}

func (s *Server) postOverride(_ http.ResponseWriter, r *http.Request) (any, error) {
	var q overrideRequest
	if err := decodeBody(r.Body, &q); err != nil {
		return nil, err
	}
	return s.Engine.AddOverride(r.Context(), requestActor(r),
		CoverRequest{For: q.For, By: q.By, Rotation: q.Rotation, Start: q.Start, End: q.End, Reason: q.Reason})
}

// listOverrides answers the overrides not ended yet, oldest first; ?all=1
// answers those ended too, until retention deletes them.
func (s *Server) listOverrides(_ http.ResponseWriter, r *http.Request) (any, error) {
	os, err := s.Engine.Store().ListOverrides(r.Context())
	if err != nil {
		return nil, err
	}
	now, all := s.Engine.now(), r.URL.Query().Get("all") != ""
	out := []store.Override{}
	for _, o := range os {
		if all || o.End.After(now) {
			out = append(out, o)
		}
	}
	return out, nil
}

func (s *Server) deleteOverride(_ http.ResponseWriter, r *http.Request) (any, error) {
	return s.Engine.RemoveOverride(r.Context(), requestActor(r), r.PathValue("id"))
}

// muteRequest is POST /api/v1/maintenance: For is a Go duration ("30m").
type muteRequest struct {
	Route      string `json:"route"`
	Department string `json:"department"`
	For        string `json:"for"`
	Reason     string `json:"reason"`
}

func (s *Server) postMute(_ http.ResponseWriter, r *http.Request) (any, error) {
	var q muteRequest
	if err := decodeBody(r.Body, &q); err != nil {
		return nil, err
	}
	d, err := time.ParseDuration(q.For)
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, "for: want a duration like 30m or 2h: " + err.Error()}
	}
	return s.Engine.StartMute(r.Context(), requestActor(r), MuteRequest{Route: q.Route, Department: q.Department, For: d, Reason: q.Reason})
}

// listMutes answers the mutes in force, oldest first; ?all=1 answers the
// ended ones too.
func (s *Server) listMutes(_ http.ResponseWriter, r *http.Request) (any, error) {
	ms, err := s.Engine.Store().ListMutes(r.Context())
	if err != nil {
		return nil, err
	}
	now, all := s.Engine.now(), r.URL.Query().Get("all") != ""
	out := []store.Mute{}
	for _, m := range ms {
		if all || m.End.After(now) {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *Server) deleteMute(_ http.ResponseWriter, r *http.Request) (any, error) {
	return s.Engine.EndMute(r.Context(), requestActor(r), r.PathValue("id"))
}
