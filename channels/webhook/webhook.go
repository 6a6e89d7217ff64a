// Package webhook posts messages as JSON to any URL: a person's own webhook or a
// chat channel's (Teams, Mattermost, Discord…), with a body from its template.
package webhook

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

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/template"
)

// maxErrorBody bounds how much of a refusal is quoted in the error.
const maxErrorBody = 256

// Sender posts JSON. It is safe for concurrent use.
type Sender struct {
	client    *http.Client
	templates *template.Templates
}

// Option adjusts a Sender.
type Option func(*Sender)

// WithHTTPClient posts through c instead of a client without redirects.
func WithHTTPClient(c *http.Client) Option { return func(s *Sender) { s.client = c } }

// WithTemplates makes the named templates of t (an admin's files) callable
// from body templates; by default only the built-in ones are.
func WithTemplates(t *template.Templates) Option { return func(s *Sender) { s.templates = t } }

// New makes a webhook Sender.
func New(opts ...Option) *Sender {
	s := &Sender{
		client: &http.Client{
			// A redirected POST turns into a GET and loses its body: say so instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		templates: template.Default(),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Body is the default JSON body, for webhooks without a template: the
// message as text, the incident's facts, and Alertmanager's data under its
// own names so tools that read Alertmanager webhooks read this too.
type Body struct {
	Version  string            `json:"version"` // "1"
	Kind     channels.Kind     `json:"kind"`    // page, report, resolved
	Language string            `json:"language"`
	Subject  string            `json:"subject"`
	Text     string            `json:"text"`
	Incident channels.Incident `json:"incident"`
	// Status is Alertmanager's: firing or resolved.
	Status            string            `json:"status"`
	GroupLabels       amtemplate.KV     `json:"groupLabels"`
	CommonLabels      amtemplate.KV     `json:"commonLabels"`
	CommonAnnotations amtemplate.KV     `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            amtemplate.Alerts `json:"alerts"`
}

// Send posts m to m.To.
func (s *Sender) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	u, err := url.Parse(m.To)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return channels.Receipt{}, channels.Permanent("", errors.New("webhook: the address is not an http(s) URL"))
	}
	// Webhook URLs often carry their secret (Teams, Mattermost, Slack hooks):
	// errors name the host only.
	where := u.Scheme + "://" + u.Host
	body, err := s.body(m)
	if err != nil {
		return channels.Receipt{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.To, bytes.NewReader(body))
	if err != nil {
		return channels.Receipt{}, channels.Permanent("", fmt.Errorf("webhook %s: %w", where, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hikyaku")
	if m.IdempotencyKey != "" {
		req.Header.Set("Idempotency-Key", m.IdempotencyKey)
	}
	if m.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+m.BearerToken)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the whole URL
		}
		return channels.Receipt{}, fmt.Errorf("webhook %s: %w", where, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // so the connection is reused
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return channels.Receipt{ProviderID: resp.Header.Get("X-Request-Id")}, nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return channels.Receipt{}, channels.WithReason(channels.ReasonForStatus(code),
			fmt.Errorf("webhook %s: %s: %q", where, resp.Status, snippet))
	default:
		return channels.Receipt{}, channels.WithReason(channels.ReasonForStatus(code),
			channels.Permanent(strconv.Itoa(code), fmt.Errorf("webhook %s: %s: %q", where, resp.Status, snippet)))
	}
}

// body renders the chat channel's template, or the default Body. A template
// that does not make JSON fails permanently: the next try renders the same.
func (s *Sender) body(m *channels.Message) ([]byte, error) {
	if m.BodyTemplate != "" {
		out, err := s.templates.RenderBody(m, m.BodyTemplate)
		var fe *template.FallbackError
		if err != nil && !errors.As(err, &fe) {
			return nil, channels.Permanent("template", fmt.Errorf("webhook: %w", err))
		}
		if !json.Valid([]byte(out)) {
			return nil, channels.Permanent("template", fmt.Errorf("webhook: the body template did not render valid JSON: %.200q", out))
		}
		return []byte(out), nil
	}
	d, _ := template.NewData(m) // unreadable alert data still leaves the incident's facts
	b := Body{Version: "1", Kind: m.Kind, Language: d.Language, Subject: m.Subject, Text: m.Text, Incident: m.Incident,
		Status: d.Status, GroupLabels: d.GroupLabels, CommonLabels: d.CommonLabels,
		CommonAnnotations: d.CommonAnnotations, ExternalURL: d.ExternalURL, Alerts: d.Alerts}
	for _, kv := range []*amtemplate.KV{&b.GroupLabels, &b.CommonLabels, &b.CommonAnnotations} {
		if *kv == nil {
			*kv = amtemplate.KV{} // {} rather than null: receivers index into them
		}
	}
	if b.Alerts == nil {
		b.Alerts = amtemplate.Alerts{}
	}
	out, err := json.Marshal(b)
	if err != nil {
		return nil, channels.Permanent("", fmt.Errorf("webhook: body: %w", err))
	}
	return out, nil
}
