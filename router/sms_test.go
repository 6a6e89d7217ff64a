package router

import (
	"context"
	"encoding/xml"
	"fmt"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/record"
	"github.com/hikyaku/hikyaku/channels/twilio"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// Numbers of inboundConfig's people and of hikyaku's Twilio number.
const (
	aliceNumber  = "+819000000001"
	kenjiNumber  = "+819000000003"
	bobNumber    = "+819000000002"
	twilioNumber = "+815000000000"
)

// inboundConfig: alice (English) is paged by SMS and call at once for the
// default route, kenji (Japanese) for team="ja"; bob is the next step of both.
const inboundConfig = `
global:
  timezone: Asia/Tokyo
users:
  - id: alice
    name: Alice
    language: en
    contacts: {sms: "+819000000001", voice: "+819000000001", email: alice@example.com}
    notify:
      - {after: 0s, channels: [sms, voice]}
  - id: kenji
    name: 健二
    language: ja
    contacts: {sms: "+819000000003", voice: "+819000000003"}
    notify:
      - {after: 0s, channels: [sms, voice]}
  - id: bob
    name: Bob
    contacts: {sms: "+819000000002"}
    notify:
      - {after: 0s, channels: [sms]}
departments:
  - id: eng
    escalation_policy: eng
    rotations:
      - id: primary
        start: "2026-01-05 10:00"
        shift: 1w
        members: [alice]
escalation_policies:
  - id: eng
    steps:
      - targets: {rotations: [primary]}
        escalate_after: 5m
      - targets: {users: [bob]}
        escalate_after: 10m
  - id: ja
    steps:
      - targets: {users: [kenji]}
        escalate_after: 5m
      - targets: {users: [bob]}
        escalate_after: 10m
routes:
  - name: ja
    matchers: ['team="ja"']
    department: eng
    escalation_policy: ja
default_route:
  department: eng
`

// twilioHarness is the engine paging through the real Twilio channels into
// faketwilio, with hikyaku's HTTP server at global.external_url, so the fake
// can post inbound webhooks signed as Twilio signs them.
type twilioHarness struct {
	*harness
	fake *faketwilio.Server
	url  string // external_url
}

func newTwilioHarness(t *testing.T) *twilioHarness {
	t.Helper()
	fake := faketwilio.Start(t)
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cfgText := withGlobal(inboundConfig, fmt.Sprintf("global:\n  external_url: %s\n", srv.URL)) + fmt.Sprintf(`
providers:
  twilio:
    account_sid: %s
    auth_token: {value: %s}
    from: %q
    api_url: %s
`, fake.AccountSID, fake.AuthToken, twilioNumber, fake.URL)
	h := newHarness(t, cfgText)
	cfg := h.engine.Policies().Config()
	tw, err := twilio.New(cfg.Providers.Twilio, cfg.Global.ExternalURL, twilio.WithStatusCallbackURL(twilio.StatusCallbackURL(cfg.Global.ExternalURL)))
	if err != nil {
		t.Fatal(err)
	}
	senders := map[string]channels.Sender{"sms": tw.SMS, "voice": tw.Voice, "slack": h.sent, "email": h.sent, "webhook": h.sent}
	h.engine.senders.Store(&senders)
	handler = inboundServer(h.engine).Handler()
	return &twilioHarness{harness: h, fake: fake, url: srv.URL}
}

// twilioSent is "sms:+81…" and "voice:+81…" of every SMS and call Twilio accepted.
func (h *twilioHarness) twilioSent() []string {
	var out []string
	for _, m := range h.fake.Messages() {
		out = append(out, "sms:"+m.Form.Get("To"))
	}
	for _, c := range h.fake.Calls() {
		out = append(out, "voice:"+c.Form.Get("To"))
	}
	return out
}

// twiml is a TwiML document as Twilio reads it.
type twiml struct {
	XMLName xml.Name
	Verbs   []twimlVerb `xml:",any"`
}

type twimlVerb struct {
	XMLName             xml.Name
	Action              string      `xml:"action,attr"`
	ActionOnEmptyResult string      `xml:"actionOnEmptyResult,attr"`
	Language            string      `xml:"language,attr"`
	Text                string      `xml:",chardata"`
	Inner               []twimlVerb `xml:",any"`
}

func (d twiml) names() []string {
	var out []string
	for _, v := range d.Verbs {
		out = append(out, v.XMLName.Local)
	}
	return out
}

// readTwiML checks resp is a 200 TwiML answer and parses it.
func readTwiML(t *testing.T, resp *http.Response, err error) twiml {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Fatalf("Content-Type %q, want TwiML", ct)
	}
	var d twiml
	if err := xml.Unmarshal(body, &d); err != nil || d.XMLName.Local != "Response" {
		t.Fatalf("not TwiML (%v):\n%s", err, body)
	}
	return d
}

