package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
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
