package router

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/prometheus/alertmanager/template"
)

// Message is Alertmanager's webhook body (version 4): its template.Data plus
// three fields. It embeds template.Data rather than importing notify/webhook,
// which would pull in most of Alertmanager, so later templates see exactly
// what Alertmanager's own templates see.
type Message struct {
	*template.Data
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`
}

// ErrBadPayload wraps every reason a body is not an Alertmanager message.
var ErrBadPayload = errors.New("not an Alertmanager webhook message")

// DecodeMessage parses and checks a webhook body. Every error wraps
// ErrBadPayload and says what is wrong, so the sender gets a useful 400.
func DecodeMessage(body []byte) (*Message, error) {
	var m Message
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: invalid JSON: %v", ErrBadPayload, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrBadPayload)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	return &m, nil
}

func (m *Message) validate() error {
	switch {
	case m.Data == nil:
		return errors.New("empty message")
	case m.Version != "4":
		return fmt.Errorf("version %q: hikyaku speaks webhook version 4", m.Version)
	case m.GroupKey == "":
		return errors.New("groupKey is missing")
	case m.Receiver == "":
		return errors.New("receiver is missing")
	case m.Status != "firing" && m.Status != "resolved":
		return fmt.Errorf("status %q: want firing or resolved", m.Status)
	case len(m.Alerts) == 0:
		return errors.New("no alerts")
	}
	for i, a := range m.Alerts {
		if a.Status != "firing" && a.Status != "resolved" {
			return fmt.Errorf("alerts[%d].status %q: want firing or resolved", i, a.Status)
		}
		if a.StartsAt.IsZero() {
			return fmt.Errorf("alerts[%d].startsAt is missing", i)
		}
	}
	return nil
}

// Firing tells whether the group still has a firing alert.
func (m *Message) Firing() bool { return m.Status == "firing" }

// Labels are the labels routes match: the group's common labels.
func (m *Message) Labels() map[string]string {
	out := make(map[string]string, len(m.CommonLabels)+len(m.GroupLabels))
	for k, v := range m.GroupLabels {
		out[k] = v
	}
	for k, v := range m.CommonLabels {
		out[k] = v
	}
	return out
}
