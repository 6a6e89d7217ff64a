package router

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// errClaimLost tells a handler that its claim was taken over before its
// message went out: the new holder sends it, so this one must not.
var errClaimLost = errors.New("claim taken over before the send")

// leases is what one job knows of its claims' leases on the engine's
// clock: the earliest each can end. A lease runs from the moment the store
// ran the claim or the renewal, which is after the call was made, so the
// time of the call plus the lease is a bound this replica can check
// without asking the store: while it holds, nobody else can have taken
// the timer, however late the answer came back.
type leases struct {
	mu    sync.Mutex
	until map[string]time.Time // timer ID → the earliest its lease can end
}

func newLeases(claims []store.Claim, asked time.Time, lease time.Duration) *leases {
	l := &leases{until: make(map[string]time.Time, len(claims))}
	for _, c := range claims {
		l.until[c.ID] = asked.Add(lease)
	}
	return l
}

// renewed records a renewal of id asked for at asked.
func (l *leases) renewed(id string, asked time.Time, lease time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := asked.Add(lease); until.After(l.until[id]) {
		l.until[id] = until
	}
}

func (l *leases) left(id string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.until[id].Sub(now)
}

type leasesCtxKey struct{}

func withLeases(ctx context.Context, l *leases) context.Context {
	return context.WithValue(ctx, leasesCtxKey{}, l)
}

func leasesOf(ctx context.Context) *leases {
	l, _ := ctx.Value(leasesCtxKey{}).(*leases)
	return l
}

// fenceMargin is the least lease a claim must have left for its message
// to go out without asking the store first: the time from the check to the
// request leaving this process, and the drift of this clock against the
// store's over one lease.
func (e *Engine) fenceMargin() time.Duration { return e.opts.Lease / 4 }

// stillHeld runs right before a message goes out to its provider and
// returns errClaimLost when any of claims is no longer this replica's.
// The provider cannot check a fence, so the check is here: a holder that
// was held up past its lease (a lane's wait, a starved or frozen process,
// renewals that failed) may have been taken over by a replica that asked
// the provider, found nothing, and sent; sending now as well would page
// twice. Where the lease bound of leases shows the claim is surely still
// held, no store call is made; otherwise the claim is renewed, and a
// renewal the store refuses is a lost claim. A store that does not answer
// leaves the send to go out, as before: on Redis a lease stands still
// while Redis is away, so an outage takes no claim away.
func (e *Engine) stillHeld(ctx context.Context, claims ...store.Claim) error {
	l := leasesOf(ctx)
	for _, c := range claims {
		if l != nil && l.left(c.ID, e.now()) > e.fenceMargin() {
			continue
		}
		asked := e.now()
		rctx, cancel := context.WithTimeout(ctx, e.opts.Lease/3)
		err := e.opts.Store.Renew(rctx, c, asked, e.opts.Lease)
		cancel()
		switch {
		case err == nil:
			if l != nil {
				l.renewed(c.ID, asked, e.opts.Lease)
			}
		case errors.Is(err, store.ErrStaleClaim):
			e.log.Warn("a message's claim was taken over before it went out; not sending it, its new holder does",
				"timer", c.ID, "incident", c.IncidentID)
			return fmt.Errorf("timer %s: %w", c.ID, errClaimLost)
		default:
			e.log.Warn("could not confirm a message's claim before sending it; sending it all the same", "timer", c.ID, "err", err)
		}
	}
	return nil
}
