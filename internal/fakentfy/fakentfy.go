// Package fakentfy is a local ntfy server for tests: JSON publishing checked
// as ntfy checks it, access tokens, updating, clearing and deleting a
// notification by its sequence id (ntfy v2.16.0 and later, or refused with
// 404 as older servers do), and an http action pressed as the app sends it.
package fakentfy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// maxBody is ntfy's default message-size-limit plus room for the JSON
// around it; a larger publish is 413.
const maxBody = 4096 + 4096

var (
	topicRe = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)
	// sequenceRe is ntfy's rule for a sequence id: that of a topic.
	sequenceRe = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)
)

// Server is a fake ntfy server reached at URL(). It is safe for concurrent use.
type Server struct {
	srv    *httptest.Server
	tokens []string // none: anonymous publishing is allowed

	mu       sync.Mutex
	messages []Message
	refused  []Refusal
	failures []int
	denied   []string
	auths    []string
	legacy   bool
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
	// SequenceID names the notification a message updates, clears or
	// deletes; a message published without one starts the sequence of its
	// own id.
	SequenceID string `json:"sequence_id,omitempty"`
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
	s := &Server{}
	if token != "" {
		s.tokens = []string{token}
	}
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

// Messages are the messages accepted on topic ("" for all), in order:
// publishes, updates (SequenceID set) and clear and delete events (Event).
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

// Accept takes tok too (another user's access token on this server).
func (s *Server) Accept(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = append(s.tokens, tok)
}

// Legacy makes the server answer as ntfy before v2.16.0: no sequence
// routes (404), and a sequence_id in a JSON publish ignored.
func (s *Server) Legacy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.legacy = true
}

// Authorizations are the Authorization headers of every request so far, in
// order ("" for none): which token went to this server.
func (s *Server) Authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.auths)
}

// Notification is what a phone subscribed to the topic shows of one
// sequence: its latest revision, and whether it was cleared or deleted.
type Notification struct {
	Message   Message
	Revisions int // messages published to the sequence, the first included
	Cleared   bool
	Deleted   bool
}

