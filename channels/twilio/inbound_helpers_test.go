package twilio

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/channelstest"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

// The inbound tests' people: alice (English) has an SMS and a voice
// number, kenji (Japanese) an SMS number, bob only a voice number.
const (
	aliceNum    = "+819000000001"
	kenjiNum    = "+819000000003"
	bobNum      = "+819000000002"
	strangerNum = "+819099999999"
)

func inboundConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(`
global:
  external_url: `+public+`
providers:
  twilio:
    account_sid: `+faketwilio.AccountSID+`
    auth_token: {value: `+faketwilio.AuthToken+`}
    from: "`+from+`"
users:
  - id: alice
    name: Alice
    language: en
    contacts: {sms: "`+aliceNum+`", voice: "`+aliceNum+`"}
  - id: kenji
    name: 健二
    language: ja
    contacts: {sms: "`+kenjiNum+`"}
  - id: bob
    name: Bob
    contacts: {voice: "`+bobNum+`"}
departments:
  - id: eng
    escalation_policy: eng
escalation_policies:
  - id: eng
    steps:
      - targets: {users: [alice]}
default_route:
  department: eng
`), "inbound.yml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// newReceiver is the fake engine over inboundConfig.
func newReceiver(t *testing.T) *channelstest.Receiver {
	return &channelstest.Receiver{Cfg: inboundConfig(t)}
}

// mount serves Routes over r on a mux, as the router serves Inbound.
func mount(r channels.Receiver) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range Routes(r, InboundOptions{}) {
		mux.Handle(rt.Pattern, rt.Handler)
	}
	return mux
}

// post sends form to target (a path and query) signed with token as
// Twilio signs its webhooks to public.
func post(h http.Handler, token, target string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", faketwilio.Sign(token, public+target, form))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// answerTwiML parses a 200 TwiML answer, failing on anything else.
func answerTwiML(t *testing.T, w *httptest.ResponseRecorder) response {
	t.Helper()
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != ContentType {
		t.Fatalf("answer %d %q: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	return parseTwiML(t, w.Body.String())
}

// replyText is the one <Message> of an SMS answer, "" for none.
func replyText(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	d := answerTwiML(t, w)
	switch {
	case len(d.Verbs) == 0:
		return ""
	case len(d.Verbs) == 1 && d.Verbs[0].XMLName.Local == "Message":
		return d.Verbs[0].Text
	}
	t.Fatalf("want at most one <Message>, got %v", names(d.Verbs))
	return ""
}

// said is what a keypad answer says before it hangs up, failing unless
// it is <Say> then <Hangup>.
func said(t *testing.T, w *httptest.ResponseRecorder) (text, lang string) {
	t.Helper()
	d := answerTwiML(t, w)
	if !slices.Equal(names(d.Verbs), []string{"Say", "Hangup"}) {
		t.Fatalf("want Say, Hangup; got %v: %s", names(d.Verbs), w.Body)
	}
	return d.Verbs[0].Text, d.Verbs[0].Language
}
