package twilio

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
)

// press posts key on call CA1 to number, to the Gather action with query.
func press(r channels.Receiver, query, number, key string) *httptest.ResponseRecorder {
	return post(mount(r), faketwilio.AuthToken, GatherPath+"?"+query, url.Values{"CallSid": {"CA1"}, "To": {number}, "Digits": {key}})
}

// TestKeypadActs: 1, 2 and 3 act as the called number's owner on the
// incident of the action URL, once per call and key, and the call says so.
func TestKeypadActs(t *testing.T) {
	for _, tc := range []struct {
		key, number, want, lang string
		act                     channels.Action
	}{
		{"1", aliceNum, "Acknowledged. Escalation stopped.", "en-US",
			channels.Action{Incident: 12, Verb: channels.Ack, User: "alice", Via: "voice", Dedup: "CA1/1"}},
		{"2", bobNum, "Escalated to the next step.", "en-US",
			channels.Action{Incident: 12, Verb: channels.Escalate, User: "bob", Via: "voice", Dedup: "CA1/2"}},
		{"3", kenjiNum, "解決済みにしました。", "ja-JP",
			channels.Action{Incident: 12, Verb: channels.Resolve, User: "kenji", Via: "voice", Dedup: "CA1/3"}},
	} {
		r := newReceiver(t)
		text, lang := said(t, press(r, "incident=12&key=k", tc.number, tc.key))
		if text != tc.want || lang != tc.lang {
			t.Errorf("key %s: said %q in %s, want %q in %s", tc.key, text, lang, tc.want, tc.lang)
		}
		if got := r.Actions(); !slices.Equal(got, []channels.Action{tc.act}) {
			t.Errorf("key %s: acted %+v, want %+v", tc.key, got, tc.act)
		}
	}
}

// TestKeypadOutcomes: what the engine made of the key is what the callee hears.
func TestKeypadOutcomes(t *testing.T) {
	for _, tc := range []struct {
		res  channels.Result
		want string
	}{
		{channels.Result{Outcome: channels.AlreadyAcked, Incident: channels.Incident{AckedBy: "kenji"}}, "This incident was already acknowledged by 健二. Nothing changed."},
		{channels.Result{Outcome: channels.AlreadyResolved}, "This incident is already resolved. Nothing changed."},
		{channels.Result{Outcome: channels.NotFound}, "This incident was not found. Nothing changed."},
		{channels.Result{Outcome: channels.Forbidden}, "This number is not registered with hikyaku. Nothing changed."},
		{channels.Result{Outcome: channels.Replayed}, ""},
	} {
		r := newReceiver(t)
		r.ActFunc = func(channels.Action) (channels.Result, error) { return tc.res, nil }
		w := press(r, "incident=12", aliceNum, "1")
		if tc.want == "" {
			if d := answerTwiML(t, w); !slices.Equal(names(d.Verbs), []string{"Hangup"}) {
				t.Errorf("%s: want a silent Hangup, got %v", tc.res.Outcome, names(d.Verbs))
			}
			continue
		}
		if text, _ := said(t, w); text != tc.want {
			t.Errorf("%s: said %q, want %q", tc.res.Outcome, text, tc.want)
		}
	}
}

// TestKeypadStoreDownAsksAgain: the callee is still on the line, so a key
// that could not be recorded is asked for again, and may be pressed again.
func TestKeypadStoreDownAsksAgain(t *testing.T) {
	r := newReceiver(t)
	r.ActFunc = func(channels.Action) (channels.Result, error) { return channels.Result{}, errors.New("store down") }
	d := answerTwiML(t, press(r, "incident=12&key=k", aliceNum, "1"))
	if !slices.Equal(names(d.Verbs), []string{"Gather", "Say", "Hangup"}) {
		t.Fatalf("want a re-prompt, got %v", names(d.Verbs))
	}
	if got := d.Verbs[0].Inner[0].Text; got != "Sorry, that could not be recorded." {
		t.Errorf("re-prompt says %q first", got)
	}
	if want := public + GatherPath + "?incident=12&key=k&repeat=1"; d.Verbs[0].Action != want {
		t.Errorf("re-prompt action %q, want %q", d.Verbs[0].Action, want)
	}
	if r.WasSeen("CA1/1") {
		t.Error("the replay record of a key that did nothing is still held")
	}
}

// TestKeypadWrongKeyAsksAgainThenEnds: a key the prompt does not offer
// asks again, counting in the signed URL, and the third time says goodbye.
func TestKeypadWrongKeyAsksAgainThenEnds(t *testing.T) {
	r := newReceiver(t)
	for i, query := range []string{"incident=12", "incident=12&repeat=1"} {
		d := answerTwiML(t, press(r, query, aliceNum, "9"))
		if !slices.Equal(names(d.Verbs), []string{"Gather", "Say", "Hangup"}) {
			t.Fatalf("press %d: want a re-prompt, got %v", i+1, names(d.Verbs))
		}
		next, err := url.Parse(d.Verbs[0].Action)
		if err != nil || next.Query().Get("repeat") != []string{"1", "2"}[i] {
			t.Errorf("press %d: re-prompt action %q", i+1, d.Verbs[0].Action)
		}
	}
	if text, _ := said(t, press(r, "incident=12&repeat=2", aliceNum, "9")); text != "No answer was received. Goodbye." {
		t.Errorf("after two re-prompts: %q", text)
	}
	if len(r.Actions()) != 0 {
		t.Errorf("wrong keys acted: %+v", r.Actions())
	}
}

// TestKeypadStrangerOrNoIncident: a call to a number no user has, or an
// action URL without an incident, says so and changes nothing.
func TestKeypadStrangerOrNoIncident(t *testing.T) {
	r := newReceiver(t)
	if text, _ := said(t, press(r, "incident=12", strangerNum, "1")); text != "This number is not registered with hikyaku. Nothing changed." {
		t.Errorf("stranger: %q", text)
	}
	if text, lang := said(t, press(r, "incident=x", kenjiNum, "1")); text != "このインシデントは見つかりません。変更はありません。" || lang != "ja-JP" {
		t.Errorf("no incident: %q in %s", text, lang)
	}
	if len(r.Actions()) != 0 {
		t.Errorf("acted %+v", r.Actions())
	}
	if w := post(mount(r), "not-the-token", GatherPath+"?incident=12", url.Values{"To": {aliceNum}, "Digits": {"1"}}); w.Code != http.StatusForbidden {
		t.Errorf("unsigned: %d", w.Code)
	}
}
