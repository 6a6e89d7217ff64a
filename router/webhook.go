package router

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	gojson "github.com/goccy/go-json"
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
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("%w: empty body: want Alertmanager's webhook JSON", ErrBadPayload)
	}
	// go-json decodes the same types into the same values in a third of
	// encoding/json's time, which scans the body twice (once to validate,
	// once to decode); decoding was a fifth of the intake's CPU. It accepts
	// exactly what encoding/json accepts (FuzzDecodeMessage checks), and the
	// store copies this body into the incident's JSON as it is, so that matters.
	// A second value after the first is a syntax error for both.
	var m Message
	if err := gojson.Unmarshal(body, &m); err != nil {
		// Only encoding/json's errors carry the byte offsets behind our
		// line and column; a body it takes after all is decoded by it.
		m = Message{}
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadPayload, jsonError(body, err))
		}
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	return &m, nil
}

func (m *Message) validate() error {
	switch {
	case m.Data == nil || len(m.Alerts) == 0:
		return errors.New(`no "alerts"`)
	case m.Version != "4":
		return fmt.Errorf("version %q: hikyaku speaks webhook version 4", m.Version)
	case m.GroupKey == "":
		return errors.New("groupKey is missing")
	case m.Receiver == "":
		return errors.New("receiver is missing")
	case m.Status != "firing" && m.Status != "resolved":
		return fmt.Errorf("status %q: want firing or resolved", m.Status)
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

// jsonError adds the line and column to encoding/json's byte offsets.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) && syn.Offset >= int64(len(data)) && strings.HasPrefix(syn.Error(), "unexpected end") {
		// json.Unmarshal's way of saying io.ErrUnexpectedEOF.
		return fmt.Errorf("%s: unexpected end of file", position(data, int64(len(data))))
	}
	if errors.As(err, &syn) {
		// Offset counts the offending byte as read: point at it, not past it.
		return fmt.Errorf("%s: %w", position(data, syn.Offset-1), err)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		field := strings.TrimPrefix(typ.Field, "Data.") // the embedded struct is not part of the format
		return fmt.Errorf("%s: field %q: want %s, got a JSON %s", position(data, typ.Offset), field, jsonKind(typ.Type), typ.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: unexpected end of file", position(data, int64(len(data))))
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// jsonKind names a Go type as the JSON it decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	default:
		return "a number"
	}
}

// position is "line L, column C" (1-based) of byte offset off.
func position(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}
