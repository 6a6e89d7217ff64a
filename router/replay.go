package router

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// linkSkew is how long past its expiry a link's replay record lasts: a
// link works until its expiry, and replicas' clocks may differ. The
// inbound channels' requests are kept as long as each channel says.
const linkSkew = time.Hour

// ErrReplayed is Act's answer to a request seen before that is no
// provider's retry of one still in the incident's Handled window: a captured
// request sent again, or a link pressed again. Nothing changed.
var ErrReplayed = errors.New("this request was handled before: nothing was changed")

// seen claims key's replay record. replayed is true when the record
// already existed: the request came before. It counts and logs each
// replay, whatever Act then makes of it.
func (e *Engine) seen(ctx context.Context, via, key string, ttl time.Duration) (replayed bool, err error) {
	first, err := e.opts.Store.Seen(ctx, "act:"+key, ttl)
	if err != nil {
		return false, fmt.Errorf("router: replay record of a %s request: %w", via, err)
	}
	if !first {
		e.metrics.replays.WithLabelValues(via).Inc()
		e.log.Warn("inbound request seen before: it acts no more", "via", via)
	}
	return !first, nil
}

// wasSeen says whether key's request acted already, and records nothing:
// for a page that shows what a request would do without doing it.
func (e *Engine) wasSeen(ctx context.Context, via, key string) (bool, error) {
	seen, err := e.opts.Store.WasSeen(ctx, "act:"+key)
	if err != nil {
		return false, fmt.Errorf("router: replay record of a %s request: %w", via, err)
	}
	return seen, nil
}

// unsee drops the replay record of a request whose action could not be
// recorded, so the person (or the provider's retry) can try again.
func (e *Engine) unsee(ctx context.Context, via, key string) {
	// The request's context may be what ran out.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := e.opts.Store.Unsee(ctx, "act:"+key); err != nil {
		e.log.Error("a failed action's replay record could not be dropped: the same request will be refused as a replay; a new one works",
			"via", via, "err", err)
	}
}

// actOnce is Act for a request named by a.Dedup, which acts once however
// often it arrives, within ttl: a provider's retry still in the incident's
// Handled window gets the answer the first delivery got; any other repeat
// gets ErrReplayed. It is the one place each channel's dedup goes through.
func (e *Engine) actOnce(ctx context.Context, a Action, ttl time.Duration) (*store.Incident, bool, error) {
	replayed, err := e.seen(ctx, a.Via, a.Dedup, ttl)
	if err != nil {
		return nil, false, err
	}
	a.Replayed = replayed
	inc, done, err := e.Act(ctx, a)
	if !replayed && actFailed(err) {
		e.unsee(ctx, a.Via, a.Dedup)
	}
	return inc, done, err
}

// actFailed says whether Act's error means it could not record the action,
// rather than answering for an incident that cannot take it.
func actFailed(err error) bool {
	return err != nil && !errors.Is(err, ErrResolved) && !errors.Is(err, ErrNotFound) &&
		!errors.Is(err, ErrReplayed) && !errors.Is(err, ErrForbidden) && !errors.Is(err, ErrBadVerb)
}
