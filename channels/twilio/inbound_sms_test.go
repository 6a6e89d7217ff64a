package twilio

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/channelstest"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

// sms posts an inbound SMS from number, signed as Twilio signs it.
func sms(t *testing.T, r channels.Receiver, number, body, sid string) string {
	t.Helper()
	return replyText(t, post(mount(r), faketwilio.AuthToken, InboundSMSPath,
		url.Values{"From": {number}, "Body": {body}, "MessageSid": {sid}}))
}

// TestSMSReplyActs: an id and a verb act as the number's owner, via sms,
// named by the MessageSid, and the answer says so in the owner's language.
func TestSMSReplyActs(t *testing.T) {
	for _, tc := range []struct {
		name, from, body, want string
		act                    channels.Action
	}{
		{"ack", aliceNum, "ack 12", "#12 acknowledged. Escalation stopped.",
			channels.Action{Incident: 12, Verb: channels.Ack, User: "alice", Via: "sms", Dedup: "SM1"}},
		{"short resolve", aliceNum, "12r", "#12 resolved.",
			channels.Action{Incident: 12, Verb: channels.Resolve, User: "alice", Via: "sms", Dedup: "SM1"}},
		{"escalate", aliceNum, "12e", "#12 escalated to the next step.",
			channels.Action{Incident: 12, Verb: channels.Escalate, User: "alice", Via: "sms", Dedup: "SM1"}},
		{"japanese", kenjiNum, "12 了解", "#12 了解しました。エスカレーションを停止しました。",
			channels.Action{Incident: 12, Verb: channels.Ack, User: "kenji", Via: "sms", Dedup: "SM1"}},
		{"voice number", bobNum, "ack 12", "#12 acknowledged. Escalation stopped.",
			channels.Action{Incident: 12, Verb: channels.Ack, User: "bob", Via: "sms", Dedup: "SM1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t)
			if got := sms(t, r, tc.from, tc.body, "SM1"); got != tc.want {
				t.Errorf("reply %q, want %q", got, tc.want)
			}
			if got := r.Actions(); !slices.Equal(got, []channels.Action{tc.act}) {
				t.Errorf("acted %+v, want %+v", got, tc.act)
			}
			if !r.WasSeen("SM1") {
				t.Error("the MessageSid's replay record is not held")
			}
		})
	}
}

// TestSMSReplyOutcomes: what the engine made of the reply is what its
// sender reads; a replay is answered nothing.
func TestSMSReplyOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name string
		res  channels.Result
		want string
	}{
		{"acked by another", channels.Result{Outcome: channels.AlreadyAcked, Incident: channels.Incident{ID: 12, AckedBy: "kenji"}},
			"#12 was already acknowledged by 健二. Nothing changed."},
		{"acked by someone unconfigured", channels.Result{Outcome: channels.AlreadyAcked, Incident: channels.Incident{ID: 12, AckedBy: "api"}},
			"#12 was already acknowledged by api. Nothing changed."},
		{"resolved", channels.Result{Outcome: channels.AlreadyResolved}, "#12 is already resolved. Nothing changed."},
		{"not found", channels.Result{Outcome: channels.NotFound}, "There is no incident #12. Nothing changed."},
		{"forbidden", channels.Result{Outcome: channels.Forbidden}, "This number is not registered with hikyaku. Nothing changed."},
		{"replayed", channels.Result{Outcome: channels.Replayed}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t)
			r.ActFunc = func(channels.Action) (channels.Result, error) { return tc.res, nil }
			if got := sms(t, r, aliceNum, "ack 12", "SM1"); got != tc.want {
				t.Errorf("reply %q, want %q", got, tc.want)
			}
			if !r.WasSeen("SM1") {
				t.Error("an answered reply's replay record was dropped")
			}
		})
	}
}

