package router

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// TestPageBody is POST /api/v1/test-pages's body: a user or a rotation
// (its on-call now), and optionally one channel.
type TestPageBody struct {
	User     string `json:"user,omitempty"`
	Rotation string `json:"rotation,omitempty"`
	Target   string `json:"target,omitempty"` // a user or a rotation, by id
	Channel  string `json:"channel,omitempty"`
}

// testPage is POST /api/v1/test-pages: a test page, asked for with a
// person's own token (the shared api_token may page nobody).
func (s *Server) testPage(w http.ResponseWriter, r *http.Request) (any, error) {
	var b TestPageBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("test page body: %v (want {\"user\": ..., \"rotation\": ..., \"channel\": ...})", err)}
	}
	inc, err := s.Engine.TestPage(r.Context(), TestPageRequest{Actor: requestActor(r), User: b.User,
		Rotation: b.Rotation, Target: b.Target, Channel: b.Channel, Via: "api"})
	if err != nil {
		return nil, err
	}
	return view(inc, nil), nil
}
