package dryrun

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
)

// TestSendLogsAndSaysRecorded: one INFO line per message with what would
// have been sent, and a receipt that tells the engine nothing was.
func TestSendLogsAndSaysRecorded(t *testing.T) {
	var buf bytes.Buffer
	s := Sender{Log: slogJSON(&buf)}
	rc, err := s.Send(context.Background(), &channels.Message{Channel: "sms", Kind: channels.KindPage, IncidentID: 7,
		To: "+819011110001", IdempotencyKey: "k1", Text: "disk full"})
	if err != nil || !rc.Recorded || rc.ProviderID != "k1" {
		t.Fatalf("Send = %+v, %v; want a recorded receipt", rc, err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	for k, want := range map[string]any{"level": "INFO", "msg": MsgRecorded, "channel": "sms", "kind": "page",
		"incident": float64(7), "to": "+819011110001", "key": "k1", "text": "disk full"} {
		if line[k] != want {
			t.Errorf("log %s = %v, want %v", k, line[k], want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Send(ctx, &channels.Message{}); err == nil {
		t.Error("Send on a cancelled context succeeded")
	}
}

func slogJSON(buf *bytes.Buffer) *slog.Logger { return slog.New(slog.NewJSONHandler(buf, nil)) }
