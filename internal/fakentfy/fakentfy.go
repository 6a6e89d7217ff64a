// Package fakentfy is a local ntfy server for tests: JSON publishing checked
// as ntfy checks it, access tokens, and an http action pressed as the app sends it.
package fakentfy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxBody is ntfy's default message-size-limit plus room for the JSON
// around it; a larger publish is 413.
const maxBody = 4096 + 4096

var topicRe = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

// Server is a fake ntfy server reached at URL(). It is safe for concurrent use.
type Server struct {
	srv   *httptest.Server
	token string // "": anonymous publishing is allowed

	mu       sync.Mutex
	messages []Message
	refused  []Refusal
	failures []int
	denied   []string
}

// Message is one message ntfy accepted, as published.
type Message struct {
	ID       string   `json:"id"`
	Time     int64    `json:"time"`
	Event    string   `json:"event"`
	Topic    string   `json:"topic"`
	Title    string   `json:"title,omitempty"`
	Message  string   `json:"message"`
	Priority int      `json:"priority,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	Click    string   `json:"click,omitempty"`
	Actions  []Action `json:"actions,omitempty"`
}

// Action is a button, as ntfy's JSON publishing takes it.
type Action struct {
	ID      string            `json:"id,omitempty"`
	Action  string            `json:"action"`
	Label   string            `json:"label"`
	URL     string            `json:"url,omitempty"`
	Method  string            `json:"method,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	Clear   bool              `json:"clear,omitempty"`
	Intent  string            `json:"intent,omitempty"`
	Extras  map[string]string `json:"extras,omitempty"`
}

// Refusal is one publish the server refused, and why.
type Refusal struct {
	Status int
	Error  string
}

// New starts a fake server that takes publishes bearing token ("" for none needed).
func New(token string) *Server {
	s := &Server{token: token}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the server's base URL, for providers.ntfy.url.
func (s *Server) URL() string { return s.srv.URL }

// Close shuts the server down; later publishes are refused connections.
func (s *Server) Close() { s.srv.Close() }

// Fail makes the next publish answer status (500, 429…) in ntfy's error
// shape; each publish consumes one.
func (s *Server) Fail(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, status)
}

// Deny makes the token unable to write topic: ntfy's 403 for an access control list.
func (s *Server) Deny(topic string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied = append(s.denied, topic)
}

// Messages are the messages accepted on topic ("" for all), in order.
func (s *Server) Messages(topic string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if topic == "" || m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// Refused are the publishes refused so far, in order.
func (s *Server) Refused() []Refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.refused)
}

// errorBody is ntfy's error answer.
type errorBody struct {
	Code  int    `json:"code"`
	HTTP  int    `json:"http"`
	Error string `json:"error"`
	Link  string `json:"link,omitempty"`
}

func (s *Server) refuse(w http.ResponseWriter, status, code int, msg string) {
	s.mu.Lock()
	s.refused = append(s.refused, Refusal{Status: status, Error: msg})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(errorBody{Code: code, HTTP: status, Error: msg})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	// JSON publishing is a POST or PUT to the root; the topic is in the body.
	if r.URL.Path != "/" || (r.Method != http.MethodPost && r.Method != http.MethodPut) {
		s.refuse(w, http.StatusNotFound, 40401, "page not found (this fake serves JSON publishing only)")
		return
	}
	if s.token != "" {
		auth := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || tok != s.token {
			s.refuse(w, http.StatusUnauthorized, 40101, "unauthorized")
			return
		}
	}
	s.mu.Lock()
	var status int
	if len(s.failures) > 0 {
		status, s.failures = s.failures[0], s.failures[1:]
	}
	s.mu.Unlock()
	if status != 0 {
		s.refuse(w, status, status*100+1, http.StatusText(status))
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		s.refuse(w, http.StatusBadRequest, 40000, "cannot read body")
		return
	}
	if len(raw) > maxBody {
		s.refuse(w, http.StatusRequestEntityTooLarge, 41301, "request entity too large")
		return
	}
	var m Message
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // a misspelt field would be dropped by ntfy: catch it here
	if err := dec.Decode(&m); err != nil || dec.More() {
		s.refuse(w, http.StatusBadRequest, 40024, fmt.Sprintf("invalid request: request body must be message JSON: %v", err))
		return
	}
	if msg := check(&m); msg != "" {
		s.refuse(w, http.StatusBadRequest, 40000, msg)
		return
	}
	s.mu.Lock()
	if slices.Contains(s.denied, m.Topic) {
		s.mu.Unlock()
		s.refuse(w, http.StatusForbidden, 40301, "forbidden")
		return
	}
	m.ID, m.Time, m.Event = newID(), time.Now().Unix(), "message"
	for i := range m.Actions {
		m.Actions[i].ID = newID()
	}
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(m)
}

// check is what ntfy refuses in a JSON publish, "" when it takes it.
func check(m *Message) string {
	switch {
	case m.Topic == "":
		return "invalid request: topic missing"
	case !topicRe.MatchString(m.Topic):
		return "invalid topic"
	case m.Priority < 0 || m.Priority > 5:
		return "invalid priority"
	case len(m.Message) > 4096:
		return "message too large"
	case len(m.Actions) > 3:
		return "invalid action: too many actions, only 3 allowed"
	}
	for _, a := range m.Actions {
		switch {
		case a.Label == "":
			return "invalid action: label is required"
		case a.Action != "view" && a.Action != "http" && a.Action != "broadcast":
			return fmt.Sprintf("invalid action: unknown action %q", a.Action)
		case a.Action != "broadcast" && !strings.HasPrefix(a.URL, "http://") && !strings.HasPrefix(a.URL, "https://"):
			return "invalid action: url must be http(s)"
		case a.Action == "http" && a.Method != "" && a.Method != strings.ToUpper(a.Method):
			return "invalid action: method must be upper case"
		}
	}
	return ""
}

// Press does what the ntfy app does when the button labelled label on m is
// tapped: an http action sends its request itself (POST unless it names a
// method), a view action opens the URL. It reports the HTTP status.
func Press(ctx context.Context, m Message, label string) (int, error) {
	for _, a := range m.Actions {
		if a.Label != label {
			continue
		}
		method := a.Method
		if method == "" {
			method = http.MethodPost
		}
		if a.Action == "view" {
			method = http.MethodGet
		}
		req, err := http.NewRequestWithContext(ctx, method, a.URL, strings.NewReader(a.Body))
		if err != nil {
			return 0, err
		}
		for k, v := range a.Headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	return 0, fmt.Errorf("message %s has no button %q", m.ID, label)
}

// newID is a 12-character message id, as ntfy's.
func newID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 12)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
