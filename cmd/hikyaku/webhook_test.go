package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestDecodeWebhookRealPayloads(t *testing.T) {
	for _, file := range []string{"testdata/firing-two-alerts-ja.json", "testdata/firing-one-alert-en.json"} {
		msg, err := readWebhook(file)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if msg.Version != "4" || msg.GroupKey == "" || msg.Status != "firing" || len(msg.Alerts) == 0 || msg.CommonLabels["alertname"] == "" {
			t.Errorf("%s decoded to %+v, want Alertmanager's version 4 fields", file, msg)
		}
		for _, a := range msg.Alerts {
			if a.StartsAt.IsZero() || a.Fingerprint == "" {
				t.Errorf("%s: alert without startsAt or fingerprint: %+v", file, a)
			}
		}
	}
}

// FuzzDecodeWebhook feeds arbitrary bytes to the payload decoder: it must
// never panic, and what it accepts must be routable.
func FuzzDecodeWebhook(f *testing.F) {
	f.Add([]byte(`{"alerts":[{"labels":{"a":"b"}}],"commonLabels":{"a":"b"},"version":"4"}`))
	f.Add([]byte(`{"alerts":[`))
	f.Add([]byte("{\n  \"alerts\": [}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := decodeWebhook(bytes.NewReader(data))
		if err != nil {
			if msg != nil {
				t.Fatalf("error %v with a message", err)
			}
			if strings.Contains(err.Error(), "line ") && !strings.Contains(err.Error(), "column ") {
				t.Fatalf("line without column: %v", err)
			}
			return
		}
		if msg.Data == nil || len(msg.Alerts) == 0 || len(msg.CommonLabels) == 0 {
			t.Fatalf("accepted a payload with nothing to route: %q", data)
		}
	})
}