// TestSMSStoreDownDropsTheReplayRecord: a reply that could not be recorded
// says so, and its MessageSid may come again (Twilio's retry, or the person).
func TestSMSStoreDownDropsTheReplayRecord(t *testing.T) {
	r := newReceiver(t)
	r.ActFunc = func(channels.Action) (channels.Result, error) { return channels.Result{}, errors.New("store down") }
	if got := sms(t, r, kenjiNum, "12 了解", "SM1"); got != "記録できませんでした。もう一度送ってください。" {
		t.Errorf("reply %q", got)
	}
	if r.WasSeen("SM1") {
		t.Error("the replay record of a reply that did nothing is still held")
	}
	r = &channelstest.Receiver{Cfg: inboundConfig(t), Err: errors.New("store down")}
	if got := sms(t, r, aliceNum, "ack 12", "SM2"); got != "That could not be recorded. Please try again." {
		t.Errorf("reply without a replay record %q", got)
	}
	if len(r.Actions()) != 0 {
		t.Errorf("acted without a replay record: %+v", r.Actions())
	}
}

// TestSMSFromAStrangerIsNotAnswered: no reply, nothing acted, the engine
// told (it logs and counts).
func TestSMSFromAStrangerIsNotAnswered(t *testing.T) {
	r := newReceiver(t)
	if got := sms(t, r, strangerNum, "ack 12", "SM1"); got != "" {
		t.Errorf("a stranger got %q", got)
	}
	if got := r.Unknowns(); !slices.Equal(got, []string{"sms " + strangerNum}) {
		t.Errorf("Unknown calls %v", got)
	}
	if len(r.Actions()) != 0 || r.WasSeen("SM1") {
		t.Errorf("a stranger's SMS acted %+v or claimed a replay record", r.Actions())
	}
}

// TestSMSRefusesWhatTwilioDidNotSign: a forged or unsigned post is 403
// and nothing happens; without the auth token nothing verifies.
func TestSMSRefusesWhatTwilioDidNotSign(t *testing.T) {
	r := newReceiver(t)
	form := url.Values{"From": {aliceNum}, "Body": {"ack 12"}, "MessageSid": {"SM1"}}
	if w := post(mount(r), "not-the-token", InboundSMSPath, form); w.Code != http.StatusForbidden {
		t.Errorf("wrong token: %d %s", w.Code, w.Body)
	}
	r.Cfg.Providers.Twilio = nil
	if w := post(mount(r), faketwilio.AuthToken, InboundSMSPath, form); w.Code != http.StatusForbidden {
		t.Errorf("no providers.twilio: %d %s", w.Code, w.Body)
	}
	if len(r.Actions()) != 0 || len(r.Unknowns()) != 0 {
		t.Errorf("an unsigned SMS acted: %+v %v", r.Actions(), r.Unknowns())
	}
}

// TestSMSHelpAndGibberish: neither acts nor claims a replay record.
func TestSMSHelpAndGibberish(t *testing.T) {
	r := newReceiver(t)
	help := "Reply 'ack 12' or '12a' to acknowledge, '12r' to resolve, '12e' to escalate; 'ack' alone acts on your only open page. STOP ends SMS pages, START resumes them."
	if got := sms(t, r, aliceNum, "help", "SM1"); got != help {
		t.Errorf("help: %q", got)
	}
	if got := sms(t, r, aliceNum, "who is this", "SM2"); got != "Not understood. "+help {
		t.Errorf("gibberish: %q", got)
	}
	if got := sms(t, r, kenjiNum, "？", "SM3"); !strings.HasPrefix(got, "了解:「12 了解」か「12a」") {
		t.Errorf("Japanese help: %q", got)
	}
	if len(r.Actions()) != 0 || r.WasSeen("SM1") || r.WasSeen("SM2") {
		t.Errorf("help acted %+v or claimed a replay record", r.Actions())
	}
}

