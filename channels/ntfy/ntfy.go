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

// maxAnswer bounds how much of an answer is read: ntfy echoes the whole
// message, its text and buttons' signed links, which is where the id is.
const maxAnswer = 64 << 10

// maxErrorBody bounds how much of a refusal is quoted.
const maxErrorBody = 512

// Sender publishes to the server of providers.ntfy, and to the servers a
// person's contact names with their own token. It is safe for concurrent
// use; printing it never shows a token.
type Sender struct {
	def    endpoint // providers.ntfy; server nil when it is absent
	own    map[string]endpoint
	client *http.Client
}

// endpoint is a server and the token hikyaku publishes to it with.
type endpoint struct {
	server *url.URL
	token  config.Secret
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
	u, err := parseServer(server)
	if err != nil {
		return nil, fmt.Errorf("ntfy: url %q: %w", server, err)
	}
	s := &Sender{def: endpoint{server: u, token: token}, own: map[string]endpoint{}, client: &http.Client{Timeout: 10 * time.Second}}
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

// Send publishes m to the topic m.To. The receipt is the address and
// ntfy's message id (alice-pager/Mc3otamDNcpJ): the id is the sequence an
// update rewrites, and the address says where, whatever the contact says by then.
func (s *Sender) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	t, err := s.target(m.UserID, m.To)
	if err != nil {
		return channels.Receipt{}, channels.Permanent("", fmt.Errorf("ntfy: %w", err))
	}
	body, err := json.Marshal(s.body(t.topic, m))
	if err != nil {
		return channels.Receipt{}, channels.Permanent("", fmt.Errorf("ntfy: encode: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.server.JoinPath("/").String(), bytes.NewReader(body))
	if err != nil {
		return channels.Receipt{}, channels.Permanent("", fmt.Errorf("ntfy: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	a, _, err := s.do(req, t, "publish")
	if err != nil {
		return channels.Receipt{}, err
	}
	if a.ID == "" {
		// Taken, as far as the status says: retrying would page twice.
		return channels.Receipt{ProviderID: "unknown"}, nil
	}
	return channels.Receipt{ProviderID: m.To + "/" + a.ID}, nil
}

// do sends req to t's server with t's token and reads ntfy's answer and
// its status (0 when none came).
func (s *Sender) do(req *http.Request, t target, what string) (answer, int, error) {
	if tok, ok := t.token.Reveal(); ok {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return answer{}, 0, fmt.Errorf("ntfy: %s to %s: %w", what, t.server.Host, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	var a answer
	_ = json.Unmarshal(raw, &a) // an answer that is no JSON is quoted below
	if resp.StatusCode/100 == 2 {
		return a, resp.StatusCode, nil
	}
	return a, resp.StatusCode, refusal(resp.StatusCode, a, raw, t.own)
}

// refusal classifies ntfy's answer: 401 is hikyaku's token refused (no
// message can succeed), unless own says the server or token was the
// contact's own (then only that contact fails); 429, 408 and 5xx (507: the
// server's storage is full) pass and are retried; any other 4xx is this
// message or topic (bad JSON, a topic the token may not write, too large)
// and fails over at once.
func refusal(status int, a answer, raw []byte, own bool) error {
	what := a.Error
	if what == "" {
		what = string(raw)
	}
	what = cut(strings.ToValidUTF8(strings.TrimSpace(what), "?"), maxErrorBody)
	code := strconv.Itoa(status)
	if a.Code != 0 {
		code = strconv.Itoa(a.Code)
	}
	err := fmt.Errorf("ntfy: %d %s: %q", status, http.StatusText(status), what)
	reason := channels.ReasonForStatus(status)
	switch {
	case status == http.StatusUnauthorized && !own:
		return channels.WithReason(reason, channels.AuthFailure(code, err))
	case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout, status >= 500:
		return channels.WithReason(reason, err)
	default:
		return channels.WithReason(reason, channels.Permanent(code, err))
	}
}

// body is m as ntfy shows it: the subject as title, priority by severity,
// and Ack and Resolve buttons when the page carries signed links.
func (s *Sender) body(topic string, m *channels.Message) publish {
	p := publish{Topic: topic, Title: m.Subject, Message: cut(m.Text, maxMessageBytes),
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
