// Package fakeslack is a local Slack workspace for tests: the Web API (chat.postMessage,
// chat.update, chat.postEphemeral, conversations.open, conversations.history) as Slack checks it, and button presses signed as Slack signs them.
package fakeslack

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// maxTextLen is chat.postMessage's limit; longer text is msg_too_long.
const maxTextLen = 40000

var idRe = regexp.MustCompile(`^[CGDUW][A-Z0-9]{2,}$`)

// Server is a fake Slack workspace reached at URL(). It is safe for concurrent use.
type Server struct {
	srv   *httptest.Server
	token string

	mu       sync.Mutex
	calls    []Call
	messages map[string]*Call // channel/ts → the message as last posted or updated
	failures map[string][]Failure
	seq      int
	lastTS   int64 // microseconds of the newest ts handed out
	// responses and clicks serve interactions (interaction.go).
	responses []Response
	clicks    int
	events    int // event_callbacks made (events.go)
	latency   time.Duration
}

// SetLatency makes every call answer d after Slack has done it, as the real
// API takes a few hundred milliseconds: a message is posted when its call
// arrives, so a client killed during the wait has posted it.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Call is one API call Slack accepted or refused.
type Call struct {
	Method  string // chat.postMessage, chat.update, conversations.open
	Channel string // the channel asked for (a user id for a DM)
	// PostedIn is the conversation the message landed in: a user's DM ("D…") for a user id.
	PostedIn string
	TS       string
	Text     string
	Blocks   slack.Blocks
	// User is who wrote a person's message (ThreadReply), or whom
	// chat.postEphemeral showed one to.
	User string
	Form url.Values // every parameter but the token
	// Metadata is the message metadata posted with it (event_type, event_payload), if any.
	Metadata *slack.SlackMetadata
	Error    string    // Slack's error code when it answered ok:false
	At       time.Time // when it arrived, UTC
}

// Failure is what the next call of a method answers instead of success.
type Failure struct {
	Error      string        // answer 200 {"ok":false,"error":Error}
	Status     int           // answer this HTTP status (500, 429…) with Slack's HTML body
	RetryAfter int           // seconds, with Status 429
	Delay      time.Duration // wait before answering (or until the client gives up)
}

// New starts a fake workspace whose bot token is token (xoxb-…).
func New(token string) *Server {
	s := &Server{token: token, messages: map[string]*Call{}, failures: map[string][]Failure{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the API base to give slack.OptionAPIURL or providers.slack.api_url.
func (s *Server) URL() string { return s.srv.URL + "/api/" }

// Close shuts the server down; later calls are refused connections.
func (s *Server) Close() { s.srv.Close() }

// Fail makes the next call of method (every method when "") answer f; each
// call consumes one failure, so Fail twice to fail twice.
func (s *Server) Fail(method string, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], f)
}

// Calls are every call so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Message is the message at channel/ts as it now reads, or nil.
func (s *Server) Message(channel, ts string) *Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.messages[channel+"/"+ts]; c != nil {
		cp := *c
		return &cp
	}
	return nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/actions/") {
		s.respond(w, r)
		return
	}
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	// Read the body first: only then does net/http notice a client that
	// gives up, which a delayed answer waits for.
	form, ferr := readForm(r)
	if f, ok := s.nextFailure(method); ok {
		if s.fail(w, r, f) {
			return
		}
	}
	if ferr != nil {
		answer(w, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	if code := s.auth(r, form); code != "" {
		answer(w, map[string]any{"ok": false, "error": code})
		return
	}
	form.Del("token")
	var resp map[string]any
	call := Call{Method: method, Channel: form.Get("channel"), Text: form.Get("text"), Form: form, At: time.Now().UTC()}
	switch method {
	case "chat.postMessage", "chat.update":
		resp = s.chat(&call)
	case "chat.postEphemeral":
		resp = s.ephemeral(&call)
	case "conversations.open":
		resp = s.open(&call)
	case "conversations.history":
		resp = s.history(&call)
	default:
		resp = map[string]any{"ok": false, "error": "unknown_method"}
	}
	if e, _ := resp["error"].(string); e != "" {
		call.Error = e
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return // the client gave up; the message is posted all the same
		}
	}
	answer(w, resp)
}

func (s *Server) nextFailure(method string) (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range []string{method, ""} {
		if fs := s.failures[m]; len(fs) > 0 {
			s.failures[m] = fs[1:]
			return fs[0], true
		}
	}
	return Failure{}, false
}

// fail answers f and tells whether the request is done with; a bare delay
// goes on to be served normally.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, f Failure) bool {
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return true
		}
	}
	switch {
	case f.Status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(max(f.RetryAfter, 1)))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
	case f.Status != 0:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		io.WriteString(w, "<html><body>Slack is having trouble</body></html>")
	case f.Error != "":
		answer(w, map[string]any{"ok": false, "error": f.Error})
	default:
		return false
	}
	return true
}

// readForm reads the parameters as Slack takes them: a url-encoded form
// (slack-go's chat.* and conversations.*) or a JSON object.
func readForm(r *http.Request) (url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		return r.PostForm, nil
	case "application/json":
		var obj map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&obj); err != nil {
			return nil, err
		}
		form := url.Values{}
		for k, raw := range obj {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				form.Set(k, s)
			} else {
				form.Set(k, string(raw)) // blocks, attachments: JSON text, as in a form
			}
		}
		return form, nil
	}
	return nil, fmt.Errorf("content type %q", ct)
}

