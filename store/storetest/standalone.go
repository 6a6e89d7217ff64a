package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// testStandaloneTimers: a timer of no incident (a heartbeat deadline) is
// added once, replaced in place (a claim on it is lost), read, removed, and
// is claimed and completed like any timer. An incident's timer is refused.
func testStandaloneTimers(t *testing.T, s store.Store) {
	set := func(op store.TimerOp, tm store.Timer) *store.Timer {
		t.Helper()
		prev, err := s.SetTimer(ctx(t), op, tm)
		if err != nil {
			t.Fatalf("SetTimer(%v, %s): %v", op, tm.ID, err)
		}
		return prev
	}
	hb := func(due time.Time, payload string) store.Timer {
		return store.Timer{ID: "heartbeat/prod", Kind: "heartbeat", Due: due, Payload: []byte(payload)}
	}
	if prev := set(store.TimerGet, hb(time.Time{}, "")); prev != nil {
		t.Fatalf("Get of a timer never set = %+v, want nil", prev)
	}
	if prev := set(store.TimerAdd, hb(t0.Add(time.Minute), `{"n":1}`)); prev != nil {
		t.Fatalf("first Add returned %+v, want nil", prev)
	}
	// A second Add keeps the first: a restart must not move the deadline.
	prev := set(store.TimerAdd, hb(t0.Add(time.Hour), `{"n":2}`))
	if prev == nil || !prev.Due.Equal(t0.Add(time.Minute)) || string(prev.Payload) != `{"n":1}` {
		t.Fatalf("second Add returned %+v, want the first timer", prev)
	}
	wantPending(t, s, 1)
	if cs := claim(t, s, t0.Add(59*time.Second), "w", time.Minute, 10); len(cs) != 0 {
		t.Fatalf("claimed %v before its due time", claimIDs(cs))
	}
	cs := claim(t, s, t0.Add(time.Minute), "w", time.Minute, 10)
	if len(cs) != 1 || cs[0].ID != "heartbeat/prod" || cs[0].IncidentID != 0 || string(cs[0].Payload) != `{"n":1}` {
		t.Fatalf("claims = %+v, want the heartbeat timer", cs)
	}
	// Replacing a claimed timer takes the claim away and sets the new due time.
	prev = set(store.TimerReplace, hb(t0.Add(3*time.Minute), `{"n":3}`))
	if prev == nil || string(prev.Payload) != `{"n":1}` {
		t.Fatalf("Replace returned %+v, want the claimed timer", prev)
	}
	if err := s.Complete(ctx(t), cs[0]); !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("Complete of the replaced claim: err = %v, want ErrStaleClaim", err)
	}
	if at, ok, err := s.NextDue(ctx(t)); err != nil || !ok || !at.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("NextDue = %v %v %v, want the replacement's due time", at, ok, err)
	}
	if got := set(store.TimerGet, hb(time.Time{}, "")); got == nil || !got.Due.Equal(t0.Add(3*time.Minute)) || string(got.Payload) != `{"n":3}` {
		t.Fatalf("Get = %+v, want the replacement", got)
	}
	if cs := claim(t, s, t0.Add(2*time.Minute), "w", time.Minute, 10); len(cs) != 0 {
		t.Fatalf("claimed %v: the replacement is not due yet", claimIDs(cs))
	}
	cs = claim(t, s, t0.Add(3*time.Minute), "w", time.Minute, 10)
	if len(cs) != 1 || string(cs[0].Payload) != `{"n":3}` {
		t.Fatalf("claims = %+v, want the replacement", cs)
	}
	if err := s.Complete(ctx(t), cs[0]); err != nil {
		t.Fatal(err)
	}
	wantPending(t, s, 0)

	set(store.TimerReplace, hb(t0, `{"n":4}`)) // Replace also adds
	if prev := set(store.TimerRemove, hb(time.Time{}, "")); prev == nil || string(prev.Payload) != `{"n":4}` {
		t.Fatalf("Remove returned %+v, want the removed timer", prev)
	}
	if prev := set(store.TimerRemove, hb(time.Time{}, "")); prev != nil {
		t.Fatalf("second Remove returned %+v, want nil", prev)
	}
	wantPending(t, s, 0)

	// An incident's timers change only with the incident.
	inc := create(t, s, "r/standalone")
	schedule(t, s, inc.ID, timer("owned", t0))
	for _, op := range []store.TimerOp{store.TimerGet, store.TimerAdd, store.TimerReplace, store.TimerRemove} {
		if _, err := s.SetTimer(ctx(t), op, timer("owned", t0.Add(time.Hour))); err == nil {
			t.Errorf("SetTimer(%v) of an incident's timer succeeded", op)
		}
	}
	if _, err := s.SetTimer(ctx(t), store.TimerAdd, store.Timer{ID: "x", IncidentID: inc.ID, Due: t0}); err == nil {
		t.Error("SetTimer of a timer naming an incident succeeded")
	}
	cs = claim(t, s, t0, "w", time.Minute, 10)
	if len(cs) != 1 || cs[0].ID != "owned" || !cs[0].Due.Equal(t0) {
		t.Fatalf("claims = %+v, want the incident's timer unchanged", cs)
	}
}
