package main

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/hikyaku/hikyaku/channels/channelstest"
)

// TestInboundRoutesAreTheDocumentedURLs: the URLs docs/acknowledge.md tells
// people to give Twilio and Slack are the ones serve mounts.
func TestInboundRoutesAreTheDocumentedURLs(t *testing.T) {
	var got []string
	for _, rt := range inboundRoutes(&channelstest.Receiver{}, slog.New(slog.DiscardHandler)) {
		if rt.MaxBody <= 0 || rt.Handler == nil {
			t.Errorf("%s: MaxBody %d, handler %v", rt.Pattern, rt.MaxBody, rt.Handler)
		}
		got = append(got, rt.Pattern)
	}
	slices.Sort(got)
	want := []string{"POST /api/v1/slack/events", "POST /api/v1/slack/interactions", "POST /api/v1/twilio/sms", "POST /api/v1/twilio/status", "POST /api/v1/twilio/voice/gather"}
	if !slices.Equal(got, want) {
		t.Errorf("serve mounts %q, want %q", got, want)
	}
}