// auth takes the token from Authorization: Bearer (what Slack recommends)
// or the token parameter (what slack-go sends for chat.*), as Slack does.
func (s *Server) auth(r *http.Request, form url.Values) string {
	tok := form.Get("token")
	if h := r.Header.Get("Authorization"); h != "" {
		b, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return "invalid_auth"
		}
		tok = b
	}
	switch {
	case tok == "":
		return "not_authed"
	case tok != s.token:
		return "invalid_auth"
	}
	return ""
}

// content reads a message's blocks into c and refuses what Slack refuses
// of its text and blocks, for chat.postMessage, chat.update and
// chat.postEphemeral alike; nil when it is fine.
func content(c *Call) map[string]any {
	if raw := c.Form.Get("blocks"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &c.Blocks); err != nil || !validBlocks(raw) {
			return map[string]any{"ok": false, "error": "invalid_blocks"}
		}
	}
	if c.Text == "" && len(c.Blocks.BlockSet) == 0 {
		return map[string]any{"ok": false, "error": "no_text"}
	}
	if len(c.Text) > maxTextLen {
		return map[string]any{"ok": false, "error": "msg_too_long"}
	}
	return nil
}

func (s *Server) chat(c *Call) map[string]any {
	if !idRe.MatchString(c.Channel) {
		return map[string]any{"ok": false, "error": "channel_not_found"}
	}
	if refused := content(c); refused != nil {
		return refused
	}
	if raw := c.Form.Get("metadata"); raw != "" {
		var md slack.SlackMetadata
		if err := json.Unmarshal([]byte(raw), &md); err != nil || md.EventType == "" || md.EventPayload == nil {
			return map[string]any{"ok": false, "error": "invalid_metadata_format"}
		}
		c.Metadata = &md
	}
	c.PostedIn = dm(c.Channel)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Method == "chat.update" {
		c.TS = c.Form.Get("ts")
		if s.messages[c.PostedIn+"/"+c.TS] == nil {
			return map[string]any{"ok": false, "error": "message_not_found"}
		}
	} else {
		// Slack's ts is when it took the message, unique and rising per conversation.
		s.seq++
		s.lastTS = max(time.Now().UnixMicro(), s.lastTS+1)
		c.TS = fmt.Sprintf("%d.%06d", s.lastTS/1e6, s.lastTS%1e6)
	}
	if c.Method == "chat.update" {
		c.Metadata = s.messages[c.PostedIn+"/"+c.TS].Metadata // chat.update keeps it unless given
	}
	cp := *c
	s.messages[c.PostedIn+"/"+c.TS] = &cp
	return map[string]any{"ok": true, "channel": c.PostedIn, "ts": c.TS, "text": c.Text,
		"message": map[string]any{"type": "message", "text": c.Text, "ts": c.TS, "bot_id": "B0FAKE"}}
}

// ephemeral serves chat.postEphemeral: text (or blocks) shown to user
// alone in a conversation they are in, optionally in a thread (thread_ts,
// which must be a message of the conversation). Slack keeps no such
// message: it is in Calls only, and answers its message_ts. A member
// here is a DM's own user, or anyone who wrote in the conversation.
func (s *Server) ephemeral(c *Call) map[string]any {
	c.User = c.Form.Get("user")
	if !idRe.MatchString(c.Channel) || strings.ContainsAny(c.Channel[:1], "UW") {
		return map[string]any{"ok": false, "error": "channel_not_found"}
	}
	if !idRe.MatchString(c.User) || !strings.ContainsAny(c.User[:1], "UW") {
		return map[string]any{"ok": false, "error": "user_not_found"}
	}
	if refused := content(c); refused != nil {
		return refused
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	member := dm(c.User) == c.Channel
	for _, m := range s.messages {
		member = member || m.PostedIn == c.Channel && m.User == c.User
	}
	if !member {
		return map[string]any{"ok": false, "error": "user_not_in_channel"}
	}
	if th := c.Form.Get("thread_ts"); th != "" && s.messages[c.Channel+"/"+th] == nil {
		return map[string]any{"ok": false, "error": "message_not_found"}
	}
	s.lastTS = max(time.Now().UnixMicro(), s.lastTS+1)
	c.TS = fmt.Sprintf("%d.%06d", s.lastTS/1e6, s.lastTS%1e6)
	c.PostedIn = c.Channel
	return map[string]any{"ok": true, "message_ts": c.TS}
}

func (s *Server) open(c *Call) map[string]any {
	users := c.Form.Get("users")
	if users == "" || strings.Contains(users, ",") || !idRe.MatchString(users) || !strings.ContainsAny(users[:1], "UW") {
		return map[string]any{"ok": false, "error": "user_not_found"}
	}
	c.PostedIn = dm(users)
	return map[string]any{"ok": true, "channel": map[string]any{"id": c.PostedIn}}
}

// dm is the conversation a message to id lands in: a user's DM with the bot.
func dm(id string) string {
	if id[0] == 'U' || id[0] == 'W' {
		return "D" + id[1:]
	}
	return id
}

// validBlocks checks what Slack checks beyond JSON: every block has a type
// Slack knows, and text objects have a type and text.
func validBlocks(raw string) bool {
	var blocks []map[string]any
	if json.Unmarshal([]byte(raw), &blocks) != nil || len(blocks) > 50 {
		return false
	}
	for _, b := range blocks {
		switch b["type"] {
		case "header", "section", "context", "actions", "divider", "image", "rich_text", "markdown":
		default:
			return false
		}
		if t, ok := b["text"].(map[string]any); ok {
			text, _ := t["text"].(string)
			if (t["type"] != "plain_text" && t["type"] != "mrkdwn") || text == "" {
				return false
			}
			if b["type"] == "header" && (t["type"] != "plain_text" || len([]rune(text)) > 150) {
				return false
			}
		}
	}
	return true
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(v)
}
