// Package ntfy pages people by push notification through an ntfy server
// (ntfy.sh or self-hosted), with Ack and Resolve buttons on the notification.
package ntfy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// DefaultServer is where messages go when providers.ntfy gives no url.
const DefaultServer = "https://ntfy.sh"

// maxMessageBytes keeps a message under ntfy's message-size-limit (4096
// bytes by default): past it ntfy turns the text into an attachment, or
// refuses it where attachments are off.
const maxMessageBytes = 4000

// maxErrorBody bounds how much of a refusal is read and quoted.
const maxErrorBody = 512

// Sender publishes to one ntfy server with one access token. It is safe
// for concurrent use; printing it never shows the token.
type Sender struct {
	server *url.URL
	token  config.Secret
	client *http.Client
}

// Option adjusts a Sender.
type Option func(*Sender)

// WithHTTPClient publishes through c (tests, proxies); the default has a 10 s timeout.
func WithHTTPClient(c *http.Client) Option { return func(s *Sender) { s.client = c } }

// New makes a Sender for server (DefaultServer when empty). A zero token
// publishes anonymously, as an open server or topic allows.
func New(server string, token config.Secret, opts ...Option) (*Sender, error) {
	if server == "" {
		server = DefaultServer
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ntfy: url %q: want an http(s) URL with a host", server)
	}
	s := &Sender{server: u, token: token, client: &http.Client{Timeout: 10 * time.Second}}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// publish is ntfy's JSON publish body (POST to the server's root URL).
type publish struct {
	Topic    string   `json:"topic"`
	Title    string   `json:"title,omitempty"`
	Message  string   `json:"message"`
	Priority int      `json:"priority,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	Actions  []action `json:"actions,omitempty"`
}

// action is one button. An http action is sent by the phone's ntfy app
// itself; clear dismisses the notification once the request succeeded.
type action struct {
	Action string `json:"action"` // view, http, broadcast
	Label  string `json:"label"`
	URL    string `json:"url"`
	Method string `json:"method,omitempty"`
	Clear  bool   `json:"clear,omitempty"`
}

// answer is what ntfy says: the message on success, an error otherwise.
type answer struct {
	ID    string `json:"id"`
	Code  int    `json:"code"`
	Error string `json:"error"`
}

// Send publishes m to the topic m.To.
func (s *Sender) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	if err := checkTopic(m.To); err != nil {
		return channels.Receipt{}, channels.Permanent("", fmt.Errorf("ntfy: %w", err))
	}
	body, err := json.Marshal(s.body(m))
	if err != nil {
		return channels.Receipt{}, channels.Permanent("", fmt.Errorf("ntfy: encode: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.server.JoinPath("/").String(), bytes.NewReader(body))
	if err != nil {
		return channels.Receipt{}, channels.Permanent("", fmt.Errorf("ntfy: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	if tok, ok := s.token.Reveal(); ok {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return channels.Receipt{}, fmt.Errorf("ntfy: publish to %s: %w", s.server.Host, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var a answer
	_ = json.Unmarshal(raw, &a) // an answer that is no JSON is quoted below
	if resp.StatusCode/100 == 2 {
		if a.ID == "" {
			// Taken, as far as the status says: retrying would page twice.
			return channels.Receipt{ProviderID: "unknown"}, nil
		}
		return channels.Receipt{ProviderID: a.ID}, nil
	}
	return channels.Receipt{}, refusal(resp.StatusCode, a, raw)
}

// refusal classifies ntfy's answer: 401 is hikyaku's token refused (no
// message can succeed); 429, 408 and 5xx (507: the server's storage is full)
// pass and are retried; any other 4xx is this message or topic (bad JSON,
// a topic the token may not write, too large) and fails over at once.
func refusal(status int, a answer, raw []byte) error {
	what := a.Error
	if what == "" {
		what = strings.TrimSpace(string(raw))
	}
	code := strconv.Itoa(status)
	if a.Code != 0 {
		code = strconv.Itoa(a.Code)
	}
	err := fmt.Errorf("ntfy: %d %s: %q", status, http.StatusText(status), what)
	reason := channels.ReasonForStatus(status)
	switch {
	case status == http.StatusUnauthorized:
		return channels.WithReason(reason, channels.AuthFailure(code, err))
	case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout, status >= 500:
		return channels.WithReason(reason, err)
	default:
		return channels.WithReason(reason, channels.Permanent(code, err))
	}
}

// body is m as ntfy shows it: the subject as title, priority by severity,
// and Ack and Resolve buttons when the page carries signed links.
func (s *Sender) body(m *channels.Message) publish {
	p := publish{Topic: m.To, Title: m.Subject, Message: cut(m.Text, maxMessageBytes),
		Priority: priority(m), Tags: tags(m)}
	if m.Kind != channels.KindPage {
		return p
	}
	ack, resolve := m.Links["ack"], m.Links["resolve"]
	t := catalog.For(m.Language)
	if ack != "" {
		p.Actions = append(p.Actions, action{Action: "http", Label: t.T("ntfy.button.ack"), URL: ack, Method: http.MethodPost, Clear: true})
	}
	if resolve != "" {
		p.Actions = append(p.Actions, action{Action: "http", Label: t.T("ntfy.button.resolve"), URL: resolve, Method: http.MethodPost, Clear: true})
	}
	return p
}

// AckHint says the page's button acknowledges; without a signed ack link
// (no signing_key or external_url) there is no button, and it says nothing
// so the generic hint is used.
func (s *Sender) AckHint(m *channels.Message) string {
	if m.Links["ack"] == "" {
		return ""
	}
	return catalog.Text(m.Language, "ntfy.ack_hint")
}

// priority is ntfy's 1–5 for m: a critical page is 5 (urgent: it rings
// through Do Not Disturb where the phone lets ntfy), any other page 4, a
// report 3 (default) and a resolution 2 (low: it need not sound).
func priority(m *channels.Message) int {
	switch m.Kind {
	case channels.KindPage:
		if m.Incident.Severity == "critical" {
			return 5
		}
		return 4
	case channels.KindResolved:
		return 2
	}
	return 3
}

// tags become emoji in the notification, by ntfy's short codes.
func tags(m *channels.Message) []string {
	switch {
	case m.Kind == channels.KindResolved:
		return []string{"white_check_mark"}
	case m.Kind == channels.KindPage && m.Incident.Severity == "critical":
		return []string{"rotating_light"}
	case m.Kind == channels.KindPage:
		return []string{"warning"}
	}
	return nil
}

// cut shortens s to at most n bytes on a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	s = s[:n-len(mark)]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + mark
}

var errTopic = errors.New("a topic is 1 to 64 letters, digits, - or _")

// checkTopic is ntfy's own rule for topic names.
func checkTopic(t string) error {
	if len(t) == 0 || len(t) > 64 {
		return fmt.Errorf("topic %q: %w", t, errTopic)
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("topic %q: %w", t, errTopic)
		}
	}
	return nil
}