// Notification folds the events of sequence id (a message's own id, or the
// sequence id it was published with) on topic; false when there are none.
func (s *Server) Notification(topic, id string) (Notification, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n Notification
	found := false
	for _, m := range s.messages {
		if m.Topic != topic || (m.SequenceID != id && (m.SequenceID != "" || m.ID != id)) {
			continue
		}
		found = true
		switch m.Event {
		case "message":
			n.Message, n.Cleared = m, false // an update shows the notification again
			n.Revisions++
		case "message_clear":
			n.Cleared = true
		case "message_delete":
			n.Deleted = true
		}
	}
	return n, found
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
	s.mu.Lock()
	s.auths = append(s.auths, r.Header.Get("Authorization"))
	legacy := s.legacy
	s.mu.Unlock()
	// JSON publishing is a POST or PUT to the root; the topic is in the body.
	// From v2.16.0, /<topic>/<sequence_id> publishes (headers and body) to a
	// sequence, DELETE on it deletes the notification and PUT on .../clear
	// clears it. An older server has no such routes: 404.
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	var op string
	switch {
	case r.URL.Path == "/" && (r.Method == http.MethodPost || r.Method == http.MethodPut):
		op = "publish"
	case legacy:
	case len(parts) == 2 && (r.Method == http.MethodPost || r.Method == http.MethodPut):
		op = "update"
	case len(parts) == 2 && r.Method == http.MethodDelete:
		op = "message_delete"
	case len(parts) == 3 && parts[2] == "clear" && r.Method == http.MethodPut:
		op = "message_clear"
	}
	if op == "" {
		s.refuse(w, http.StatusNotFound, 40401, "page not found")
		return
	}
	s.mu.Lock()
	tokens := slices.Clone(s.tokens)
	s.mu.Unlock()
	if len(tokens) > 0 {
		auth := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || !slices.Contains(tokens, tok) {
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
	switch op {
	case "publish":
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields() // a misspelt field would be dropped by ntfy: catch it here
		if err := dec.Decode(&m); err != nil || dec.More() {
			s.refuse(w, http.StatusBadRequest, 40024, fmt.Sprintf("invalid request: request body must be message JSON: %v", err))
			return
		}
		if legacy {
			m.SequenceID = "" // a field it does not know: ntfy before v2.16 publishes anew
		}
	default:
		m.Topic, m.SequenceID = parts[0], parts[1]
		if !topicRe.MatchString(m.Topic) {
			s.refuse(w, http.StatusBadRequest, 40009, "invalid request: topic invalid")
			return
		}
		if !sequenceRe.MatchString(m.SequenceID) {
			s.refuse(w, http.StatusBadRequest, 40049, "invalid request: sequence ID invalid")
			return
		}
		if op == "update" {
			if msg := fromHeaders(&m, r.Header, raw); msg != "" {
				s.refuse(w, http.StatusBadRequest, 40000, msg)
				return
			}
		} else if len(raw) > 0 {
			s.refuse(w, http.StatusBadRequest, 40000, "invalid request: "+op+" takes no body")
			return
		}
	}
	if op == "publish" || op == "update" {
		if msg := check(&m); msg != "" {
			s.refuse(w, http.StatusBadRequest, 40000, msg)
			return
		}
	}
	if m.SequenceID != "" && !sequenceRe.MatchString(m.SequenceID) {
		s.refuse(w, http.StatusBadRequest, 40049, "invalid request: sequence ID invalid")
		return
	}
	s.mu.Lock()
	if slices.Contains(s.denied, m.Topic) {
		s.mu.Unlock()
		s.refuse(w, http.StatusForbidden, 40301, "forbidden")
		return
	}
	m.ID, m.Time, m.Event = newID(), time.Now().Unix(), "message"
	if op == "message_clear" || op == "message_delete" {
		m.Event = op
	}
	for i := range m.Actions {
		m.Actions[i].ID = newID()
	}
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(m)
}

// fromHeaders reads a publish by headers, as ntfy does on /<topic>/<sequence_id>:
// the body is the message, the rest comes in X-Title, X-Priority, X-Tags and
// X-Actions (or their short names), MIME-encoded when not ASCII. Stricter
// than ntfy, it takes actions as JSON only (ntfy also parses a short form)
// and refuses raw non-ASCII header bytes, which proxies may mangle.
func fromHeaders(m *Message, h http.Header, body []byte) string {
	read := func(names ...string) (string, string) {
		for _, n := range names {
			v := h.Get(n)
			if v == "" {
				continue
			}
			d, err := mimeDecoder.DecodeHeader(v)
			if err != nil {
				return "", "invalid request: header " + n + ": " + err.Error()
			}
			if d == v && strings.IndexFunc(v, func(r rune) bool { return r > 127 }) >= 0 {
				return "", "invalid request: header " + n + " is not ASCII: encode it (RFC 2047)"
			}
			return strings.TrimSpace(d), ""
		}
		return "", ""
	}
	if !utf8.Valid(body) {
		return "invalid request: the body is not UTF-8 (ntfy would make it an attachment)"
	}
	m.Message = string(body)
	var bad string
	if m.Title, bad = read("X-Title", "Title", "t"); bad != "" {
		return bad
	}
	p, bad := read("X-Priority", "Priority", "prio", "p")
	if bad != "" {
		return bad
	}
	if p != "" {
		n, ok := priorities[strings.ToLower(p)]
		if !ok {
			return "invalid request: priority invalid"
		}
		m.Priority = n
	}
	tags, bad := read("X-Tags", "Tags", "tag", "ta")
	if bad != "" {
		return bad
	}
	for _, t := range strings.Split(tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			m.Tags = append(m.Tags, t)
		}
	}
	actions, bad := read("X-Actions", "Actions", "Action")
	if bad != "" {
		return bad
	}
	if actions != "" {
		if !strings.HasPrefix(actions, "[") {
			return "invalid request: this fake parses actions as a JSON array only"
		}
		dec := json.NewDecoder(strings.NewReader(actions))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m.Actions); err != nil {
			return "invalid action: " + err.Error()
		}
	}
	return ""
}

var priorities = map[string]int{"1": 1, "min": 1, "2": 2, "low": 2, "3": 3, "default": 3,
	"4": 4, "high": 4, "5": 5, "max": 5, "urgent": 5}

var mimeDecoder mime.WordDecoder

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
