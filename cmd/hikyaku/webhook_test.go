package main

import "testing"

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
