package router

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestDecodeFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/alertmanager/*.json")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		m, err := DecodeMessage(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if m.GroupKey == "" || len(m.Alerts) == 0 || m.Labels()["alertname"] == "" {
			t.Errorf("%s: decoded %+v", f, m)
		}
	}
}

// FuzzDecodeMessage: any body either decodes into a message that passes its
// own checks, or fails with ErrBadPayload; it never panics. DecodeMessage
// decodes with go-json, and the store copies what it accepts into the
// incident's JSON, so it must accept exactly what encoding/json accepts and
// decode it to the same value.
func FuzzDecodeMessage(f *testing.F) {
	files, _ := filepath.Glob("testdata/alertmanager/*.json")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"version":"4","groupKey":"g","receiver":"r","status":"firing","alerts":[{"status":"firing","startsAt":"2026-01-01T00:00:00Z"}]} {}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := DecodeMessage(body)
		var std Message
		stdErr := json.Unmarshal(body, &std)
		if stdErr == nil {
			stdErr = std.validate()
		}
		if (err == nil) != (stdErr == nil) {
			t.Fatalf("DecodeMessage: %v; encoding/json: %v", err, stdErr)
		}
		if err != nil {
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("error does not wrap ErrBadPayload: %v", err)
			}
			return
		}
		if !reflect.DeepEqual(*m, std) {
			t.Fatalf("decoded %#v, encoding/json %#v", m.Data, std.Data)
		}
		if m.Data == nil || m.GroupKey == "" || len(m.Alerts) == 0 {
			t.Fatalf("accepted an incomplete message: %+v", m)
		}
		if _, err := json.Marshal(m); err != nil {
			t.Fatalf("accepted message does not re-encode: %v", err)
		}
		_ = m.Labels()
	})
}
