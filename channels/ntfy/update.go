package ntfy

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
)

// Update rewrites a page once its incident is acked or resolved, by ntfy's
// sequence id (the page's message id, from the receipt): acked, the
// notification is replaced in place, quietly, by who acknowledged it, with
// only a Resolve button; resolved, it is replaced by "Resolved" and cleared
// from the phone's notifications. ntfy does this from v2.16.0; an older
// server answers 404 and the update fails permanently with an error that
// says so (the engine logs it and writes update_failed in the timeline).
func (s *Sender) Update(ctx context.Context, providerID string, m *channels.Message) error {
	address, id := m.To, providerID
	if i := strings.LastIndex(providerID, "/"); i >= 0 {
		address, id = providerID[:i], providerID[i+1:]
	}
	if checkTopic(id) != nil || id == "unknown" {
		return channels.Permanent("", fmt.Errorf("ntfy: receipt %q names no message to update", providerID))
	}
	t, err := s.target(m.UserID, address)
	if err != nil {
		return channels.Permanent("", fmt.Errorf("ntfy: update %s: %w", providerID, err))
	}
	tr := catalog.For(m.Language)
	switch m.Incident.Status {
	case "acked":
		text := tr.T("ntfy.update.acked")
		if m.Incident.AckedBy != "" {
			text = tr.T("ntfy.update.acked_by", m.Incident.AckedBy)
		}
		var actions []action
		if l := m.Links["resolve"]; l != "" {
			actions = append(actions, action{Action: "http", Label: tr.T("ntfy.button.resolve"), URL: l, Method: http.MethodPost, Clear: true})
		}
		return s.rewrite(ctx, t, id, m.Subject, text, 2, "eyes", actions)
	case "resolved":
		if err := s.rewrite(ctx, t, id, m.Subject, tr.T("ntfy.update.resolved"), 1, "white_check_mark", nil); err != nil {
			return err
		}
		return s.sequence(ctx, t, id, http.MethodPut, "/clear", "clear")
	}
	// Open again (a resolve undone before this ran): the page stands as sent.
	return nil
}

// rewrite publishes a new revision of sequence id: by headers to
// /<topic>/<id>, the route only v2.16 servers have, so an older one
// answers 404 rather than sending a second notification. Priority 2 and
// below neither sound nor vibrate.
func (s *Sender) rewrite(ctx context.Context, t target, id, title, text string, priority int, tag string, actions []action) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, t.server.JoinPath(t.topic, id).String(), strings.NewReader(cut(text, maxMessageBytes)))
	if err != nil {
		return channels.Permanent("", fmt.Errorf("ntfy: %w", err))
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	if title != "" {
		req.Header.Set("X-Title", headerText(title))
	}
	req.Header.Set("X-Priority", strconv.Itoa(priority))
	req.Header.Set("X-Tags", tag)
	if len(actions) > 0 {
		raw, err := json.Marshal(actions)
		if err != nil {
			return channels.Permanent("", fmt.Errorf("ntfy: encode actions: %w", err))
		}
		req.Header.Set("X-Actions", headerText(string(raw)))
	}
	_, status, err := s.do(req, t, "update")
	return sequenceRefusal(status, err, t, "update")
}

// sequence sends a bodiless request on sequence id (clear, delete).
func (s *Sender) sequence(ctx context.Context, t target, id, method, suffix, what string) error {
	req, err := http.NewRequestWithContext(ctx, method, t.server.JoinPath(t.topic, id).String()+suffix, nil)
	if err != nil {
		return channels.Permanent("", fmt.Errorf("ntfy: %w", err))
	}
	_, status, err := s.do(req, t, what)
	return sequenceRefusal(status, err, t, what)
}

// sequenceRefusal says what a 404 on a sequence route means: a server
// older than v2.16.0, which has no such route.
func sequenceRefusal(status int, err error, t target, what string) error {
	if status != http.StatusNotFound {
		return err
	}
	return channels.WithReason(channels.ReasonClient, channels.Permanent("40401",
		fmt.Errorf("ntfy: %s cannot %s a notification (404): updating and clearing need ntfy v2.16.0 or later: %w", t.server.Host, what, err)))
}

// headerText is s fit for an HTTP header: on one line, and MIME-encoded
// (RFC 2047, which ntfy decodes) when it is not plain ASCII.
func headerText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return mime.BEncoding.Encode("UTF-8", s)
}
