package main

import (
	"context"
	"fmt"
	"log/slog"
)

// backfiller is a store whose open incidents may predate delivery records
// (Redis; the embedded store backfills an old file when it opens it).
type backfiller interface {
	BackfillDeliveries(ctx context.Context) (int, error)
	BackfillPosted(ctx context.Context) (int, error)
}

// backfillDeliveries records the deliveries of open incidents an older
// version wrote, and indexes them by provider id, before any inbound
// request is taken: without them a bare "ack" or an email reply would not
// find its page, nor a Slack thread reply its message. A store that cannot do
// it stops the start.
func backfillDeliveries(ctx context.Context, log *slog.Logger, st any) error {
	b, ok := st.(backfiller)
	if !ok {
		return nil
	}
	n, err := b.BackfillDeliveries(ctx)
	if err != nil {
		return fmt.Errorf("recording the deliveries of incidents an older version opened: %w", err)
	}
	if n > 0 {
		log.Info("recorded the deliveries of open incidents an older version wrote, from their timelines", "incidents", n)
	}
	// After: the deliveries just recorded are indexed as they are written.
	if n, err = b.BackfillPosted(ctx); err != nil {
		return fmt.Errorf("indexing by provider id the deliveries of incidents an older version opened: %w", err)
	}
	if n > 0 {
		log.Info("indexed by provider id the deliveries of open incidents an older version wrote", "incidents", n)
	}
	return nil
}
