package router

import (
	"context"
	"fmt"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// Retention deletes resolved incidents older than global.retention, in
// batches, and reports open ones Alertmanager stopped posting about
// (global.stale_after), as Alertmanager's --data.retention and GoAlert's
// cleanup manager do. Each batch is one atomic store write that re-checks
// every incident is resolved, so replicas may run it at once: a batch that
// finds its incidents gone deletes nothing, and none is deleted twice.

const (
	// retentionBatch bounds one delete: one bbolt transaction or Redis
	// script, short enough not to hold intake up.
	retentionBatch = 500
	// retentionPause separates batches so intake writes get the store.
	retentionPause = 50 * time.Millisecond
	// retentionEvery is how often the job runs; the first run is at start.
	retentionEvery = time.Hour
	// staleReportEvery is how often one stale incident is reported again.
	staleReportEvery = 24 * time.Hour
	// lastAlertResolution is how stale LastAlertAt may be before a re-sent,
	// unchanged post writes it.
	lastAlertResolution = time.Hour
)

// RunRetention runs the retention job at start and then hourly until ctx ends.
func (e *Engine) RunRetention(ctx context.Context) {
	for {
		if _, err := e.RetentionPass(ctx, retentionPause); err != nil && ctx.Err() == nil {
			e.log.Error("retention pass failed; trying again at the next run", "err", err)
		}
		t := time.NewTimer(retentionEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// RetentionPass deletes every resolved incident past global.retention, a
// batch at a time with pause between, then reports stale incidents. It
// returns how many it deleted.
func (e *Engine) RetentionPass(ctx context.Context, pause time.Duration) (int, error) {
	g := e.Policies().Config().Global
	now := e.now()
	cutoff := now.Add(-g.Retention.D())
	deleted := 0
	for {
		n, err := e.opts.Store.DeleteResolved(ctx, cutoff, retentionBatch)
		deleted += n
		e.metrics.retention.deleted.Add(float64(n))
		if err != nil {
			return deleted, fmt.Errorf("delete incidents resolved before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		if n < retentionBatch {
			break
		}
		if pause > 0 {
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return deleted, ctx.Err()
			case <-t.C:
			}
		}
	}
	if deleted > 0 {
		e.log.Info("retention deleted resolved incidents", "deleted", deleted, "resolved_before", cutoff.Format(time.RFC3339))
	}
	if n, err := e.opts.Store.DeleteEnded(ctx, now.Add(-StoredKeep)); err != nil {
		return deleted, fmt.Errorf("delete overrides and mutes ended before %s: %w", now.Add(-StoredKeep).Format(time.RFC3339), err)
	} else if n > 0 {
		e.log.Info("retention deleted ended overrides and mutes", "deleted", n)
	}
	if err := e.reportStale(ctx, now, g.StaleAfter.D()); err != nil {
		return deleted, err
	}
	e.metrics.retention.lastRun.Set(float64(now.UnixNano()) / 1e9)
	return deleted, nil
}

// lastAlert is when Alertmanager last posted about inc; incidents stored
// before LastAlertAt existed count from their last update.
func lastAlert(inc *store.Incident) time.Time {
	if !inc.LastAlertAt.IsZero() {
		return inc.LastAlertAt
	}
	return inc.UpdatedAt
}

// reportStale finds open and acked incidents with no Alertmanager post for
// staleAfter and reports each once a day: a WARN log and a stale timeline
// event, written by whichever replica gets there first. It never closes
// one: an alert that stopped firing without a resolve (Alertmanager lost
// its state, a route changed) is for a person to judge.
func (e *Engine) reportStale(ctx context.Context, now time.Time, staleAfter time.Duration) error {
	stale := 0
	for _, st := range []store.Status{store.StatusOpen, store.StatusAcked} {
		incs, err := e.opts.Store.List(ctx, store.ListOptions{Status: st, OpenedBefore: now.Add(-staleAfter)})
		if err != nil {
			return fmt.Errorf("list %s incidents: %w", st, err)
		}
		for _, listed := range incs {
			if now.Sub(lastAlert(listed)) < staleAfter {
				continue
			}
			stale++
			if now.Sub(listed.StaleReportedAt) < staleReportEvery {
				continue
			}
			res, err := e.opts.Store.Update(ctx, listed.ID, func(cur *store.Incident) (*store.Change, error) {
				if cur.Status == store.StatusResolved || now.Sub(lastAlert(cur)) < staleAfter || now.Sub(cur.StaleReportedAt) < staleReportEvery {
					return nil, nil
				}
				cur.StaleReportedAt = now
				return &store.Change{Incident: cur, Events: []store.Event{{At: now, Type: "stale", Actor: "hikyaku",
					Detail: map[string]string{"last_alert": lastAlert(cur).UTC().Format(time.RFC3339), "stale_after": staleAfter.String()}}}}, nil
			})
			if err != nil {
				return fmt.Errorf("report stale incident %d: %w", listed.ID, err)
			}
			if res.Written {
				e.log.Warn("incident is stale: no Alertmanager post for a long time; it stays open until resolved by hand or by Alertmanager",
					"incident", listed.ID, "status", string(listed.Status), "last_alert", lastAlert(listed).UTC().Format(time.RFC3339), "stale_after", staleAfter.String())
			}
		}
	}
	e.metrics.retention.stale.Set(float64(stale))
	return nil
}
