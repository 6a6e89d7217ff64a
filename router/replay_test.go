package router

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	hslack "github.com/hikyaku/hikyaku/channels/slack"
	"github.com/hikyaku/hikyaku/channels/twilio"
	"github.com/hikyaku/hikyaku/store"
)

// fillHandled acts on incident id n times through requests of its own, so
// the incident's Handled window (handledKeep) holds none of the earlier ones.
func fillHandled(t *testing.T, e *Engine, id int64, n int) {
	t.Helper()
	for i := range n {
		_, done, err := e.Act(context.Background(), Action{Incident: id, Verb: "escalate", User: "bob", Via: "sms", Dedup: fmt.Sprintf("SMfill%04d", i)})
		if err != nil || !done {
			t.Fatalf("filler %d: done=%v, %v", i, done, err)
		}
	}
}

// replays reads hikyaku_inbound_replays_total{channel}.
func replays(e *Engine, channel string) float64 {
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.metrics.replays)
	mfs, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "channel" && l.GetValue() == channel {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestLinkActsOncePerAction: an escalate link POSTed three times escalates
// once, and the later presses get a page saying what was done, when and by
// whom. The same page's ack link and a second page's escalate link are
// links of their own and act; a link of the format before nonces acts once
// too.
func TestLinkActsOncePerAction(t *testing.T) {
	h := newHarness(t, withGlobal(testConfig, linkConfig))
	srv := httptest.NewServer(inboundServer(h.engine).Handler())
	defer srv.Close()
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	inc, _ := h.st.Get(context.Background(), id)
	links := h.engine.Links(inc, "alice")
	path := func(u string) string { return srv.URL + strings.TrimPrefix(u, "http://hikyaku.test") }
	escalations := func() int {
		n := 0
		for _, ev := range h.timeline(id) {
			if ev == "escalated" {
				n++
			}
		}
		return n
	}

	code, body := do(t, "POST", path(links["escalate"]), "", nil)
	if code != 200 || !strings.Contains(body, "Escalate: open (alice)") {
		t.Fatalf("first POST: %d %s", code, body)
	}
	h.clock.Add(time.Minute)
	for i := range 2 {
		code, body := do(t, "POST", path(links["escalate"]), "", nil)
		// The first POST was at t0, 2026-01-07 14:00 in testConfig's Asia/Tokyo.
		if want := "Already done: Escalate at 2026-01-07 14:00:00 JST by alice."; code != 200 || !strings.Contains(body, want) {
			t.Fatalf("POST %d again: %d %s; want %q", i+2, code, body, want)
		}
	}
	if n := escalations(); n != 1 {
		t.Fatalf("one escalate link POSTed 3 times escalated %d times", n)
	}
	if got := replays(h.engine, "link"); got != 2 {
		t.Errorf("hikyaku_inbound_replays_total{channel=link} = %v, want 2", got)
	}

	// The same page's ack link is its own.
	if code, body := do(t, "POST", path(links["ack"]), "", nil); code != 200 || !strings.Contains(body, "acked") {
		t.Fatalf("ack link after escalate: %d %s", code, body)
	}
	// A second page brings fresh links: escalating again is a new decision.
	inc, _ = h.st.Get(context.Background(), id)
	again := h.engine.Links(inc, "alice")
	if again["escalate"] == links["escalate"] {
		t.Fatal("a second page's escalate link is the first page's")
	}
	if code, _ := do(t, "POST", path(again["escalate"]), "", nil); code != 200 {
		t.Fatalf("second page's escalate: %d", code)
	}
	if n := escalations(); n != 2 {
		t.Fatalf("%d escalations after the second page's link, want 2", n)
	}

	// A link made before nonces existed (4 claims) acts once, even when the
	// Handled window moved on in between.
	old := signLink([]byte("0123456789abcdef-test-key"), link{Incident: id, Action: "escalate", User: "alice", Expires: h.clock.Now().Add(time.Hour)})
	if strings.Count(mustDecodeClaims(t, old), "|") != 3 {
		t.Fatalf("old-format link has claims %q", mustDecodeClaims(t, old))
	}
	if code, _ := do(t, "POST", srv.URL+"/act/"+old, "", nil); code != 200 {
		t.Fatalf("old link: %d", code)
	}
	fillHandled(t, h.engine, id, 2*handledKeep)
	before := escalations()
	if code, body := do(t, "POST", srv.URL+"/act/"+old, "", nil); code != 200 || !strings.Contains(body, "Already done") {
		t.Fatalf("old link again: %d %s", code, body)
	}
	if n := escalations(); n != before {
		t.Fatalf("an old-format link replayed escalated again (%d → %d)", before, n)
	}
}

func mustDecodeClaims(t *testing.T, token string) string {
	t.Helper()
	c, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// smsVerbs posts an SMS signed as Twilio signs it and returns the reply's
// TwiML verbs, which may be none.
func (h *twilioHarness) smsVerbs(from, body, sid string) twiml {
	h.t.Helper()
	resp, err := h.fake.SignedPost(h.url+twilio.InboundSMSPath, url.Values{
		"From": {from}, "To": {twilioNumber}, "Body": {body}, "MessageSid": {sid}, "SmsSid": {sid},
		"AccountSid": {h.fake.AccountSID}, "NumMedia": {"0"}, "ApiVersion": {"2010-04-01"},
	})
	return readTwiML(h.t, resp, err)
}

// TestSMSReplayAfterHandledWindowDoesNothing: an "ack" SMS captured and
// sent again after 200 other requests acted on its incident (far past the
// Handled window) neither acks the reopened incident nor texts anybody.
// Before the replay record, it acked again.
func TestSMSReplayAfterHandledWindowDoesNothing(t *testing.T) {
	h := newTwilioHarness(t)
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	h.advance(0)
	const sid = "SMcaptured00000000000000000000001"
	if got := h.smsWithSID(aliceNumber, fmt.Sprint("ack ", id), sid); got != fmt.Sprintf("#%d acknowledged. Escalation stopped.", id) {
		t.Fatalf("first delivery: %q", got)
	}
	// A retry inside the window still gets the first answer.
	if got := h.smsWithSID(aliceNumber, fmt.Sprint("ack ", id), sid); got != fmt.Sprintf("#%d acknowledged. Escalation stopped.", id) {
		t.Fatalf("provider retry: %q", got)
	}
	fillHandled(t, h.engine, id, 200) // escalations reopen it
	if st := h.incident(id).Status; st != store.StatusOpen {
		t.Fatalf("incident is %s, want open again", st)
	}
	for _, body := range []string{fmt.Sprint("ack ", id), "ack"} {
		if d := h.smsVerbs(aliceNumber, body, sid); len(d.Verbs) != 0 {
			t.Errorf("replayed %q answered %v: a replay must text nobody", body, d.names())
		}
	}
	if n := len(h.events(id, "acked")); n != 1 {
		t.Errorf("%d acked events: the replay acked again", n)
	}
	if st := h.incident(id).Status; st != store.StatusOpen {
		t.Errorf("after the replay the incident is %s", st)
	}
	if got := replays(h.engine, "sms"); got != 3 {
		t.Errorf("hikyaku_inbound_replays_total{channel=sms} = %v, want 3 (a retry and two replays)", got)
	}
	// A STOP replayed after START must not opt the number out again.
	const stop = "SMcapturedstop000000000000000001"
	h.smsWithSID(aliceNumber, "STOP", stop)
	h.smsWithSID(aliceNumber, "START", "SMstart000000000000000000000001")
	if d := h.smsVerbs(aliceNumber, "STOP", stop); len(d.Verbs) != 0 {
		t.Errorf("replayed STOP answered %v", d.names())
	}
	if out, _ := h.st.OptedOut(context.Background(), aliceNumber); out {
		t.Error("a replayed STOP opted the number out again after START")
	}
}

// TestSlackReplayAfterHandledWindowDoesNothing: a signed Ack press sent
// again within Slack's five minutes, after the Handled window overflowed,
// does not ack the reopened incident. Before the replay record, it did.
func TestSlackReplayAfterHandledWindowDoesNothing(t *testing.T) {
	r := newSlackRig(t)
	id := r.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0].ID
	r.advance(0)
	dmConv, dmTS := r.posted("U0ALICE")
	press := r.click("U0ALICE", dmConv, dmTS, hslack.ActionAck)
	if code := r.press(press); code != http.StatusOK {
		t.Fatalf("press: %d", code)
	}
	if got := r.count(id, "acked"); got != 1 {
		t.Fatalf("%d acked after one press", got)
	}
	fillHandled(t, r.engine, id, 2*handledKeep)
	answers := len(r.fake.Responses())
	if code := r.press(press); code != http.StatusOK {
		t.Fatalf("replayed press: %d", code)
	}
	if got := r.count(id, "acked"); got != 1 {
		t.Errorf("%d acked events: the replayed press acked again", got)
	}
	if inc, _ := r.st.Get(context.Background(), id); inc.Status != store.StatusOpen {
		t.Errorf("after the replay the incident is %s, want still open", inc.Status)
	}
	if got := r.fake.Responses()[answers:]; len(got) != 0 {
		t.Errorf("the replay was answered: %+v", got)
	}
	if got := replays(r.engine, "slack"); got != 1 {
		t.Errorf("hikyaku_inbound_replays_total{channel=slack} = %v, want 1", got)
	}
}

// TestVoiceReplayAfterHandledWindowDoesNothing: a keypad "1" post captured
// and sent again after the Handled window moved on hangs up saying
// nothing, and does not ack the reopened incident.
func TestVoiceReplayAfterHandledWindowDoesNothing(t *testing.T) {
	h := newTwilioHarness(t)
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	h.advance(0)
	sid, action := h.pageCall(aliceNumber)
	h.press(action, sid, aliceNumber, "1")
	if n := len(h.events(id, "acked")); n != 1 {
		t.Fatalf("%d acked after the keypad ack", n)
	}
	fillHandled(t, h.engine, id, 2*handledKeep)
	d := h.press(action, sid, aliceNumber, "1")
	if got := d.names(); len(got) != 1 || got[0] != "Hangup" {
		t.Errorf("replayed keypad post answered %v, want a silent Hangup", got)
	}
	if n := len(h.events(id, "acked")); n != 1 {
		t.Errorf("%d acked events: the replay acked again", n)
	}
	if got := replays(h.engine, "voice"); got != 1 {
		t.Errorf("hikyaku_inbound_replays_total{channel=voice} = %v, want 1", got)
	}
}

// failingUpdates is a store whose next Update calls fail as if the store
// went away between the replay record and the action.
type failingUpdates struct {
	store.Store
	fail int
}

func (f *failingUpdates) Update(ctx context.Context, id int64, fn store.UpdateFunc) (store.Result, error) {
	if f.fail > 0 {
		f.fail--
		return store.Result{}, fmt.Errorf("store unreachable (test)")
	}
	return f.Store.Update(ctx, id, fn)
}

// TestLinkWhoseActionFailedWorksAgain: when the action of a link press
// could not be recorded, the person is told to try again, and pressing the
// same link again acts: the failed press left no replay record behind.
func TestLinkWhoseActionFailedWorksAgain(t *testing.T) {
	h := newHarness(t, withGlobal(testConfig, linkConfig))
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	inc, _ := h.st.Get(context.Background(), id)
	links := h.engine.Links(inc, "alice")
	flaky := &failingUpdates{Store: h.st, fail: 1}
	h.engine.opts.Store = flaky
	srv := httptest.NewServer(inboundServer(h.engine).Handler())
	defer srv.Close()
	esc := srv.URL + strings.TrimPrefix(links["escalate"], "http://hikyaku.test")
	if code, body := do(t, "POST", esc, "", nil); code != http.StatusServiceUnavailable || !strings.Contains(body, "please try again") {
		t.Fatalf("press with the store failing: %d %s", code, body)
	}
	code, body := do(t, "POST", esc, "", nil)
	if code != 200 || strings.Contains(body, "Already done") || !strings.Contains(body, "Escalate: open (alice)") {
		t.Fatalf("press again after the failure: %d %s", code, body)
	}
	if n := len(h.events(id, "escalated")); n != 1 {
		t.Fatalf("%d escalated events, want 1", n)
	}
}

// TestUsedLinkGETShowsAlreadyDone: opening a link that acted shows the
// "Already done" page the second press shows, with no button; opening one
// that did not act shows the button, and opening it records nothing, so
// its press still acts. Before, a used link's GET offered the button again.
func TestUsedLinkGETShowsAlreadyDone(t *testing.T) {
	h := newHarness(t, withGlobal(testConfig, linkConfig))
	srv := httptest.NewServer(inboundServer(h.engine).Handler())
	defer srv.Close()
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	inc, _ := h.st.Get(context.Background(), id)
	esc := srv.URL + strings.TrimPrefix(h.engine.Links(inc, "alice")["escalate"], "http://hikyaku.test")

	for i := range 2 {
		code, body := do(t, "GET", esc, "", nil)
		if code != 200 || !strings.Contains(body, `<form method="post">`) || strings.Contains(body, "Already done") {
			t.Fatalf("GET %d of an unused link: %d %s", i+1, code, body)
		}
	}
	if code, body := do(t, "POST", esc, "", nil); code != 200 || !strings.Contains(body, "Escalate: open (alice)") {
		t.Fatalf("POST after two GETs: %d %s", code, body)
	}
	h.clock.Add(time.Minute)
	// The POST was at t0, 2026-01-07 14:00 in testConfig's Asia/Tokyo.
	const want = "Already done: Escalate at 2026-01-07 14:00:00 JST by alice. This link acts once; nothing was changed now."
	code, body := do(t, "GET", esc, "", nil)
	if code != 200 || !strings.Contains(body, want) {
		t.Fatalf("GET of a used link: %d %s; want %q", code, body, want)
	}
	if strings.Contains(body, "<form") || strings.Contains(body, "<button") {
		t.Errorf("GET of a used link offers a button: %s", body)
	}
	if got := replays(h.engine, "link"); got != 0 {
		t.Errorf("hikyaku_inbound_replays_total{channel=link} = %v after GETs, want 0: a GET is no request to act", got)
	}
	if n := len(h.events(id, "escalated")); n != 1 {
		t.Errorf("%d escalations, want 1", n)
	}
}
