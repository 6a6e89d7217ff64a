package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/prometheus/alertmanager/template"
)

// webhookMessage is the body Alertmanager's webhook receiver posts (version
// "4"). It is declared here rather than imported from notify/webhook, whose
// package pulls in every notifier's dependencies.
type webhookMessage struct {
	*template.Data
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`
}

// maxPayloadBytes bounds what simulate reads: Alertmanager's own payloads
// are a few KiB per alert, so a larger file is not one.
const maxPayloadBytes = 16 << 20

// decodeWebhook parses an Alertmanager webhook payload. Syntax errors name
// the line and column, since the file was likely edited by hand.
func decodeWebhook(r io.Reader) (*webhookMessage, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPayloadBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(data) > maxPayloadBytes {
		return nil, fmt.Errorf("larger than %d MiB: not an Alertmanager webhook payload", maxPayloadBytes>>20)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty file: want an Alertmanager webhook payload (JSON)")
	}
	msg := &webhookMessage{Data: &template.Data{}}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(msg); err != nil {
		return nil, jsonError(data, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: more than one JSON value", position(data, dec.InputOffset()))
	}
	if len(msg.Alerts) == 0 {
		return nil, errors.New(`no "alerts": not an Alertmanager webhook payload`)
	}
	if len(msg.CommonLabels) == 0 {
		return nil, errors.New(`no "commonLabels": nothing to route by`)
	}
	return msg, nil
}

// jsonError adds the line and column to encoding/json's byte offsets.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
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
