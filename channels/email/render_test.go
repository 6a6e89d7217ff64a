package email

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/hikyaku/hikyaku/channels"
)

func TestHTMLEscapesAlertContent(t *testing.T) {
	data, err := json.Marshal(amtemplate.Data{Alerts: amtemplate.Alerts{{Status: "firing",
		Labels:      amtemplate.KV{"alertname": "<script>alert(1)</script>"},
		Annotations: amtemplate.KV{"summary": `"><img src=x onerror=alert(1)>`}}}})
	if err != nil {
		t.Fatal(err)
	}
	m := &channels.Message{Text: "a <b>bold</b> claim", Data: data,
		Incident: channels.Incident{ID: 1, URL: "javascript:alert(1)"}}
	html, err := newBody(m).html()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", "<img", "<b>bold", `href="javascript:`} {
		if strings.Contains(html, bad) {
			t.Errorf("html contains %q:\n%s", bad, html)
		}
	}
	if !strings.Contains(html, "&lt;script&gt;") {
		t.Errorf("html lost the escaped alert name:\n%s", html)
	}
}

func TestAlertStormIsCut(t *testing.T) {
	var d amtemplate.Data
	for i := range maxListedAlerts + 5 {
		d.Alerts = append(d.Alerts, amtemplate.Alert{Status: "firing",
			Labels: amtemplate.KV{"alertname": fmt.Sprintf("A%02d", i)}})
	}
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for lang, more := range map[string]string{"en": "and 5 more", "ja": "ほか5件"} {
		text := newBody(&channels.Message{Language: lang, Data: data}).plain()
		if !strings.Contains(text, fmt.Sprintf("A%02d", maxListedAlerts-1)) || strings.Contains(text, fmt.Sprintf("A%02d", maxListedAlerts)) {
			t.Errorf("%s: want the first %d alerts listed:\n%s", lang, maxListedAlerts, text)
		}
		if !strings.Contains(text, more) {
			t.Errorf("%s: text lacks %q:\n%s", lang, more, text)
		}
	}
}

func TestBrokenDataStillSends(t *testing.T) {
	b := newBody(&channels.Message{Text: "page text", Data: []byte("{not json")})
	if got := b.plain(); got != "page text\n" {
		t.Errorf("plain = %q, want the text alone", got)
	}
}

// BenchmarkCompose measures building one page (headers, both parts, QP):
// it runs once per email, so it only has to stay far below a network round trip.
func BenchmarkCompose(b *testing.B) {
	var d amtemplate.Data
	for i := range 5 {
		d.Alerts = append(d.Alerts, amtemplate.Alert{Status: "firing",
			Labels:      amtemplate.KV{"alertname": "HighErrorRate", "instance": fmt.Sprintf("api-%d:8080", i)},
			Annotations: amtemplate.KV{"summary": "決済APIのエラー率が5%を超えています"}})
	}
	data, err := json.Marshal(d)
	if err != nil {
		b.Fatal(err)
	}
	s := &Sender{from: &mail.Address{Address: "hikyaku@example.co.jp"}, fromLocal: "hikyaku",
		idDomain: "example.co.jp", replyDomain: "example.co.jp", replyKey: []byte("k")}
	m := &channels.Message{IdempotencyKey: "k", IncidentID: 42, UserID: "alice", Language: "ja", Kind: channels.KindPage,
		Subject: "[hikyaku #42] CRITICAL 決済チーム: 決済APIのエラー率が5%を超えています", Text: "決済APIのエラー率が5%を超えています",
		Data: data, Incident: channels.Incident{ID: 42, Severity: "critical", Department: "決済チーム", FiringAlerts: 5}}
	to := &mail.Address{Name: "山田 花子", Address: "alice@example.co.jp"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.compose(m, to, time.Unix(0, 0)); err != nil {
			b.Fatal(err)
		}
	}
}
