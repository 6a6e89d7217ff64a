package slack

import (
	"context"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/internal/fakeslack"
)

// TestFailureReasons: each failure Slack can answer is marked with the
// reason the hikyaku_notifications_total{reason} label shows.
func TestFailureReasons(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fail  fakeslack.Failure
		token string
		want  channels.Reason
	}{
		{name: "500", fail: fakeslack.Failure{Status: 500}, want: "server"},
		{name: "429 ratelimited", fail: fakeslack.Failure{Status: 429, RetryAfter: 30}, want: "rate_limited"},
		{name: "internal_error", fail: fakeslack.Failure{Error: "internal_error"}, want: "server"},
		{name: "404", fail: fakeslack.Failure{Status: 404}, want: "client"},
		{name: "channel_not_found", fail: fakeslack.Failure{Error: "channel_not_found"}, want: "client"},
		{name: "account_inactive", fail: fakeslack.Failure{Error: "account_inactive"}, want: "auth"},
		{name: "token_revoked", fail: fakeslack.Failure{Error: "token_revoked"}, want: "auth"},
		{name: "wrong token", token: "xoxb-wrong", want: "auth"},
	} {
		fake := fakeslack.New(token)
		if tc.fail != (fakeslack.Failure{}) {
			fake.Fail("chat.postMessage", tc.fail)
		}
		tok := token
		if tc.token != "" {
			tok = tc.token
		}
		_, err := newSender(t, fake, tok).Send(context.Background(), page(t, "C0123ENG"))
		fake.Close()
		if got := channels.ReasonOf(err); got != tc.want {
			t.Errorf("%s (%v): reason %q, want %q", tc.name, err, got, tc.want)
		}
	}
}
