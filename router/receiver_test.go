package router

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/store"
)

// TestReceiverEmailReplyRetryAndReplay is what the email reply listener
// relies on: carol's emailed "ack" acts once; the relay's retry while the
// request is in the incident's Handled window is Done again and says it is
// a retry (so no second confirmation goes out); the same mail delivered
// after 40 other requests (past the window, which reopened the incident)
// is Replayed and acks nothing. Before email went through the replay
// record, it acked the reopened incident and confirmed again.
func TestReceiverEmailReplyRetryAndReplay(t *testing.T) {
	h := newHarness(t, testConfig)
	id := h.post("firing", "g1", map[string]string{"team": "nights"})[0].ID
	h.advance(0)
	rcv := h.engine.Receiver()
	ctx := context.Background()
	a := channels.Action{Incident: id, Verb: channels.Ack, User: "carol", Via: "email", Dedup: "email:captured-1@mail.example.com"}
	const keep = 30 * 24 * time.Hour

	res, err := channels.ActOnce(ctx, rcv, a, keep)
	if err != nil || res.Outcome != channels.Done || res.Retry || res.Incident.AckedBy != "carol" {
		t.Fatalf("first delivery: %+v %v, want Done by carol, no retry", res, err)
	}
	res, err = channels.ActOnce(ctx, rcv, a, keep)
	if err != nil || res.Outcome != channels.Done || !res.Retry {
		t.Fatalf("the relay's retry: %+v %v, want Done, a retry", res, err)
	}
	if n := len(h.events(id, "acked")); n != 1 {
		t.Fatalf("%d acked events after a delivery and its retry, want 1", n)
	}

	fillHandled(t, h.engine, id, 40) // escalations reopen it
	res, err = channels.ActOnce(ctx, rcv, a, keep)
	if err != nil || res.Outcome != channels.Replayed {
		t.Fatalf("the mail after the window: %+v %v, want Replayed", res, err)
	}
	if n := len(h.events(id, "acked")); n != 1 {
		t.Errorf("%d acked events: the replayed reply acked again", n)
	}
	if inc, _ := h.st.Get(ctx, id); inc.Status != store.StatusOpen {
		t.Errorf("after the replay the incident is %s, want open", inc.Status)
	}
	if got := replays(h.engine, "email"); got != 2 {
		t.Errorf("hikyaku_inbound_replays_total{channel=email} = %v, want 2 (the retry and the replay)", got)
	}
}

// TestReceiverNotedReadsNotes: Noted gives back the events of one type that
// Note put on the timeline, oldest first, with their details; both say
// ErrNoIncident for an incident that does not exist.
func TestReceiverNotedReadsNotes(t *testing.T) {
	h := newHarness(t, testConfig)
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	rcv := h.engine.Receiver()
	ctx := context.Background()
	for _, n := range []channels.Note{
		{Type: "reply_refused", Detail: map[string]string{"reason": "dkim_none", "told": "carol"}},
		{Type: "other_note", Actor: "bob"},
		{Type: "reply_refused", Detail: map[string]string{"reason": "not_emailed"}},
	} {
		if err := rcv.Note(ctx, id, n); err != nil {
			t.Fatal(err)
		}
	}
	got, err := rcv.Noted(ctx, id, "reply_refused")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Detail["reason"] != "dkim_none" || got[0].Detail["told"] != "carol" ||
		got[1].Detail["reason"] != "not_emailed" || got[1].Type != "reply_refused" {
		t.Fatalf("Noted = %+v, want the two refusals in order", got)
	}
	if evs := h.events(id, "other_note"); len(evs) != 1 || evs[0].Actor != "bob" || !evs[0].At.Equal(h.clock.Now()) {
		t.Errorf("the note on the timeline: %+v", evs)
	}
	if _, err := rcv.Noted(ctx, id+100, "reply_refused"); !errors.Is(err, channels.ErrNoIncident) {
		t.Errorf("Noted of no incident: %v, want ErrNoIncident", err)
	}
	if err := rcv.Note(ctx, id+100, channels.Note{Type: "reply_refused"}); !errors.Is(err, channels.ErrNoIncident) {
		t.Errorf("Note on no incident: %v, want ErrNoIncident", err)
	}
}
