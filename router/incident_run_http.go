package router

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// The incident-running API: roles, notes, severity and the timeline export,
// behind the same token as the rest of the incident API. Who acts is
// requestActor's answer, as for ack and resolve.

// maxRunBody bounds a role, note or severity request: a note of
// maxNoteText characters and five full fields fits it as UTF-8.
const maxRunBody = 64 << 10

func (s *Server) incidentRunRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/incidents/{id}/roles", s.api(s.postRole))
	mux.Handle("POST /api/v1/incidents/{id}/notes", s.api(s.postNote))
	mux.Handle("POST /api/v1/incidents/{id}/severity", s.api(s.postSeverity))
	mux.Handle("GET /api/v1/incidents/{id}/timeline", s.api(s.getTimeline))
}

// document is an answer that is not the API's JSON (the Markdown timeline).
type document struct {
	contentType string
	body        []byte
}

// decodeBody reads one JSON object of at most maxRunBody bytes into v,
// refusing unknown fields and anything after the object: a misspelt field
// must not be dropped in silence.
func decodeBody(r io.Reader, v any) error {
	body, err := readRunBody(r)
	if err != nil {
		return err
	}
	return decodeJSON(body, v)
}

// readRunBody reads a request body of at most maxRunBody bytes.
func readRunBody(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxRunBody+1))
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, "reading the request body: " + err.Error()}
	}
	if len(body) > maxRunBody {
		return nil, &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", maxRunBody)}
	}
	return body, nil
}

func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &httpError{http.StatusBadRequest, "request body: " + err.Error()}
	}
	if dec.More() {
		return &httpError{http.StatusBadRequest, "request body: more than one JSON value"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &httpError{http.StatusBadRequest, "request body: data after the JSON object"}
	}
	return nil
}

// runError gives the refusals of the incident-running actions their 400.
func runError(err error) error {
	if errors.Is(err, ErrBadRole) || errors.Is(err, ErrNotUser) || errors.Is(err, ErrBadNote) {
		return &httpError{http.StatusBadRequest, err.Error()}
	}
	return err
}

// roleRequest is POST /api/v1/incidents/{id}/roles.
type roleRequest struct {
	Role     string `json:"role"`
	User     string `json:"user"`
	Unassign bool   `json:"unassign"`
}

func (q *roleRequest) check() error {
	switch {
	case q.Unassign && q.User != "":
		return &httpError{http.StatusBadRequest, "give user to assign or unassign: true, not both"}
	case !q.Unassign && q.User == "":
		return &httpError{http.StatusBadRequest, "no user: give user to assign, or unassign: true"}
	}
	return nil
}

func (s *Server) postRole(_ http.ResponseWriter, r *http.Request) (any, error) {
	id, err := incidentID(r)
	if err != nil {
		return nil, err
	}
	var q roleRequest
	if err := decodeBody(r.Body, &q); err != nil {
		return nil, err
	}
	if err := q.check(); err != nil {
		return nil, err
	}
	inc, _, err := s.Engine.SetRole(r.Context(), RoleChange{Incident: id, Role: q.Role, User: q.User, Actor: requestActor(r), Via: "api"})
	if err != nil {
		return nil, runError(err)
	}
	return view(inc, nil), nil
}

// noteRequest is POST /api/v1/incidents/{id}/notes.
type noteRequest struct {
	Text     string `json:"text"`
	Decision bool   `json:"decision"`
	NoteFields
}

func (s *Server) postNote(_ http.ResponseWriter, r *http.Request) (any, error) {
	id, err := incidentID(r)
	if err != nil {
		return nil, err
	}
	var q noteRequest
	if err := decodeBody(r.Body, &q); err != nil {
		return nil, err
	}
	inc, err := s.Engine.AddNote(r.Context(), Note{Incident: id, Text: q.Text, Decision: q.Decision, Fields: q.NoteFields,
		Actor: requestActor(r), Via: "api"})
	if err != nil {
		return nil, runError(err)
	}
	return view(inc, nil), nil
}

// severityRequest is POST /api/v1/incidents/{id}/severity.
type severityRequest struct {
	Severity string `json:"severity"`
	Reason   string `json:"reason"`
	Escalate bool   `json:"escalate,omitempty"` // fire the next step too, in the same write
}

func (s *Server) postSeverity(_ http.ResponseWriter, r *http.Request) (any, error) {
	id, err := incidentID(r)
	if err != nil {
		return nil, err
	}
	var q severityRequest
	if err := decodeBody(r.Body, &q); err != nil {
		return nil, err
	}
	inc, _, err := s.Engine.ChangeSeverity(r.Context(), SeverityChange{Incident: id, Severity: q.Severity, Reason: q.Reason,
		Escalate: q.Escalate, Actor: requestActor(r), Via: "api"})
	if err != nil {
		return nil, runError(err)
	}
	return view(inc, nil), nil
}