var smsSeq int

// sms posts an inbound SMS signed as Twilio signs it and returns the reply text.
func (h *twilioHarness) sms(from, body string) (reply, sid string) {
	h.t.Helper()
	smsSeq++
	sid = fmt.Sprintf("SM%032x", smsSeq)
	return h.smsWithSID(from, body, sid), sid
}

func (h *twilioHarness) smsWithSID(from, body, sid string) string {
	h.t.Helper()
	resp, err := h.fake.SignedPost(h.url+twilio.InboundSMSPath, url.Values{
		"From": {from}, "To": {twilioNumber}, "Body": {body}, "MessageSid": {sid}, "SmsSid": {sid},
		"AccountSid": {h.fake.AccountSID}, "NumMedia": {"0"}, "ApiVersion": {"2010-04-01"},
	})
	d := readTwiML(h.t, resp, err)
	if len(d.Verbs) == 0 {
		return "" // no reply SMS
	}
	if len(d.Verbs) != 1 || d.Verbs[0].XMLName.Local != "Message" {
		h.t.Fatalf("want one <Message> or none, got %v", d.names())
	}
	return d.Verbs[0].Text
}

func (h *twilioHarness) incident(id int64) *store.Incident {
	h.t.Helper()
	inc, err := h.st.Get(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return inc
}

// events are incident id's timeline events of type typ.
func (h *twilioHarness) events(id int64, typ string) []store.Event {
	h.t.Helper()
	evs, err := h.st.Timeline(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return slices.DeleteFunc(evs, func(e store.Event) bool { return e.Type != typ })
}

// TestSMSReplyAcksEndToEnd: the page goes out through Twilio, the person's
// reply comes back signed, the incident is acked by them via SMS, the TwiML
// reply confirms it, and nobody is paged any more; Twilio retrying the same
// MessageSid gets the same confirmation and acts once.
func TestSMSReplyAcksEndToEnd(t *testing.T) {
	h := newTwilioHarness(t)
	id := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0].ID
	h.advance(0)
	msgs := h.fake.Messages()
	if len(msgs) != 1 || msgs[0].Form.Get("To") != aliceNumber {
		t.Fatalf("want the page SMS to alice, got %v", h.twilioSent())
	}
	if !strings.Contains(msgs[0].Form.Get("Body"), fmt.Sprint(id)) {
		t.Fatalf("the page does not name incident %d: %q", id, msgs[0].Form.Get("Body"))
	}

	got, sid := h.sms(aliceNumber, fmt.Sprintf("ack %d", id))
	want := fmt.Sprintf("#%d acknowledged. Escalation stopped.", id)
	if got != want {
		t.Fatalf("reply %q, want %q", got, want)
	}
	inc := h.incident(id)
	if inc.Status != store.StatusAcked || inc.AckedBy != "alice" {
		t.Fatalf("want acked by alice, got %s by %q", inc.Status, inc.AckedBy)
	}
	acks := h.events(id, "acked")
	if len(acks) != 1 || acks[0].Actor != "alice" || acks[0].Detail["via"] != "sms" || !acks[0].At.Equal(h.clock.Now()) {
		t.Fatalf("timeline acked events: %+v", acks)
	}

	before := len(h.twilioSent())
	h.advance(30 * time.Minute)
	if after := h.twilioSent(); len(after) != before {
		t.Fatalf("paged after the ack: %v", after[before:])
	}

	if again := h.smsWithSID(aliceNumber, fmt.Sprintf("ack %d", id), sid); again != want {
		t.Errorf("Twilio's retry got %q, want the same confirmation %q", again, want)
	}
	if n := len(h.events(id, "acked")); n != 1 {
		t.Errorf("the retry acted again: %d acked events", n)
	}
}

// TestSMSReplies covers what people send back, each on a fresh incident
// paged to them, in their language.
func TestSMSReplies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		team   string // "ja" pages kenji, else alice
		from   string
		body   string // %d is the incident id
		reply  string // %d is the incident id
		status store.Status
	}{
		{"japanese", "ja", kenjiNumber, "了解", "#%d 了解しました。エスカレーションを停止しました。", store.StatusAcked},
		{"japanese with id", "ja", kenjiNumber, "%d了解", "#%d 了解しました。エスカレーションを停止しました。", store.StatusAcked},
		{"compact", "", aliceNumber, "%da", "#%d acknowledged. Escalation stopped.", store.StatusAcked},
		{"bare ack, one open page", "", aliceNumber, "ACK", "#%d acknowledged. Escalation stopped.", store.StatusAcked},
		{"resolve", "", aliceNumber, "%dr", "#%d resolved.", store.StatusResolved},
		{"japanese resolve", "ja", kenjiNumber, "解決 %d", "#%d を解決済みにしました。", store.StatusResolved},
		{"help", "", aliceNumber, "help", catalog.Text("en", "sms.help"), store.StatusOpen},
		{"japanese help", "ja", kenjiNumber, "？", catalog.Text("ja", "sms.help"), store.StatusOpen},
		{"gibberish", "", aliceNumber, "who is this", catalog.Text("en", "sms.not_understood") + " " + catalog.Text("en", "sms.help"), store.StatusOpen},
		{"unknown number", "", "+819099999999", "ack %d", "", store.StatusOpen},
		{"hikyaku's own number", "", twilioNumber, "ack %d", "", store.StatusOpen},
		{"unknown incident", "", aliceNumber, "ack 999", "There is no incident #999. Nothing changed.", store.StatusOpen},
		{"other person's page", "ja", aliceNumber, "ack", catalog.Text("en", "sms.none_open"), store.StatusOpen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newTwilioHarness(t)
			labels := map[string]string{"alertname": "DiskFull"}
			if tc.team != "" {
				labels["team"] = tc.team
			}
			id := h.post("firing", "g1", labels)[0].ID
			h.advance(0)
			tl := len(h.timeline(id))
			got, _ := h.sms(tc.from, strings.ReplaceAll(tc.body, "%d", fmt.Sprint(id)))
			if want := strings.ReplaceAll(tc.reply, "%d", fmt.Sprint(id)); got != want {
				t.Errorf("reply %q, want %q", got, want)
			}
			inc := h.incident(id)
			if inc.Status != tc.status {
				t.Errorf("status %s, want %s", inc.Status, tc.status)
			}
			if tc.status == store.StatusOpen {
				if n := len(h.timeline(id)); n != tl {
					t.Errorf("the timeline grew by %d events: %q", n-tl, h.timeline(id)[tl:])
				}
				if n := len(inc.Handled); n != 0 {
					t.Errorf("handled %v", inc.Handled)
				}
			}
		})
	}
}

