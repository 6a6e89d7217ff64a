package store_test

import (
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/store"
)

// replyLoser is a TCP hop between a store and its redis-server that can lose
// the answer to one command after Redis ran it: what a kill -9 between
// Redis's fsync and its reply, or a freeze that outlasts the client's read
// timeout, does to a claim. Redis has made the claim; its caller never hears
// of it.
type replyLoser struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu       sync.Mutex
	match    []byte // the next request containing it loses its reply
	cutAfter bool   // with that loss, every connection is cut
	cut      bool   // connections are refused: Redis is unreachable
	conns    map[net.Conn]bool
}

func newReplyLoser(t *testing.T, target string) *replyLoser {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &replyLoser{t: t, ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.closeAll() })
	go p.serve()
	return p
}

func (p *replyLoser) url() string { return "redis://" + p.ln.Addr().String() + "/0" }

// loseReplyTo arms the loss for the next request containing match; with
// thenCut every connection fails from then on until restore.
func (p *replyLoser) loseReplyTo(match string, thenCut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.match = []byte(match)
	p.cutAfter = thenCut
}

func (p *replyLoser) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

func (p *replyLoser) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *replyLoser) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		cut := p.cut
		p.mu.Unlock()
		if cut {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = true, true
		p.mu.Unlock()
		go p.pair(c, s)
	}
}

// pair forwards one connection both ways; a request that matches is
// forwarded, and once Redis has started to answer it, both sides are cut
// without a byte of the answer passed on.
func (p *replyLoser) pair(c, s net.Conn) {
	var losing atomic.Bool
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				p.mu.Lock()
				if p.match != nil && bytes.Contains(buf[:n], p.match) {
					p.match = nil
					losing.Store(true)
				}
				p.mu.Unlock()
				if _, werr := s.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		s.Close()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 && losing.Load() {
			p.mu.Lock()
			if p.cutAfter {
				p.cut, p.cutAfter = true, false
				for conn := range p.conns {
					conn.Close()
				}
			}
			p.mu.Unlock()
			break
		}
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	c.Close()
	s.Close()
}

