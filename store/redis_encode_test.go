package store

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"
)

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

// TestEncodeRefusesAnInvalidMessage: the message is stored as it is, so one
// that is not JSON must fail the write, not leave an incident nobody can
// read back.
func TestEncodeRefusesAnInvalidMessage(t *testing.T) {
	for _, msg := range []string{`{"receiver":`, `{"a":1} trailing`, "\xff"} {
		if _, _, err := messageOp(snapshot{}, &Incident{ID: 1, Key: "k", Status: StatusOpen, Message: []byte(msg)}); err == nil {
			t.Errorf("message %q was encoded", msg)
		}
	}
	op, msg, err := messageOp(snapshot{}, &Incident{ID: 1, Key: "k", Status: StatusOpen, Message: []byte(" {\"receiver\":\"r\"}\n")})
	if err != nil || op != "set" || string(msg) != `{"receiver":"r"}` {
		t.Fatalf("a valid message: %q %q %v, want set and the message trimmed", op, msg, err)
	}
}
