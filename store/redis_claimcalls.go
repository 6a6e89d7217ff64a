package store

import (
	"context"
	"crypto/rand"
	"sync"
	"time"
)

// A ClaimDue call whose answer never comes may still have claimed: go-redis
// sent it again after a read timeout or a dropped connection, a frozen Redis
// runs what it holds when it resumes, a Redis killed between its fsync and
// its answer has made the claims. Nobody holds such a claim, nobody renews
// it, and one lease later another replica takes the timer over as if its
// holder had died mid-send: it asks the provider and, for a call, an email
// or a webhook, sends again marked possible duplicate. claimCalls numbers
// each caller's calls (claim_due.lua answers a repeated call with what it
// claimed and lets a stale one claim nothing) and gives back what an
// unanswered call claimed as soon as Redis answers again (abandon_claims.lua),
// well inside the lease, which stood still while Redis was away.
type claimCalls struct {
	id string // this client among the replicas: one per NewRedis

	mu      sync.Mutex
	seq     map[string]int64          // per owner: the last call's number
	pending map[string]abandonedCalls // per owner: unanswered calls not yet given back
	running bool                      // the give-back loop runs
	stop    chan struct{}
	done    sync.WaitGroup
}

type abandonedCalls struct {
	seq   int64    // the latest of them
	bases []string // their token bases
}

// abandonRetry is how soon giving back an unanswered call's claims is tried
// again while Redis is still away: the lease left to them once it is back
// is about 3 s (the lease less what ran before the outage and the 1 s
// grace of timerlib.lua).
const abandonRetry = 200 * time.Millisecond

func newClaimCalls() *claimCalls {
	return &claimCalls{id: rand.Text(), seq: map[string]int64{}, pending: map[string]abandonedCalls{}, stop: make(chan struct{})}
}

func (c *claimCalls) caller(owner string) string { return c.id + ":" + owner }

// next numbers a new call of owner.
func (c *claimCalls) next(owner string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq[owner]++
	return c.seq[owner]
}

// abandon records that call seq of owner, with token base, got no answer,
// and has what it may have claimed given back in the background.
func (s *Redis) abandonClaims(owner string, seq int64, base string) {
	c := s.calls
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pending[owner]
	p.seq = max(p.seq, seq)
	p.bases = append(p.bases, base)
	c.pending[owner] = p
	if c.running {
		return
	}
	select {
	case <-c.stop:
		return // closed: Release gives back the owner's claims, or they lapse
	default:
	}
	c.running = true
	c.done.Add(1)
	go s.giveBack()
}

// giveBack runs abandon_claims.lua for every owner with unanswered calls
// until Redis has taken each, or the store closes.
func (s *Redis) giveBack() {
	c := s.calls
	defer c.done.Done()
	for {
		c.mu.Lock()
		if len(c.pending) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		todo := c.pending
		c.pending = map[string]abandonedCalls{}
		c.mu.Unlock()
		for owner, p := range todo {
			args := append([]any{s.base, c.caller(owner), p.seq}, anySlice(p.bases)...)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err := scriptAbandonClaims.Run(ctx, s.rdb, []string{s.dueKey(), s.claimsKey()}, args...).Err()
			cancel()
			if err == nil {
				delete(todo, owner)
			}
		}
		c.mu.Lock()
		for owner, p := range todo { // not taken: tried again with what came since
			q := c.pending[owner]
			q.seq, q.bases = max(q.seq, p.seq), append(p.bases, q.bases...)
			c.pending[owner] = q
		}
		c.mu.Unlock()
		if len(todo) == 0 {
			continue
		}
		t := time.NewTimer(abandonRetry)
		select {
		case <-c.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// close stops giving back and waits for the loop.
func (c *claimCalls) close() {
	c.mu.Lock()
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	c.mu.Unlock()
	c.done.Wait()
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
