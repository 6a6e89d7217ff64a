package router

import (
	"context"
	"errors"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// renewRetry is how soon a renewal that failed (the store away) is tried
// again: the lease the store froze for the outage is short once it is back.
const renewRetry = 200 * time.Millisecond

// keepClaims renews claims every third of the lease while their handler
// runs, so a slow send or a store outage mid-send does not hand them to
// another replica, and notes each renewal in known for the check before a
// send (stillHeld); the returned func stops it and waits for it.
func (e *Engine) keepClaims(ctx context.Context, claims []store.Claim, known *leases) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		held := make([]store.Claim, len(claims))
		copy(held, claims)
		wait := e.opts.Lease / 3
		warned := false // once per outage, not every 200 ms per claim
		t := time.NewTimer(wait)
		defer t.Stop()
		for len(held) > 0 {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			wait = e.opts.Lease / 3
			kept := held[:0]
			for _, c := range held {
				asked := e.now()
				rctx, rcancel := context.WithTimeout(ctx, e.opts.Lease/3)
				err := e.opts.Store.Renew(rctx, c, asked, e.opts.Lease)
				rcancel()
				switch {
				case err == nil:
					known.renewed(c.ID, asked, e.opts.Lease)
					kept = append(kept, c)
				case errors.Is(err, store.ErrStaleClaim):
					// Done by its handler meanwhile, or lost: nothing left to keep.
				case ctx.Err() != nil:
					return
				default:
					if !warned {
						e.log.Warn("renewing a timer's claim failed; trying again every 200 ms", "timer", c.ID, "err", err)
						warned = true
					}
					kept = append(kept, c)
					wait = renewRetry
				}
			}
			if wait != renewRetry {
				warned = false
			}
			held = kept
			t.Reset(wait)
		}
	}()
	return func() { cancel(); <-done }
}
