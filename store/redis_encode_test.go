package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"
)

func TestEncodeIncidentMatchesMarshal(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, msg := range []string{"", `{"a":1}`, "\n {\"b\": [1, 2],\n \"c\": \"<x>&\\\"version\\\":\"} \n"} {
		inc := &Incident{ID: 7, Key: `r/{}:{a="b,\"version\":"}`, Status: StatusOpen, CreatedAt: at, UpdatedAt: at,
			Department: "ops", Escalation: Escalation{Step: -1}, Message: json.RawMessage(msg), Version: 3, Handled: []string{"x"}}
		got, err := encodeIncident(inc)
		if err != nil {
			t.Fatalf("message %q: %v", msg, err)
		}
		var a, b Incident
		want, _ := json.Marshal(inc)
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("message %q: %s does not decode: %v", msg, got, err)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		var ma, mb any
		if len(msg) > 0 {
			_ = json.Unmarshal(a.Message, &ma)
			_ = json.Unmarshal(b.Message, &mb)
		}
		a.Message, b.Message = nil, nil
		if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(ma, mb) {
			t.Errorf("message %q: encoded\n%s\nwant the same as\n%s", msg, got, want)
		}
	}
}

// TestEncodeMatchesEncodingJSON: the Redis write path encodes with go-json;
// replicas and older versions read what it writes with encoding/json, and the
// write script finds "id" and "incident_id" by their bytes, so the output must
// be encoding/json's to the byte: field order, omitzero and omitempty, time
// format, escaping of HTML and control characters, invalid UTF-8, map order.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.FixedZone("JST", 9*3600))
	odd := "<a href=\"x\">&</a>\u2028\x00\x1f\xff\xfe é 日本"
	values := []any{
		&Incident{Key: "r/" + odd, Status: StatusOpen, CreatedAt: at, UpdatedAt: at, Escalation: Escalation{Step: -1}},
		&Incident{ID: 9, Key: "k", Status: StatusAcked, CreatedAt: at, UpdatedAt: at.UTC(), AckedAt: at, AckedBy: odd,
			ResolvedAt: at, Department: "d", Policy: "p", Route: "r", Severity: "s",
			Escalation: Escalation{Step: 2, Round: 1, Generation: 3, Exhausted: true}, Version: 4, Handled: []string{"a", odd}},
		Event{At: at, Type: "created"},
		Event{At: at, Type: "notified", Actor: odd, Detail: map[string]string{"z": "1", "a": odd, odd: "", "m": "<>"}},
		Timer{ID: "step:1:0:0", Due: at, Kind: "step"},
		Timer{ID: odd, IncidentID: 3, Due: at, Kind: "notify", Payload: []byte(odd), Attempt: 2},
	}
	for _, v := range values {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := gojson.Marshal(v)
		if err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("go-json encoded\n%s\nencoding/json\n%s", got, want)
		}
	}
}

// TestEncodeRefusesAnInvalidMessage: the message is copied into the incident
// as it is, so one that is not JSON must fail the write, not leave an
// incident nobody can read back.
func TestEncodeRefusesAnInvalidMessage(t *testing.T) {
	for _, msg := range []string{`{"receiver":`, `{"a":1} trailing`, "\xff"} {
		if _, err := encodeIncident(&Incident{ID: 1, Key: "k", Status: StatusOpen, Message: []byte(msg)}); err == nil {
			t.Errorf("message %q was encoded", msg)
		}
	}
	if _, err := encodeIncident(&Incident{ID: 1, Key: "k", Status: StatusOpen, Message: []byte(`{"receiver":"r"}`)}); err != nil {
		t.Fatalf("a valid message was refused: %v", err)
	}
}