// TestSMSBareAckWithSeveralPages: "ack" alone is ambiguous with two open
// pages; the reply lists them and nothing changes until one is named.
func TestSMSBareAckWithSeveralPages(t *testing.T) {
	h := newTwilioHarness(t)
	a := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	b := h.post("firing", "g2", map[string]string{"alertname": "B"})[0].ID
	h.advance(0)
	got, _ := h.sms(aliceNumber, "ack")
	if want := fmt.Sprintf("Open: %d, %d. Reply with the id, e.g. '%d ack'.", a, b, a); got != want {
		t.Fatalf("reply %q, want %q", got, want)
	}
	for _, id := range []int64{a, b} {
		if st := h.incident(id).Status; st != store.StatusOpen {
			t.Fatalf("incident %d is %s after an ambiguous ack", id, st)
		}
	}
	got, _ = h.sms(aliceNumber, fmt.Sprint(b, " ack"))
	if want := fmt.Sprintf("#%d acknowledged. Escalation stopped.", b); got != want {
		t.Fatalf("reply %q, want %q", got, want)
	}
	// With b acked, a is the only open page left.
	got, _ = h.sms(aliceNumber, "ack")
	if want := fmt.Sprintf("#%d acknowledged. Escalation stopped.", a); got != want {
		t.Fatalf("reply %q, want %q", got, want)
	}
	got, _ = h.sms(aliceNumber, "ack")
	if got != catalog.Text("en", "sms.none_open") {
		t.Fatalf("reply %q with no open page left", got)
	}
}

