package router

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/twilio"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

// TestTwilioUndeliveredFailsOver pages through the real Twilio channel and a
// fake Twilio; the fake then reports the SMS undelivered through a signed
// status callback, and the person's voice number is called at once.
func TestTwilioUndeliveredFailsOver(t *testing.T) {
	fake := faketwilio.Start(t)
	var handler http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	srv.Start()
	defer srv.Close()

	cfgText := withGlobal(testConfig, fmt.Sprintf("global:\n  external_url: %s\n", srv.URL)) + fmt.Sprintf(`
providers:
  twilio:
    account_sid: %s
    auth_token: {value: %s}
    from: "+815000000000"
    api_url: %s
`, fake.AccountSID, fake.AuthToken, fake.URL)
	h := newHarness(t, cfgText)
	cfg := h.engine.Policies().Config()
	tw, err := twilio.New(cfg.Providers.Twilio, cfg.Global.ExternalURL, twilio.WithStatusCallbackURL(twilio.StatusCallbackURL(cfg.Global.ExternalURL)))
	if err != nil {
		t.Fatal(err)
	}
	senders := map[string]channels.Sender{"sms": tw.SMS, "voice": tw.Voice, "slack": h.sent, "email": h.sent, "webhook": h.sent}
	h.engine.senders.Store(&senders)
	handler = inboundServer(h.engine).Handler()

	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	h.advance(0)
	msgs := fake.Messages()
	if len(msgs) != 1 || msgs[0].Form.Get("To") != "+819000000001" {
		t.Fatalf("want one SMS to alice, got %+v", msgs)
	}
	if !strings.Contains(msgs[0].Form.Get("StatusCallback"), srv.URL+"/api/v1/twilio/status?cb=") {
		t.Fatalf("StatusCallback: %q", msgs[0].Form.Get("StatusCallback"))
	}

	// A forged callback (no signature, or signed with another token) changes nothing.
	cb := msgs[0].Form.Get("StatusCallback")
	form := url.Values{"MessageSid": {msgs[0].SID}, "MessageStatus": {"undelivered"}}
	resp, _ := http.PostForm(cb, form)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned callback: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", cb, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", faketwilio.Sign("not-the-token", cb, form))
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged callback: %d", resp.StatusCode)
	}
	h.advance(0)
	if calls := fake.Calls(); len(calls) != 0 {
		t.Fatalf("a forged callback made %d calls", len(calls))
	}

	resp, err = fake.SendStatus(msgs[0].SID, "undelivered", 30003)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("signed callback: %d", resp.StatusCode)
	}
	h.advance(0)
	calls := fake.Calls()
	if len(calls) != 1 || calls[0].Form.Get("To") != "+819000000001" {
		t.Fatalf("want a call to alice after the undelivered SMS, got %+v", calls)
	}
	tl := h.timeline(id)
	if !slices.Contains(tl, "notify_failed") {
		t.Errorf("timeline lacks notify_failed: %q", tl)
	}
}
