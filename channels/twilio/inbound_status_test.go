package twilio

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/channelstest"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

func statusPost(r channels.Receiver, token string, form url.Values) int {
	return post(mount(r), faketwilio.AuthToken, StatusPath+"?cb="+url.QueryEscape(token), form).Code
}

// TestStatusCallbacks: a page Twilio could not deliver fails over with its
// reason; every page a callback reports on (sent, a call initiated, and
// the undelivered and unanswered ones too: Twilio took them) is marked
// taken, so a replica taking over does not send it again.
func TestStatusCallbacks(t *testing.T) {
	r := newReceiver(t)
	for _, form := range []url.Values{
		{"MessageSid": {"SM1"}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}},
		{"CallSid": {"CA1"}, "CallStatus": {"no-answer"}},
		{"MessageSid": {"SM2"}, "MessageStatus": {"sent"}},
		{"CallSid": {"CA2"}, "CallStatus": {"initiated"}},
	} {
		if code := statusPost(r, "tok-"+form.Get("MessageSid")+form.Get("CallSid"), form); code != http.StatusNoContent {
			t.Errorf("%v: %d, want 204", form, code)
		}
	}
	if got, want := r.Failed(), []string{"tok-SM1 sms undelivered (Twilio 30003)", "tok-CA1 voice no-answer"}; !slices.Equal(got, want) {
		t.Errorf("failed over %q, want %q", got, want)
	}
	if got, want := r.Accepted(), []string{"tok-SM1 SM1", "tok-CA1 CA1", "tok-SM2 SM2", "tok-CA2 CA2"}; !slices.Equal(got, want) {
		t.Errorf("marked taken %q, want %q", got, want)
	}
}

// TestStatusCallbackErrors: an unreadable token is 400 for a failure (it
// never becomes readable) and ignored for a success; a store that does
// not answer is 503, so Twilio retries; an unsigned post is 403.
func TestStatusCallbackErrors(t *testing.T) {
	failed := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"failed"}}
	sent := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"sent"}}
	r := newReceiver(t)
	if code := statusPost(r, "", failed); code != http.StatusBadRequest {
		t.Errorf("failure with no token: %d, want 400", code)
	}
	if code := statusPost(r, "", sent); code != http.StatusNoContent {
		t.Errorf("success with no token: %d, want 204", code)
	}
	down := &channelstest.Receiver{Cfg: inboundConfig(t), Err: errors.New("store down")}
	for _, form := range []url.Values{failed, sent} {
		if code := statusPost(down, "tok", form); code != http.StatusServiceUnavailable {
			t.Errorf("%s with the store down: %d, want 503", form.Get("MessageStatus"), code)
		}
	}
	if w := post(mount(r), "not-the-token", StatusPath+"?cb=tok", failed); w.Code != http.StatusForbidden {
		t.Errorf("unsigned: %d, want 403", w.Code)
	}
	if len(r.Failed()) != 0 || len(r.Accepted()) != 0 {
		t.Errorf("acted on %q %q", r.Failed(), r.Accepted())
	}
}

// TestStatusCallbackURL carries the token, which Twilio signs with the URL.
func TestStatusCallbackURL(t *testing.T) {
	f := StatusCallbackURL(public + "/")
	if got, want := f(&channels.Message{Callback: "a b&c"}), public+"/api/v1/twilio/status?cb=a+b%26c"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if got := StatusCallbackURL("")(&channels.Message{Callback: "x"}); got != "" {
		t.Errorf("without external_url: %q, want none", got)
	}
}

// TestRoutes: the three paths Twilio is given, each body bounded by the
// largest form Twilio posts (an SMS of 1600 characters and its parameters).
func TestRoutes(t *testing.T) {
	var got []string
	for _, rt := range Routes(newReceiver(t), InboundOptions{}) {
		if rt.MaxBody != 64<<10 {
			t.Errorf("%s: MaxBody %d", rt.Pattern, rt.MaxBody)
		}
		got = append(got, rt.Pattern)
	}
	want := []string{"POST /api/v1/twilio/status", "POST /api/v1/twilio/sms", "POST /api/v1/twilio/voice/gather"}
	if !slices.Equal(got, want) {
		t.Errorf("routes %q, want %q", got, want)
	}
}