// scheduleAt puts one notify timer due at due into a fresh incident.
func scheduleAt(t *testing.T, s store.Store, due time.Time) {
	t.Helper()
	_, err := s.UpdateByKey(t.Context(), "r/lost-reply", func(cur *store.Incident) (*store.Change, error) {
		return &store.Change{Incident: &store.Incident{Status: store.StatusOpen},
			Schedule: []store.Timer{{ID: "notify-1", Due: due, Kind: "notify"}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A claim Redis made but whose answer never reached the replica that asked
// is that replica's still: it gets it when the client's own retry comes
// back, and when no answer comes back at all the store gives the timer back
// as soon as Redis answers again, never to lapse and be "taken over" from a
// holder that never had it (taken over is what makes the next holder ask
// the provider and, for a call, an email or a webhook, send again marked
// possible duplicate).
// Old code: the claim stayed recorded for a token nobody had; one lease
// later another replica took the timer over, TakenOver and Attempt 1, and
// the long fault suite's Redis kill -9 (appendfsync always) and SIGSTOP rows
// showed such pages marked possible duplicate.
func TestRedisClaimWhoseReplyWasLost(t *testing.T) {
	t.Parallel()
	due := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	at := time.Date(2026, 1, 5, 9, 0, 1, 0, time.UTC)
	afterLease := time.Date(2026, 1, 5, 9, 0, 5, 1e6, time.UTC) // at + the 4 s lease + 1 ms

	open := func(t *testing.T, url string) store.Store {
		s, err := store.Open(t.Context(), url+"?prefix=lost", "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		store.UseCallerClock(s) // leases judged at the instants above
		return s
	}
	setup := func(t *testing.T) (*replyLoser, store.Store, store.Store) {
		srv := redistest.Start(t, redistest.Options{})
		p := newReplyLoser(t, srv.Addr())
		holder, other := open(t, p.url()), open(t, srv.URL())
		// Load the claim script, so the request that loses its answer is the claim itself.
		if cs, err := holder.ClaimDue(t.Context(), at, "warm-up", lease, 1); err != nil || len(cs) != 0 {
			t.Fatalf("warm-up ClaimDue = %v, %v", cs, err)
		}
		scheduleAt(t, other, due)
		return p, holder, other
	}

	t.Run("the client's retry is answered", func(t *testing.T) {
		t.Parallel()
		p, holder, other := setup(t)
		p.loseReplyTo("holder", false)
		cs, err := holder.ClaimDue(t.Context(), at, "holder", lease, 10)
		if err != nil {
			t.Fatalf("ClaimDue: %v (go-redis retries a lost answer)", err)
		}
		if len(cs) != 1 || cs[0].ID != "notify-1" || cs[0].TakenOver || cs[0].Attempt != 0 {
			t.Fatalf("holder's ClaimDue = %+v; want notify-1, its first attempt: Redis claimed it for this very call", cs)
		}
		if err := holder.Complete(t.Context(), cs[0]); err != nil {
			t.Fatalf("holder's Complete: %v", err)
		}
		if cs, err := other.ClaimDue(t.Context(), afterLease, "other", lease, 10); err != nil || len(cs) != 0 {
			t.Fatalf("other's ClaimDue after the lease = %+v, %v; want nothing, the holder completed it", cs, err)
		}
	})

	t.Run("no answer comes back", func(t *testing.T) {
		t.Parallel()
		p, holder, other := setup(t)
		p.loseReplyTo("holder", true)
		if cs, err := holder.ClaimDue(t.Context(), at, "holder", lease, 10); err == nil {
			t.Fatalf("holder's ClaimDue = %+v with Redis unreachable; want an error", cs)
		}
		p.restore()
		// Well inside the lost claim's lease: only a claim given back is due.
		var got []store.Claim
		for deadline := time.Now().Add(10 * time.Second); len(got) == 0; {
			if time.Now().After(deadline) {
				break
			}
			cs, err := other.ClaimDue(t.Context(), at.Add(time.Second), "other", lease, 10)
			if err != nil {
				t.Fatal(err)
			}
			got = cs
			time.Sleep(50 * time.Millisecond)
		}
		if len(got) == 0 {
			cs, err := other.ClaimDue(t.Context(), afterLease, "other", lease, 10)
			t.Fatalf("the claim whose answer was lost was not given back while its lease ran; after the lease other claimed %+v, %v", cs, err)
		}
		if got[0].ID != "notify-1" || got[0].TakenOver || got[0].Attempt != 0 {
			t.Fatalf("other's claim = %+v; want notify-1 as it was, not taken over: nobody ever held it", got[0])
		}
	})
}

// The same through a real freeze, with the client's own settings: a claim
// asked for while Redis is stopped (SIGSTOP) is sent again by go-redis after
// each 3 s read timeout, and Redis, resumed, runs every copy. The caller
// must get the claim its call made, or, when even its last copy timed out
// first (a loaded machine), see the timer given back untaken. Old code: the
// first copy claimed the timer, the copy whose answer came back found it
// held and answered nothing, and the claim lapsed to a takeover one lease
// later.
func TestRedisClaimAcrossFreezeIsAnswered(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	holder := openReplica(t, srv)
	if _, err := holder.ClaimDue(t.Context(), time.Now(), "warm-up", lease, 1); err != nil {
		t.Fatal(err)
	}
	scheduleAt(t, holder, time.Now().Add(-time.Second))
	srv.Freeze()
	type answer struct {
		cs  []store.Claim
		err error
	}
	got := make(chan answer, 1)
	go func() {
		cs, err := holder.ClaimDue(context.Background(), time.Now(), "holder", lease, 10)
		got <- answer{cs, err}
	}()
	time.Sleep(10 * time.Second) // three read timeouts: four copies on their way
	srv.Thaw()
	a := <-got
	if a.err != nil {
		// On a loaded machine the last copy too may time out before Redis
		// runs it: then the call is abandoned, and the timer must be given
		// back as it was, well inside the claim's lease.
		t.Logf("ClaimDue across the freeze failed (%v); the timer must come back untaken", a.err)
		other := openReplica(t, srv)
		for deadline := time.Now().Add(10 * time.Second); len(a.cs) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if a.cs, a.err = other.ClaimDue(t.Context(), time.Now(), "other", lease, 10); a.err != nil {
				t.Fatal(a.err)
			}
		}
	}
	if len(a.cs) != 1 || a.cs[0].ID != "notify-1" || a.cs[0].TakenOver || a.cs[0].Attempt != 0 {
		t.Fatalf("ClaimDue across the freeze = %+v; want notify-1, the claim Redis made for this call, not taken over", a.cs)
	}
}

// A send's record (events and the claim's completion, one write) whose
// answer was lost is written once: go-redis sends it again, and the copy
// finds the claim completed by this very write. Old code: the copy answered
// "claim lost" (ErrStaleClaim), and the sender wrote its events again
// without the fence: one page, two notified events. Seen as "the claim on a
// sent message was lost before its send was recorded" in the fault suite's
// SIGSTOP row.
func TestRedisRecordWhoseReplyWasLost(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	p := newReplyLoser(t, srv.Addr())
	holder, err := store.Open(t.Context(), p.url()+"?prefix=lost", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Close() })
	scheduleAt(t, holder, time.Now().Add(-time.Second))
	cs, err := holder.ClaimDue(t.Context(), time.Now(), "holder", lease, 10)
	if err != nil || len(cs) != 1 {
		t.Fatalf("ClaimDue = %+v, %v", cs, err)
	}
	c := cs[0]
	p.loseReplyTo("notified-once", false)
	_, err = holder.Update(t.Context(), c.IncidentID, func(cur *store.Incident) (*store.Change, error) {
		return &store.Change{Incident: cur, Complete: &c, Events: []store.Event{{At: time.Now(), Type: "notified-once"}}}, nil
	})
	if err != nil {
		t.Fatalf("the fenced record whose answer was lost: %v; want it written, once", err)
	}
	evs, err := holder.Timeline(t.Context(), c.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == "notified-once" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d notified-once events, want 1", n)
	}
	if n, err := holder.Pending(t.Context()); err != nil || n != 0 {
		t.Fatalf("Pending = %d, %v; want the claim completed", n, err)
	}
}
