package twilio

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

const (
	from     = "+815012345678"
	public   = "https://hikyaku.example.co.jp"
	takaTo   = "+819011110001"
	aliceTo  = "+14155550100"
	ackHint  = "了解は「12 ack」と返信 #12"
	ackHintE = "Reply \"7 ack\" to acknowledge #7"
)

// senders returns the two senders of an account served by the fake.
func senders(t testing.TB, fake *faketwilio.Server, externalURL string, opts ...Option) *Senders {
	t.Helper()
	s, err := New(fake.Config(from), externalURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixture is a real Alertmanager webhook body from testdata.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// page is the Japanese page of incident 12 for Taka, as the router builds it.
func page(t testing.TB) *channels.Message {
	return &channels.Message{
		IdempotencyKey: "n/12/0/taka", Channel: "sms", Kind: channels.KindPage, IncidentID: 12,
		To: takaTo, UserID: "taka", Name: "Taka", Language: "ja",
		Subject: "[hikyaku #12] CRITICAL 決済: 決済APIのエラー率が5%を超えています",
		Text:    "[hikyaku #12] CRITICAL 決済: 決済APIのエラー率が5%を超えています (アラート2件)\n" + ackHint,
		Data:    fixture(t, "firing-two-alerts-ja.json"),
		Incident: channels.Incident{ID: 12, Status: "open", Severity: "critical", Department: "決済",
			Step: 1, FiringAlerts: 2},
	}
}

// pageEN is the English page of incident 7 for Alice.
func pageEN(t testing.TB) *channels.Message {
	return &channels.Message{
		IdempotencyKey: "n/7/0/alice", Channel: "voice", Kind: channels.KindPage, IncidentID: 7,
		To: aliceTo, UserID: "alice", Name: "Alice", Language: "en",
		Subject: "[hikyaku #7] WARNING Infrastructure: DiskWillFillIn4Hours",
		Text:    "[hikyaku #7] WARNING Infrastructure: disk fills in 4 hours\n" + ackHintE,
		Data:    fixture(t, "firing-one-alert-en.json"),
		Incident: channels.Incident{ID: 7, Status: "open", Severity: "warning", Department: "Infrastructure",
			Step: 1, FiringAlerts: 1},
	}
}
