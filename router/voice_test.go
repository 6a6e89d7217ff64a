package router

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels/twilio"
	"github.com/hikyaku/hikyaku/store"
)

// pageCall is the call Twilio placed to number and the Gather action of its TwiML.
func (h *twilioHarness) pageCall(number string) (sid, action string) {
	h.t.Helper()
	for _, c := range h.fake.Calls() {
		if c.Form.Get("To") != number {
			continue
		}
		var d twiml
		if err := xml.Unmarshal([]byte(c.Form.Get("Twiml")), &d); err != nil {
			h.t.Fatalf("call TwiML: %v", err)
		}
		for _, v := range d.Verbs {
			if v.XMLName.Local == "Gather" {
				return c.SID, v.Action
			}
		}
		h.t.Fatalf("the call has no Gather: %v", d.names())
	}
	h.t.Fatalf("no call to %s: %v", number, h.twilioSent())
	return "", ""
}

// press posts the keypad answer of call sid to action, signed as Twilio
// signs it; digits "" is silence.
func (h *twilioHarness) press(action, sid, to, digits string) twiml {
	h.t.Helper()
	form := url.Values{"CallSid": {sid}, "AccountSid": {h.fake.AccountSID}, "From": {twilioNumber}, "To": {to},
		"Direction": {"outbound-api"}, "CallStatus": {"in-progress"}, "ApiVersion": {"2010-04-01"}}
	if digits != "" {
		form.Set("Digits", digits)
		form.Set("FinishedOnKey", "")
	}
	resp, err := h.fake.SignedPost(action, form)
	return readTwiML(h.t, resp, err)
}

// said checks d says text in language and hangs up.
func said(t *testing.T, d twiml, language, text string) {
	t.Helper()
	if !slices.Equal(d.names(), []string{"Say", "Hangup"}) {
		t.Fatalf("want Say then Hangup, got %v", d.names())
	}
	if got := d.Verbs[0]; got.Text != text || got.Language != language {
		t.Fatalf("said %q in %s, want %q in %s", got.Text, got.Language, text, language)
	}
}

// TestVoiceKeypad: each key does what the prompt says, by the callee, via
// voice, and the call says so in their language.
func TestVoiceKeypad(t *testing.T) {
	for _, tc := range []struct {
		name, team, number, digits string
		language, text             string
		status                     store.Status
		event                      string
	}{
		{"1 acknowledges", "", aliceNumber, "1", "en-US", "Acknowledged. Escalation stopped.", store.StatusAcked, "acked"},
		{"2 escalates", "", aliceNumber, "2", "en-US", "Escalated to the next step.", store.StatusOpen, "escalated"},
		{"3 resolves", "", aliceNumber, "3", "en-US", "Resolved.", store.StatusResolved, "resolved"},
		{"1 in Japanese", "ja", kenjiNumber, "1", "ja-JP", "了解しました。エスカレーションを停止しました。", store.StatusAcked, "acked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newTwilioHarness(t)
			labels := map[string]string{"alertname": "A"}
			if tc.team != "" {
				labels["team"] = tc.team
			}
			id := h.post("firing", "g1", labels)[0].ID
			h.advance(0)
			sid, action := h.pageCall(tc.number)
			if !strings.Contains(action, fmt.Sprintf("incident=%d", id)) {
				t.Fatalf("gather action %q", action)
			}
			said(t, h.press(action, sid, tc.number, tc.digits), tc.language, tc.text)
			inc := h.incident(id)
			if inc.Status != tc.status {
				t.Fatalf("status %s, want %s", inc.Status, tc.status)
			}
			evs := h.events(id, tc.event)
			user := map[string]string{aliceNumber: "alice", kenjiNumber: "kenji"}[tc.number]
			if len(evs) != 1 || evs[0].Actor != user || evs[0].Detail["via"] != "voice" {
				t.Fatalf("%s events: %+v", tc.event, evs)
			}
			// Twilio retrying the same post acts once and says the same.
			said(t, h.press(action, sid, tc.number, tc.digits), tc.language, tc.text)
			if n := len(h.events(id, tc.event)); n != 1 {
				t.Fatalf("the retry acted again: %d %s events", n, tc.event)
			}
		})
	}
}

// TestVoiceAckStopsEscalation: after 1 nobody else is paged.
func TestVoiceAckStopsEscalation(t *testing.T) {
	h := newTwilioHarness(t)
	h.post("firing", "g1", map[string]string{"alertname": "A"})
	h.advance(0)
	sid, action := h.pageCall(aliceNumber)
	h.press(action, sid, aliceNumber, "1")
	before := len(h.twilioSent())
	h.advance(time.Hour)
	if got := h.twilioSent(); len(got) != before {
		t.Fatalf("paged after the keypad ack: %v", got[before:])
	}
}

