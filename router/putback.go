package router

import (
	"context"
	"errors"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// untilStored runs write, a fenced write that ends this replica's claim on a
// timer (its completion, its retry, its dead-lettering), until the store
// answers it, for up to finishMaxWait. The handler, and with it the claim's
// renewal (keepClaims), stays on meanwhile, and on Redis the lease stands
// still while Redis is away. Giving up at the first failure left the claim
// to lapse once the store was back, and another replica took the timer over
// as if its holder had died mid-send: for a call, an email or a webhook it
// sent again, marked possible duplicate, what this holder had never sent.
// A lost claim (ErrStaleClaim) and a missing incident (ErrNotFound) are
// answers, returned at once; any other failure is taken for the store's.
func (e *Engine) untilStored(ctx context.Context, write func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, finishMaxWait)
	defer cancel()
	wait := 50 * time.Millisecond
	for {
		err := write(ctx)
		if err == nil || errors.Is(err, store.ErrStaleClaim) || errors.Is(err, store.ErrNotFound) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}