// TestSMSBareAckRetry: Twilio retrying a bare "ack" that already acted
// finds the incident it acted on (now acked, no longer open) and confirms again.
func TestSMSBareAckRetry(t *testing.T) {
	h := newTwilioHarness(t)
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	h.advance(0)
	first, sid := h.sms(aliceNumber, "ack")
	if again := h.smsWithSID(aliceNumber, "ack", sid); again != first {
		t.Errorf("retry got %q, first %q", again, first)
	}
	if n := len(h.events(id, "acked")); n != 1 {
		t.Errorf("%d acked events", n)
	}
}

// TestSMSOnResolvedOrAcked: acting on an incident that is over, or already
// acked by someone else, says so and changes nothing.
func TestSMSOnResolvedOrAcked(t *testing.T) {
	h := newTwilioHarness(t)
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	h.advance(0)
	if _, err := h.engine.Ack(context.Background(), id, "bob", "api"); err != nil {
		t.Fatal(err)
	}
	got, _ := h.sms(aliceNumber, fmt.Sprint("ack ", id))
	if want := fmt.Sprintf("#%d was already acknowledged by Bob. Nothing changed.", id); got != want {
		t.Errorf("reply %q, want %q", got, want)
	}
	h.post("resolved", "g1", map[string]string{"alertname": "A"})
	tl := len(h.timeline(id))
	for _, body := range []string{"ack %d", "%dr", "%de"} {
		got, _ := h.sms(aliceNumber, fmt.Sprintf(body, id))
		if want := fmt.Sprintf("#%d is already resolved. Nothing changed.", id); got != want {
			t.Errorf("%q: reply %q, want %q", body, got, want)
		}
	}
	if n := len(h.timeline(id)); n != tl {
		t.Errorf("acting on a resolved incident wrote %q", h.timeline(id)[tl:])
	}
}

// TestSMSEscalate: "12e" pages the next step at once.
func TestSMSEscalate(t *testing.T) {
	h := newTwilioHarness(t)
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	h.advance(0)
	got, _ := h.sms(aliceNumber, fmt.Sprint(id, "e"))
	if want := fmt.Sprintf("#%d escalated to the next step.", id); got != want {
		t.Fatalf("reply %q, want %q", got, want)
	}
	h.advance(0)
	if !slices.Contains(h.twilioSent(), "sms:"+bobNumber) {
		t.Fatalf("bob was not paged: %v", h.twilioSent())
	}
	esc := h.events(id, "escalated")
	if len(esc) != 1 || esc[0].Actor != "alice" || esc[0].Detail["via"] != "sms" {
		t.Fatalf("escalated events: %+v", esc)
	}
}