// TestSMSBareVerb: "ack" alone acts on the sender's only page it can act
// on, lists several, says when there is none, and a retry of one that
// acted finds its incident whatever its pages are now.
func TestSMSBareVerb(t *testing.T) {
	page := func(id int64, user, status string) channels.Delivery {
		return channels.Delivery{Incident: id, Kind: channels.KindPage, Channel: "voice", User: user, Status: status}
	}
	r := newReceiver(t)
	if got := sms(t, r, aliceNum, "ack", "SM1"); got != "You have no open page. Reply with its id, e.g. 'ack 12'." {
		t.Errorf("no page: %q", got)
	}
	r.Pages = []channels.Delivery{page(7, "alice", "acked"), page(9, "alice", "open"), page(9, "alice", "open"), page(8, "kenji", "open")}
	if got := sms(t, r, aliceNum, "ack", "SM2"); got != "#9 acknowledged. Escalation stopped." {
		t.Errorf("one open page (and one acked, another's): %q", got)
	}
	if got := sms(t, r, aliceNum, "resolve", "SM3"); got != "Open: 7, 9. Reply with the id, e.g. '7 resolve'." {
		t.Errorf("resolve may act on the acked one too: %q", got)
	}
	r.Handled = map[string]int64{"SM4": 3}
	if got := sms(t, r, aliceNum, "resolve", "SM4"); got != "#3 resolved." {
		t.Errorf("a retry of a reply that acted: %q", got)
	}
	want := []channels.Action{
		{Incident: 9, Verb: channels.Ack, User: "alice", Via: "sms", Dedup: "SM2"},
		{Incident: 3, Verb: channels.Resolve, User: "alice", Via: "sms", Dedup: "SM4"},
	}
	if got := r.Actions(); !slices.Equal(got, want) {
		t.Errorf("acted %+v, want %+v", got, want)
	}
}

// TestSMSBareVerbReplayedSaysNothing: a bare "ack" seen before that finds
// no incident it acted on is a replay: no list, no "none open", no act.
func TestSMSBareVerbReplayedSaysNothing(t *testing.T) {
	r := newReceiver(t)
	r.Pages = []channels.Delivery{{Incident: 9, Kind: channels.KindPage, User: "alice", Status: "open"},
		{Incident: 10, Kind: channels.KindPage, User: "alice", Status: "open"}}
	if got := sms(t, r, aliceNum, "ack", "SM1"); !strings.HasPrefix(got, "Open: 9, 10.") {
		t.Fatalf("first: %q", got)
	}
	if got := sms(t, r, aliceNum, "ack", "SM1"); got != "" {
		t.Errorf("replayed: %q", got)
	}
	if len(r.Actions()) != 0 {
		t.Errorf("acted %+v", r.Actions())
	}
}

// TestSMSStopStart: STOP and START set the number's opt-out; a repeat of
// either changes nothing, so a replayed STOP cannot undo a later START.
func TestSMSStopStart(t *testing.T) {
	r := newReceiver(t)
	if got := sms(t, r, aliceNum, "STOP", "SM1"); got != "SMS pages stopped: you will be paged by your other contact methods. Reply START to resume." {
		t.Errorf("STOP: %q", got)
	}
	if !r.OptedOut(aliceNum) {
		t.Fatal("STOP did not opt out")
	}
	if got := sms(t, r, aliceNum, "start", "SM2"); got != "SMS pages resumed." {
		t.Errorf("START: %q", got)
	}
	if got := sms(t, r, aliceNum, "STOP", "SM1"); got != "" {
		t.Errorf("replayed STOP: %q", got)
	}
	if r.OptedOut(aliceNum) {
		t.Error("a replayed STOP undid the START after it")
	}
}

// FuzzInboundSMS: whatever a signed inbound SMS holds, a user's number gets
// one non-empty reply, and a number no user has gets none and is neither
// acted on nor opted out.
func FuzzInboundSMS(f *testing.F) {
	f.Add(aliceNum, "ack 1", "SM1")
	f.Add(kenjiNum, "了解", "SM2")
	f.Add(aliceNum, "1a\n> quoted page", "")
	f.Add(strangerNum, "STOP", "SM3")
	f.Add(aliceNum, "\x00<&>]]>", "SM4")
	f.Fuzz(func(t *testing.T, number, body, sid string) {
		r := &channelstest.Receiver{Cfg: inboundConfig(t),
			Pages: []channels.Delivery{{Incident: 1, Kind: channels.KindPage, User: "alice", Status: "open"},
				{Incident: 2, Kind: channels.KindPage, User: "alice", Status: "open"}}}
		w := post(mount(r), faketwilio.AuthToken, InboundSMSPath, url.Values{"From": {number}, "Body": {body}, "MessageSid": {sid}})
		got := replyText(t, w)
		if number == aliceNum || number == kenjiNum || number == bobNum {
			if strings.TrimSpace(got) == "" {
				t.Fatalf("%q from a user's number got no reply", body)
			}
			return
		}
		if got != "" || len(r.Actions()) != 0 || r.OptedOut(number) {
			t.Fatalf("a stranger's %q got %q, acted %+v", body, got, r.Actions())
		}
	})
}