// TestVoiceRepromptsThenHangsUp: a wrong key or silence asks again, at most
// twice, then the call says goodbye; nothing changes.
func TestVoiceRepromptsThenHangsUp(t *testing.T) {
	h := newTwilioHarness(t)
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	h.advance(0)
	sid, action := h.pageCall(aliceNumber)
	tl := len(h.timeline(id))
	for i, digits := range []string{"9", "", ""} {
		d := h.press(action, sid, aliceNumber, digits)
		if i == keypadReprompts {
			said(t, d, "en-US", "No answer was received. Goodbye.")
			break
		}
		if len(d.Verbs) == 0 || d.Verbs[0].XMLName.Local != "Gather" {
			t.Fatalf("press %d (%q): want a Gather again, got %v", i, digits, d.names())
		}
		g := d.Verbs[0]
		if g.ActionOnEmptyResult != "true" {
			t.Fatalf("a re-prompt that does not report silence could not count it")
		}
		next, err := url.Parse(g.Action)
		if err != nil || next.Query().Get("repeat") != fmt.Sprint(i+1) || next.Query().Get("incident") != fmt.Sprint(id) {
			t.Fatalf("re-prompt %d action %q", i, g.Action)
		}
		action = g.Action
	}
	if inc := h.incident(id); inc.Status != store.StatusOpen {
		t.Fatalf("status %s", inc.Status)
	}
	if n := len(h.timeline(id)); n != tl {
		t.Fatalf("the re-prompts wrote %q", h.timeline(id)[tl:])
	}
}

// TestVoiceAnswers: an incident already over, and a call to a number no
// user has, get a clear answer and change nothing.
func TestVoiceAnswers(t *testing.T) {
	h := newTwilioHarness(t)
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	h.advance(0)
	sid, action := h.pageCall(aliceNumber)
	said(t, h.press(action, sid, "+819099999999", "1"), "en-US", catalog.Text("en", "voice.unknown"))
	if inc := h.incident(id); inc.Status != store.StatusOpen {
		t.Fatalf("a stranger's key changed the incident to %s", inc.Status)
	}
	h.post("resolved", "g1", map[string]string{"alertname": "A"})
	said(t, h.press(action, sid, aliceNumber, "1"), "en-US", catalog.Text("en", "voice.resolved"))
	if n := len(h.events(id, "acked")); n != 0 {
		t.Fatalf("acked a resolved incident")
	}
	missing := strings.Replace(action, fmt.Sprintf("incident=%d", id), "incident=999", 1)
	said(t, h.press(missing, sid, aliceNumber, "1"), "en-US", catalog.Text("en", "voice.not_found"))
}

// FuzzKeypad: whatever a signed keypad post holds, the call either ends
// (something said, then hang-up) or asks again with a count that only grows
// to keypadReprompts, and only the keys 1-3 from a user's number change anything.
func FuzzKeypad(f *testing.F) {
	e, h := fuzzServer(f)
	f.Add("incident=1&key=k", aliceNumber, "1")
	f.Add("incident=1&key=k&repeat=1", aliceNumber, "")
	f.Add("incident=1&repeat=-5", aliceNumber, "9")
	f.Add("incident=1&repeat=x", aliceNumber, "#")
	f.Add("incident=999999999999999999999", aliceNumber, "2")
	f.Add("incident=1", "+819099999999", "3")
	f.Fuzz(func(t *testing.T, query, to, digits string) {
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
		form := url.Values{"CallSid": {"CA1"}, "To": {to}}
		if digits != "" {
			form.Set("Digits", digits)
		}
		req := signedRequest(twilio.GatherPath+"?"+query, form)
		if req == nil {
			t.Skip("not a URL")
		}
		if _, err := url.ParseQuery(req.URL.RawQuery); err != nil {
			t.Skip("Twilio posts to the URLs hikyaku gave it, never to a malformed query")
		}
		d := serveTwiML(t, h, req)
		switch names := d.names(); {
		case slices.Equal(names, []string{"Say", "Hangup"}):
		case slices.Equal(names, []string{"Gather", "Say", "Hangup"}):
			next, err := url.Parse(d.Verbs[0].Action)
			if err != nil || !strings.HasPrefix(d.Verbs[0].Action, fuzzExternalURL+twilio.GatherPath+"?") {
				t.Fatalf("re-prompt action %q", d.Verbs[0].Action)
			}
			n, err := strconv.Atoi(next.Query().Get("repeat"))
			was, _ := strconv.Atoi(req.URL.Query().Get("repeat"))
			if err != nil || n > keypadReprompts || n != was+1 {
				t.Fatalf("re-prompt after repeat=%q asks with repeat=%q", req.URL.Query().Get("repeat"), next.Query().Get("repeat"))
			}
		default:
			t.Fatalf("unexpected TwiML %v", names)
		}
		if digits >= "1" && digits <= "3" && len(digits) == 1 && phoneUser(e.Policies().Config(), to) != nil {
			return
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
			t.Fatalf("digits %q on a call to %q changed the incident", digits, to)
		}
	})
}
