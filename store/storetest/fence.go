package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// testFencedComplete: a write that completes a claim (how a sender records
// its message) writes nothing when the claim passed to another owner, and
// removes the timer when it is still held.
func testFencedComplete(t *testing.T, s store.Store) {
	inc := create(t, s, "r/fence")
	schedule(t, s, inc.ID, timer("a", t0))
	old := claim(t, s, t0, "slow", time.Minute, 10)
	if len(old) != 1 {
		t.Fatalf("claims = %v", claimIDs(old))
	}
	cur := claim(t, s, t0.Add(time.Minute), "taker", time.Minute, 10)
	if len(cur) != 1 {
		t.Fatalf("after lease expiry: claims = %v", claimIDs(cur))
	}
	record := func(c store.Claim, what string) error {
		_, err := s.Update(ctx(t), inc.ID, func(cur *store.Incident) (*store.Change, error) {
			return &store.Change{Incident: cur, Complete: &c,
				Events: []store.Event{{At: t0, Type: "notified", Detail: map[string]string{"by": what}}}}, nil
		})
		return err
	}
	if err := record(old[0], "slow"); !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("stale holder's fenced write: err = %v, want ErrStaleClaim", err)
	}
	forged := cur[0]
	forged.Token = ""
	if err := record(forged, "forged"); !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("fenced write without a token: err = %v, want ErrStaleClaim", err)
	}
	evs, err := s.Timeline(ctx(t), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 0 {
		t.Fatalf("a refused fenced write left events %+v", evs)
	}
	wantPending(t, s, 1)
	if err := record(cur[0], "taker"); err != nil {
		t.Fatalf("holder's fenced write: %v", err)
	}
	evs, err = s.Timeline(ctx(t), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Detail["by"] != "taker" {
		t.Fatalf("timeline = %+v, want the holder's one event", evs)
	}
	wantPending(t, s, 0)
	if err := record(cur[0], "again"); !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("second fenced write of a completed timer: err = %v, want ErrStaleClaim", err)
	}
}

// testRenew: a renewed claim outlives its first lease; a lost one cannot be renewed.
func testRenew(t *testing.T, s store.Store) {
	inc := create(t, s, "r/renew")
	schedule(t, s, inc.ID, timer("a", t0))
	cs := claim(t, s, t0, "worker", time.Minute, 10)
	if len(cs) != 1 {
		t.Fatalf("claims = %v", claimIDs(cs))
	}
	if err := s.Renew(ctx(t), cs[0], t0.Add(50*time.Second), time.Minute); err != nil {
		t.Fatalf("Renew: %v", err)
	}
	if got := claim(t, s, t0.Add(100*time.Second), "other", time.Minute, 10); len(got) != 0 {
		t.Fatalf("claimed %v within the renewed lease (until 03:05:55)", claimIDs(got))
	}
	if at, ok, err := s.NextDue(ctx(t)); err != nil || !ok || !at.Equal(time.Date(2030, 1, 2, 3, 5, 55, 0, time.UTC)) {
		t.Fatalf("NextDue = %v %v %v, want the renewed lease's end 03:05:55", at, ok, err)
	}
	got := claim(t, s, t0.Add(110*time.Second), "other", time.Minute, 10)
	if len(got) != 1 {
		t.Fatalf("after the renewed lease: claims = %v", claimIDs(got))
	}
	if err := s.Renew(ctx(t), cs[0], t0.Add(110*time.Second), time.Minute); !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("Renew of a lost claim: err = %v, want ErrStaleClaim", err)
	}
	if err := s.Complete(ctx(t), got[0]); err != nil {
		t.Fatalf("the taker's Complete after a refused Renew: %v", err)
	}
}
