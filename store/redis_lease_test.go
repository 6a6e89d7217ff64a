package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/store"
)

// openReplica opens a store as one replica would: a client of its own on
// the prefix every replica of the test shares (each test has its server).
func openReplica(t *testing.T, srv *redistest.Server) store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), srv.URL()+"?prefix=lease", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The production lease: router.Options.Lease's default.
const lease = 4 * time.Second

// claimOne schedules one timer due now and claims it for owner on the store's clock.
func claimOne(t *testing.T, s store.Store, owner string) store.Claim {
	t.Helper()
	_, err := s.UpdateByKey(t.Context(), "r/lease", func(cur *store.Incident) (*store.Change, error) {
		return &store.Change{Incident: &store.Incident{Status: store.StatusOpen},
			Schedule: []store.Timer{{ID: "notify-1", Due: time.Now().Add(-time.Second), Kind: "notify"}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := s.ClaimDue(t.Context(), time.Now(), owner, lease, 10)
	if err != nil || len(cs) != 1 {
		t.Fatalf("ClaimDue = %v, %v; want the one timer", cs, err)
	}
	return cs[0]
}

// retrying calls fn until it succeeds (the client reconnects after an outage) or 10 s pass.
func retrying(t *testing.T, what string, fn func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		err := fn(ctx)
		cancel()
		if err == nil {
			return
		}
		if errors.Is(err, store.ErrStaleClaim) || time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func claimNone(t *testing.T, s store.Store, now time.Time, owner string) {
	t.Helper()
	var cs []store.Claim
	retrying(t, "ClaimDue by "+owner, func(ctx context.Context) (err error) {
		cs, err = s.ClaimDue(ctx, now, owner, lease, 10)
		return err
	})
	if len(cs) != 0 {
		t.Fatalf("%s claimed %+v, which its holder still holds", owner, cs)
	}
}

// A Redis outage longer than the lease does not hand a live holder's timer
// to anyone else, and the holder's record goes through once Redis is back.
// Old code: the lease ran on through the outage, so "other" got the timer
// (and sent its page again) at once.
func TestRedisLeaseFrozenAcrossOutage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		outage func(srv *redistest.Server)
	}{
		{"kill -9 for 10 s", func(srv *redistest.Server) { srv.Kill(); time.Sleep(10 * time.Second); srv.Restart() }},
		{"SIGSTOP for 10 s", func(srv *redistest.Server) { srv.Freeze(); time.Sleep(10 * time.Second); srv.Thaw() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t, redistest.Options{AppendOnly: true})
			holder, other := openReplica(t, srv), openReplica(t, srv)
			c := claimOne(t, holder, "holder")
			tc.outage(srv)
			// Another replica polls as soon as Redis answers, on any clock.
			claimNone(t, other, time.Now(), "other")
			claimNone(t, other, time.Now().Add(time.Hour), "other with a clock 1 h ahead")
			retrying(t, "holder's Renew", func(ctx context.Context) error { return holder.Renew(ctx, c, time.Now(), lease) })
			time.Sleep(lease / 2)
			claimNone(t, other, time.Now(), "other")
			retrying(t, "holder's fenced record", func(ctx context.Context) error {
				_, err := holder.Update(ctx, c.IncidentID, func(cur *store.Incident) (*store.Change, error) {
					return &store.Change{Incident: cur, Complete: &c, Events: []store.Event{{At: time.Now(), Type: "notified"}}}, nil
				})
				return err
			})
			if n, err := other.Pending(t.Context()); err != nil || n != 0 {
				t.Fatalf("Pending = %d, %v after the holder recorded its send", n, err)
			}
		})
	}
}

// A holder that died (it never renews) loses its claim about one lease after
// Redis is back: the outage freezes its lease, it does not keep it forever.
func TestRedisDeadHolderLosesClaimAfterOutage(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	dead, other := openReplica(t, srv), openReplica(t, srv)
	c := claimOne(t, dead, "dead")
	srv.Kill()
	time.Sleep(10 * time.Second)
	srv.Restart()
	back := time.Now()
	var got []store.Claim
	for len(got) == 0 {
		if time.Since(back) > 4*lease {
			t.Fatalf("the dead holder's timer was not taken over %v after Redis came back", time.Since(back))
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		cs, err := other.ClaimDue(ctx, time.Now(), "other", lease, 10)
		cancel()
		if err == nil {
			got = cs
		}
		time.Sleep(200 * time.Millisecond)
	}
	took := time.Since(back)
	// What was left of the lease when Redis died, less the 1 s grace: about 3 s.
	if took < time.Second {
		t.Fatalf("taken over %v after Redis came back; the frozen lease should hold about 3 s", took)
	}
	if got[0].ID != c.ID || got[0].Attempt != 1 || got[0].Token == c.Token {
		t.Fatalf("taken over: %+v", got[0])
	}
	t.Logf("dead holder's timer taken over %v after Redis came back", took.Round(100*time.Millisecond))
	if err := dead.Complete(t.Context(), c); !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("the dead holder's Complete: err = %v, want ErrStaleClaim", err)
	}
}

// Replicas' clocks do not matter to claims: one whose clock is an hour
// ahead neither steals a held lease nor claims a timer early.
// Old code: the skewed replica judged the lease expired and claimed both.
func TestRedisClaimsOnItsOwnClock(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	a, b := openReplica(t, srv), openReplica(t, srv)
	c := claimOne(t, a, "a")
	_, err := a.Update(t.Context(), c.IncidentID, func(cur *store.Incident) (*store.Change, error) {
		return &store.Change{Incident: cur, Schedule: []store.Timer{{ID: "step-later", Due: time.Now().Add(30 * time.Minute), Kind: "step"}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	claimNone(t, b, time.Now().Add(time.Hour), "b (clock +1 h)")
	claimNone(t, b, time.Now().Add(-time.Hour), "b (clock -1 h)")
	if err := a.Complete(t.Context(), c); err != nil {
		t.Fatalf("a's Complete: %v", err)
	}
	if at, ok, err := b.NextDue(t.Context()); err != nil || !ok || at.Before(time.Now().Add(29*time.Minute)) {
		t.Fatalf("NextDue = %v %v %v, want the step 30 min from now", at, ok, err)
	}
}
