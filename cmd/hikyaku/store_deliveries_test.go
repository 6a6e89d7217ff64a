package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
)

type fakeBackfiller struct {
	n         int
	err       error
	postedErr error
}

func (f fakeBackfiller) BackfillDeliveries(context.Context) (int, error) { return f.n, f.err }
func (f fakeBackfiller) BackfillPosted(context.Context) (int, error)     { return f.n, f.postedErr }

// TestBackfillDeliveriesStopsTheStart: a store that cannot record the
// deliveries of old open incidents, or index them, stops serve, rather
// than serving acks and thread replies that would not find their pages.
func TestBackfillDeliveriesStopsTheStart(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	down := errors.New("connection refused")
	err := backfillDeliveries(t.Context(), log, fakeBackfiller{err: down})
	if !errors.Is(err, down) || !strings.Contains(err.Error(), "older version") {
		t.Errorf("backfill failing: err = %v, want it wrapped with what failed", err)
	}
	err = backfillDeliveries(t.Context(), log, fakeBackfiller{postedErr: down})
	if !errors.Is(err, down) || !strings.Contains(err.Error(), "provider id") {
		t.Errorf("indexing failing: err = %v, want it wrapped with what failed", err)
	}
	if err := backfillDeliveries(t.Context(), log, fakeBackfiller{n: 3}); err != nil {
		t.Errorf("backfill of 3: %v", err)
	}
	if err := backfillDeliveries(t.Context(), log, struct{}{}); err != nil {
		t.Errorf("a store that needs none: %v", err)
	}
}
