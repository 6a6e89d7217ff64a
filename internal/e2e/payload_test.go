package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// webhookMessage is Alertmanager's webhook body, version 4.
type webhookMessage struct {
	template.Data
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`
}

// fixture is a body captured from a real Alertmanager 0.25; builders start
// from it so every field hikyaku reads is shaped as Alertmanager shapes it.
func fixture(t testing.TB) webhookMessage {
	t.Helper()
	b, err := os.ReadFile("testdata/firing-one-alert-en.json")
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	var m webhookMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode fixture: %v", err)
	}
	return m
}

// groupMessage is the webhook body of a one-alert group named name, routed
// by team="payments". Posting it again (as Alertmanager's retries and its
// HA peers do) is the same group: hikyaku must not open a second incident.
func groupMessage(t testing.TB, name string, firing bool) []byte {
	t.Helper()
	m := fixture(t)
	m.Receiver = "hikyaku"
	labels := template.KV{"alertname": name, "team": "payments", "severity": "critical", "instance": "e2e:9100"}
	a := m.Alerts[0]
	a.Labels = labels
	a.Annotations = template.KV{"summary": "end-to-end test alert " + name}
	a.StartsAt = time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	a.Status, a.EndsAt = "firing", time.Time{}
	m.Status = "firing"
	if !firing {
		a.Status, a.EndsAt = "resolved", time.Now().UTC().Truncate(time.Second)
		m.Status = "resolved"
	}
	h := sha256.Sum256([]byte(name))
	a.Fingerprint = hex.EncodeToString(h[:8])
	m.Alerts = template.Alerts{a}
	m.GroupLabels = template.KV{"alertname": name, "team": "payments"}
	m.CommonLabels = labels
	m.CommonAnnotations = a.Annotations
	m.GroupKey = fmt.Sprintf("{}:{alertname=%q, team=\"payments\"}", name)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("encode webhook: %v", err)
	}
	return b
}

// groupKey is the incident key hikyaku derives from groupMessage(name).
func groupKey(name string) string {
	return fmt.Sprintf("hikyaku/{}:{alertname=%q, team=\"payments\"}", name)
}
