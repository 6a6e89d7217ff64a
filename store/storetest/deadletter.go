package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// testLeaseExpiryCountsAttempt: a claim whose lease ran out was an attempt
// (its holder died or hung mid-handler), counted by the store as it hands
// the timer out again; a graceful Release is not one.
func testLeaseExpiryCountsAttempt(t *testing.T, s store.Store) {
	inc := create(t, s, "r/la")
	schedule(t, s, inc.ID, timer("a", t0))
	if cs := claim(t, s, t0, "w1", time.Minute, 1); len(cs) != 1 || cs[0].Attempt != 0 || cs[0].TakenOver {
		t.Fatalf("first claim = %+v, want attempt 0, not taken over", cs)
	}
	second := claim(t, s, t0.Add(time.Minute), "w2", time.Minute, 1)
	if len(second) != 1 || second[0].Attempt != 1 || !second[0].TakenOver {
		t.Fatalf("claim after one lease expiry = %+v, want attempt 1, taken over", second)
	}
	third := claim(t, s, t0.Add(2*time.Minute), "w3", time.Minute, 1)
	if len(third) != 1 || third[0].Attempt != 2 || string(third[0].Payload) != `{"step":1}` || third[0].Kind != "step" || !third[0].Due.Equal(t0) {
		t.Fatalf("claim after two lease expiries = %+v, want attempt 2 and the timer otherwise unchanged", third)
	}
	// Retry counts from the stored count.
	if err := s.Retry(ctx(t), third[0], t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	fourth := claim(t, s, t0.Add(3*time.Minute), "w4", time.Hour, 1)
	if len(fourth) != 1 || fourth[0].Attempt != 3 || !fourth[0].TakenOver {
		t.Fatalf("claim after Retry = %+v, want attempt 3, still taken over (a message may be out)", fourth)
	}
	if err := s.Release(ctx(t), "w4"); err != nil {
		t.Fatal(err)
	}
	if fifth := claim(t, s, t0.Add(3*time.Minute), "w5", time.Hour, 1); len(fifth) != 1 || fifth[0].Attempt != 3 {
		t.Fatalf("claim after Release = %+v, want attempt 3 (a graceful release is no attempt)", fifth)
	}
}

func testDeadLetter(t *testing.T, s store.Store) {
	inc := create(t, s, "r/dl")
	schedule(t, s, inc.ID, timer("a", t0), timer("b", t0.Add(time.Second)))
	cs := claim(t, s, t0, "w", time.Minute, 1)
	if len(cs) != 1 || cs[0].ID != "a" {
		t.Fatalf("claims = %v, want [a]", claimIDs(cs))
	}
	at := t0.Add(10 * time.Second)
	if err := s.DeadLetter(ctx(t), cs[0], 7, "decode payload: boom", at); err != nil {
		t.Fatal(err)
	}
	wantPending(t, s, 1)
	if next, ok, err := s.NextDue(ctx(t)); err != nil || !ok || !next.Equal(t0.Add(time.Second)) {
		t.Fatalf("NextDue = %v %v %v, want b's due t0+1s (a is dead)", next, ok, err)
	}
	if got := claimIDs(claim(t, s, t0.Add(24*time.Hour), "w", time.Minute, 10)); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("claimable after dead-lettering a = %v, want [b]", got)
	}
	if err := s.Complete(ctx(t), cs[0]); !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("Complete of a dead-lettered claim: err = %v, want ErrStaleClaim", err)
	}
	dead, err := s.DeadTimers(ctx(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := store.DeadTimer{Timer: store.Timer{ID: "a", IncidentID: inc.ID, Due: t0, Kind: "step", Payload: []byte(`{"step":1}`), Attempt: 7},
		Error: "decode payload: boom", At: at}
	if len(dead) != 1 || !sameDead(dead[0], want) {
		t.Fatalf("DeadTimers = %+v, want [%+v]", dead, want)
	}
	if n, err := s.DeadCount(ctx(t)); err != nil || n != 1 {
		t.Fatalf("DeadCount = %d, %v; want 1", n, err)
	}
	// A lost claim cannot dead-letter: whoever holds the timer now decides.
	schedule(t, s, inc.ID, timer("c", t0))
	old := claim(t, s, t0, "dying", time.Minute, 1)
	if len(claim(t, s, t0.Add(time.Minute), "alive", time.Minute, 1)) != 1 {
		t.Fatal("c was not claimable after its lease")
	}
	if err := s.DeadLetter(ctx(t), old[0], 1, "x", at); !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("DeadLetter with a lost claim: err = %v, want ErrStaleClaim", err)
	}
	// Dead timers are not the incident's timers any more: cancelling those
	// leaves them in the dead-letter set, for someone to look at.
	change(t, s, inc.ID, func(cur *store.Incident) *store.Change {
		cur.Status = store.StatusResolved
		return &store.Change{Incident: cur, CancelIncidentTimers: true}
	})
	wantPending(t, s, 0)
	if n, _ := s.DeadCount(ctx(t)); n != 1 {
		t.Fatalf("DeadCount after cancelling the incident's timers = %d, want 1", n)
	}
}