// TestTwilioInboundRefusesForgeries: unsigned, wrongly signed and
// re-addressed posts get 403 and change nothing; GET never acts.
func TestTwilioInboundRefusesForgeries(t *testing.T) {
	h := newTwilioHarness(t)
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	h.advance(0)
	tl := len(h.timeline(id))
	smsURL := h.url + twilio.InboundSMSPath
	gatherURL := fmt.Sprintf("%s%s?incident=%d&key=k", h.url, twilio.GatherPath, id)
	for _, tc := range []struct {
		name, url string
		form      url.Values
	}{
		{"sms", smsURL, url.Values{"From": {aliceNumber}, "Body": {fmt.Sprint("ack ", id)}, "MessageSid": {"SMforged"}}},
		{"gather", gatherURL, url.Values{"To": {aliceNumber}, "Digits": {"1"}, "CallSid": {"CAforged"}}},
	} {
		post := func(sig string, target string) int {
			req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(tc.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if sig != "" {
				req.Header.Set("X-Twilio-Signature", sig)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := post("", tc.url); code != http.StatusForbidden {
			t.Errorf("%s unsigned: %d", tc.name, code)
		}
		if code := post(faketwilio.Sign("not-the-token", tc.url, tc.form), tc.url); code != http.StatusForbidden {
			t.Errorf("%s signed with another token: %d", tc.name, code)
		}
		// A signature Twilio made for another URL does not carry over.
		other := strings.Replace(tc.url, h.url, "https://hikyaku.example.com", 1)
		if code := post(faketwilio.Sign(h.fake.AuthToken, other, tc.form), tc.url); code != http.StatusForbidden {
			t.Errorf("%s signed for another URL: %d", tc.name, code)
		}
		tampered := url.Values{}
		for k, v := range tc.form {
			tampered[k] = v
		}
		sig := faketwilio.Sign(h.fake.AuthToken, tc.url, tampered)
		tc.form.Set("From", bobNumber) // the body changed after signing
		tc.form.Set("To", bobNumber)
		if code := post(sig, tc.url); code != http.StatusForbidden {
			t.Errorf("%s tampered: %d", tc.name, code)
		}
		resp, err := http.Get(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET %s: %d", tc.name, resp.StatusCode)
		}
	}
	if inc := h.incident(id); inc.Status != store.StatusOpen {
		t.Fatalf("a forged request changed the incident to %s", inc.Status)
	}
	if n := len(h.timeline(id)); n != tl {
		t.Fatalf("a forged request wrote %q", h.timeline(id)[tl:])
	}
}

// TestSMSStopFailsOverAndStartResumes: after STOP the next page to that
// person skips SMS and goes to their next contact method at once, the
// timeline saying why; after START SMS pages go out again.
func TestSMSStopFailsOverAndStartResumes(t *testing.T) {
	h := newTwilioHarness(t)
	if got, _ := h.sms(aliceNumber, "STOP"); got != catalog.Text("en", "sms.stop") {
		t.Fatalf("STOP reply %q", got)
	}
	if out, err := h.st.OptedOut(context.Background(), aliceNumber); err != nil || !out {
		t.Fatalf("opted out = %v, %v", out, err)
	}
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	h.advance(0)
	if got := h.twilioSent(); !slices.Equal(got, []string{"voice:" + aliceNumber}) {
		t.Fatalf("after STOP want only the call, got %v", got)
	}
	failed := h.events(id, "notify_failed")
	if len(failed) != 1 || failed[0].Detail["channel"] != "sms" || !strings.Contains(failed[0].Detail["error"], "opted out by STOP") ||
		failed[0].Detail["failover_to"] != "email" {
		t.Fatalf("notify_failed events: %+v", failed)
	}
	if ms := h.harness.sent.Messages(); len(ms) != 1 || ms[0].Channel != "email" || ms[0].To != "alice@example.com" {
		t.Fatalf("want the failover email to alice, got %+v", ms)
	}
	h.post("resolved", "g1", map[string]string{"alertname": "A"})

	if got, _ := h.sms(aliceNumber, "start"); got != catalog.Text("en", "sms.start") {
		t.Fatalf("START reply %q", got)
	}
	h.post("firing", "g2", map[string]string{"alertname": "B"})
	h.advance(0)
	if msgs := h.fake.Messages(); len(msgs) != 1 || msgs[0].Form.Get("To") != aliceNumber {
		t.Fatalf("after START want an SMS to alice, got %v", h.twilioSent())
	}
}

// TestSMSStopFromUnknownNumberChangesNothing: only configured people's
// numbers are recorded.
func TestSMSStopFromUnknownNumberChangesNothing(t *testing.T) {
	h := newTwilioHarness(t)
	if got, _ := h.sms("+819099999999", "STOP"); got != "" {
		t.Fatalf("replied %q to an unknown number", got)
	}
	if out, _ := h.st.OptedOut(context.Background(), "+819099999999"); out {
		t.Fatal("an unknown number was recorded as opted out")
	}
}

// TestSMSFromUnknownNumberIsNotAnswered: a stranger's SMS gets TwiML
// without a <Message> (Twilio sends nothing back), is counted, and no SMS
// goes out through the API either.
func TestSMSFromUnknownNumberIsNotAnswered(t *testing.T) {
	h := newTwilioHarness(t)
	id := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0].ID
	h.advance(0)
	sent := len(h.fake.Messages())
	counter := h.engine.metrics.unknownSenders.WithLabelValues("sms")
	for i, body := range []string{fmt.Sprintf("ack %d", id), "hello?"} {
		if got, _ := h.sms("+819099999999", body); got != "" {
			t.Fatalf("%q: replied %q to an unknown number", body, got)
		}
		if n := testutil.ToFloat64(counter); n != float64(i+1) {
			t.Fatalf("hikyaku_inbound_unknown_senders_total{channel=\"sms\"} = %v after %d messages", n, i+1)
		}
	}
	if n := len(h.fake.Messages()); n != sent {
		t.Fatalf("%d SMS sent through the API after the stranger's messages", n-sent)
	}
	if inc := h.incident(id); inc.Status != store.StatusOpen {
		t.Fatalf("status %s, want open", inc.Status)
	}
}

// fuzzExternalURL is global.external_url of the fuzz engines; nothing listens there.
const fuzzExternalURL = "http://hikyaku.test"

// fuzzServer is inboundConfig with a Twilio auth token, incident 1 paged to
// alice (through a recording sender), and its HTTP handler.
func fuzzServer(f *testing.F) (*Engine, http.Handler) {
	f.Helper()
	cfg, err := config.Parse([]byte(withGlobal(inboundConfig, "global:\n  external_url: "+fuzzExternalURL+"\n")+`
providers:
  twilio:
    account_sid: `+faketwilio.AccountSID+`
    auth_token: {value: `+faketwilio.AuthToken+`}
    from: "`+twilioNumber+`"
`), "fuzz.yml")
	if err != nil {
		f.Fatal(err)
	}
	st, err := store.OpenBolt(filepath.Join(f.TempDir(), "hikyaku.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	rec := &record.Sender{}
	senders := map[string]channels.Sender{"sms": rec, "voice": rec, "email": rec}
	e := New(policies.Compile(cfg), Options{Store: st, Senders: senders, Clock: &fakeClock{t: t0}, Owner: "fuzz"})
	raw := webhookJSON("firing", "g1", t0, map[string]string{"alertname": "A"})
	msg, err := DecodeMessage(raw)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := e.Ingest(context.Background(), msg, raw); err != nil {
		f.Fatal(err)
	}
	if _, err := e.ProcessDue(context.Background()); err != nil {
		f.Fatal(err)
	}
	return e, inboundServer(e).Handler()
}

// signedRequest is a POST of form to target as Twilio would sign it for
// fuzzExternalURL; nil when target is no request Twilio could make.
func signedRequest(target string, form url.Values) *http.Request {
	req, err := http.NewRequest(http.MethodPost, fuzzExternalURL+target, strings.NewReader(form.Encode()))
	if err != nil || req.URL.Host != "hikyaku.test" {
		return nil
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", faketwilio.Sign(faketwilio.AuthToken, fuzzExternalURL+req.URL.RequestURI(), form))
	return req
}

// serveTwiML runs req and parses the TwiML answer, failing on anything else.
func serveTwiML(t *testing.T, h http.Handler, req *http.Request) twiml {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var d twiml
	if err := xml.Unmarshal(w.Body.Bytes(), &d); err != nil || d.XMLName.Local != "Response" {
		t.Fatalf("not TwiML (%v):\n%s", err, w.Body)
	}
	return d
}

// FuzzSMSInbound: whatever a signed inbound SMS holds, a user's number gets
// one non-empty reply message, and a number no user has gets none and
// changes nothing.
func FuzzSMSInbound(f *testing.F) {
	e, h := fuzzServer(f)
	f.Add(aliceNumber, "ack 1", "SM1")
	f.Add(aliceNumber, "1a\n> quoted page", "SM2")
	f.Add(kenjiNumber, "了解", "SM3")
	f.Add("+819099999999", "ack 1", "SM4")
	f.Add("+819099999999", "STOP", "SM5")
	f.Add(aliceNumber, "\x00<&>]]>", "")
	f.Fuzz(func(t *testing.T, from, body, sid string) {
		ctx := context.Background()
		before, err := e.Store().Get(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		// An append keeps Version: the timeline tells one.
		evsBefore, err := e.Store().Timeline(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		req := signedRequest(twilio.InboundSMSPath, url.Values{"From": {from}, "Body": {body}, "MessageSid": {sid}})
		d := serveTwiML(t, h, req)
		if phoneUser(e.Policies().Config(), from) != nil {
			if len(d.Verbs) != 1 || d.Verbs[0].XMLName.Local != "Message" || strings.TrimSpace(d.Verbs[0].Text) == "" {
				t.Fatalf("want one non-empty <Message>, got %+v", d.Verbs)
			}
			return
		}
		if len(d.Verbs) != 0 {
			t.Fatalf("a number no user has got an answer: %+v", d.Verbs)
		}
		after, err := e.Store().Get(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		evsAfter, err := e.Store().Timeline(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if after.Version != before.Version || len(evsAfter) != len(evsBefore) {
			t.Fatalf("an SMS from %q changed the incident: %+v", from, after)
		}
		if out, _ := e.Store().OptedOut(ctx, from); out {
			t.Fatalf("an SMS from %q opted it out", from)
		}
	})
}