func testDeadLetterRetryDiscard(t *testing.T, s store.Store) {
	inc := create(t, s, "r/dr")
	schedule(t, s, inc.ID, timer("x", t0), timer("y", t0), timer("z", t0))
	cs := claim(t, s, t0, "w", time.Minute, 3) // x, y, z
	for i, at := range []time.Time{t0.Add(3 * time.Second), t0.Add(time.Second), t0.Add(2 * time.Second)} {
		if err := s.DeadLetter(ctx(t), cs[i], 10, "boom", at); err != nil {
			t.Fatal(err)
		}
	}
	dead, err := s.DeadTimers(ctx(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := deadIDs(dead); !slices.Equal(got, []string{"y", "z"}) {
		t.Fatalf("DeadTimers(limit 2) = %v, want [y z] (oldest first)", got)
	}

	// Retry puts it back as a fresh timer at the given time, in the incident's timers.
	got, err := s.RetryDead(ctx(t), "y", t0.Add(time.Hour))
	if err != nil || got.ID != "y" || got.Attempt != 10 || got.Error != "boom" {
		t.Fatalf("RetryDead(y) = %+v, %v; want y as it was dead", got, err)
	}
	if _, err := s.RetryDead(ctx(t), "y", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second RetryDead(y): err = %v, want ErrNotFound", err)
	}
	if n, _ := s.DeadCount(ctx(t)); n != 2 {
		t.Fatalf("DeadCount after one retry = %d, want 2", n)
	}
	if early := claim(t, s, t0.Add(time.Hour-time.Second), "w", time.Minute, 10); len(early) != 0 {
		t.Fatalf("retried timer claimable before its new due: %v", claimIDs(early))
	}
	back := claim(t, s, t0.Add(time.Hour), "w", time.Minute, 10)
	if len(back) != 1 || back[0].ID != "y" || back[0].Attempt != 0 || back[0].IncidentID != inc.ID ||
		string(back[0].Payload) != `{"step":1}` || !back[0].Due.Equal(t0.Add(time.Hour)) {
		t.Fatalf("claim of the retried timer = %+v, want y, attempt 0, due t0+1h, payload kept", back)
	}
	if err := s.Release(ctx(t), "w"); err != nil {
		t.Fatal(err)
	}
	change(t, s, inc.ID, func(cur *store.Incident) *store.Change {
		return &store.Change{Incident: cur, CancelIncidentTimers: true}
	})
	wantPending(t, s, 0) // the retried timer is the incident's again

	// A live timer with the dead one's id: retrying would make two.
	schedule(t, s, inc.ID, timer("z", t0))
	if _, err := s.RetryDead(ctx(t), "z", t0); !errors.Is(err, store.ErrTimerExists) {
		t.Fatalf("RetryDead(z) with a live z: err = %v, want ErrTimerExists", err)
	}
	if n, _ := s.DeadCount(ctx(t)); n != 2 {
		t.Fatalf("DeadCount after a refused retry = %d, want 2", n)
	}

	got, err = s.DiscardDead(ctx(t), "z")
	if err != nil || got.ID != "z" {
		t.Fatalf("DiscardDead(z) = %+v, %v", got, err)
	}
	if _, err := s.DiscardDead(ctx(t), "z"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second DiscardDead(z): err = %v, want ErrNotFound", err)
	}
	wantPending(t, s, 1) // the live z is untouched
	if dead, _ := s.DeadTimers(ctx(t), 0); !slices.Equal(deadIDs(dead), []string{"x"}) {
		t.Fatalf("dead after discarding z = %v, want [x]", deadIDs(dead))
	}
}

func sameDead(a, b store.DeadTimer) bool {
	return a.ID == b.ID && a.IncidentID == b.IncidentID && a.Due.Equal(b.Due) && a.Kind == b.Kind &&
		string(a.Payload) == string(b.Payload) && a.Attempt == b.Attempt && a.Error == b.Error && a.At.Equal(b.At)
}

func deadIDs(ds []store.DeadTimer) []string {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return ids
}
