package router

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikyaku/hikyaku/store"
)

// A timer whose handler fails (a store error, a bug, a panic, a payload it
// cannot read) or whose lease expires under it is tried again with backoff,
// on any replica, until global.timer_max_attempts attempts have failed; then
// it is dead-lettered: moved out of the due set, so no replica claims it
// again, and said loudly (ERROR log, metric, timeline, API) until someone
// retries or discards it. The outbox's send failures are not handler
// failures: they keep their own retries and fail over (outbox.go).

// poisonError is a failure no retry can fix: the timer is dead-lettered at once.
type poisonError struct{ err error }

func (p *poisonError) Error() string { return p.err.Error() }
func (p *poisonError) Unwrap() error { return p.err }

// poison marks err as permanent for the timer that met it.
func poison(err error) error { return &poisonError{err} }

// ErrDeadTimerNotFound is a dead-letter API call for a timer that is not dead.
var ErrDeadTimerNotFound = errors.New("no such dead-lettered timer")

// timerAttempts is how many attempts a timer gets in the config in force.
func (e *Engine) timerAttempts() int {
	if n := e.Policies().Config().Global.TimerMaxAttempts; n > 0 {
		return n
	}
	return 10 // a config built without Load's defaults
}

// timerFailed handles a timer whose handler failed: another attempt after a
// backoff, or the dead-letter set once its attempts are spent.
func (e *Engine) timerFailed(ctx context.Context, c store.Claim, err error) {
	attempts, most := c.Attempt+1, e.timerAttempts()
	var p *poisonError
	if errors.As(err, &p) || attempts >= most {
		e.deadLetter(ctx, c, attempts, err.Error())
		return
	}
	due := e.now().Add(timerBackoff(c.Attempt))
	if rerr := e.untilStored(ctx, func(ctx context.Context) error { return e.opts.Store.Retry(ctx, c, due) }); rerr != nil {
		if !errors.Is(rerr, store.ErrStaleClaim) {
			e.log.Error("timer failed and could not be put back: the store failed for too long; it is tried again when its lease expires",
				"timer", c.ID, "kind", c.Kind, "incident", c.IncidentID, "attempt", attempts, "err", err, "retry_err", rerr)
		}
		return
	}
	e.log.Warn("timer failed; retrying with backoff", "timer", c.ID, "kind", c.Kind, "incident", c.IncidentID,
		"attempt", attempts, "max_attempts", most, "next_at", due.Format(time.RFC3339), "err", err)
	e.kick()
}

// timerBackoff is the wait after failed attempt attempt+1 of a timer:
// exponential with full jitter, as the outbox's backoff, but up to 5
// minutes, so that the default 10 attempts outlast a store failover: a timer
// failing every time is dead-lettered 4 to 8.5 minutes after its first failure.
func timerBackoff(attempt int) time.Duration {
	base := min(time.Second<<min(attempt, 20), 5*time.Minute)
	return base/2 + rand.N(base/2+1)
}

// errLeaseSpent is why a timer claimed with no attempt left is dead-lettered:
// its last attempt ended with its lease running out.
const errLeaseSpent = "out of attempts when claimed again: the last one's lease expired (the replica handling it died, was killed or hung)"

// deadLetter moves a claimed timer to the dead-letter set and says so
// everywhere someone may look. If the claim was lost meanwhile, its new
// holder decides.
func (e *Engine) deadLetter(ctx context.Context, c store.Claim, attempts int, reason string) {
	now := e.now()
	err := e.untilStored(ctx, func(ctx context.Context) error { return e.opts.Store.DeadLetter(ctx, c, attempts, reason, now) })
	if errors.Is(err, store.ErrStaleClaim) {
		return
	}
	if err != nil {
		e.log.Error("timer should be dead-lettered but the store failed for too long; it is tried again when its lease expires",
			"timer", c.ID, "kind", c.Kind, "incident", c.IncidentID, "attempts", attempts, "reason", reason, "err", err)
		return
	}
	e.metrics.faults.deadLettered.WithLabelValues(c.Kind).Inc()
	e.log.Error("timer dead-lettered: it will not run again unless retried (POST /api/v1/timers/dead/{id}/retry)",
		"timer", c.ID, "kind", c.Kind, "incident", c.IncidentID, "attempts", attempts, "err", reason)
	if c.IncidentID <= 0 {
		return
	}
	ev := event(now, "timer_dead_lettered", "", "timer", c.ID, "kind", c.Kind,
		"attempts", strconv.Itoa(attempts), "error", reason)
	if err := e.record(ctx, c.IncidentID, nil, ev); err != nil && !errors.Is(err, store.ErrNotFound) {
		e.log.Error("dead-lettered timer not written to its incident's timeline", "timer", c.ID, "incident", c.IncidentID, "err", err)
	}
}

// DeadTimers lists the dead-lettered timers, oldest first; limit 0 is all.
func (e *Engine) DeadTimers(ctx context.Context, limit int) ([]store.DeadTimer, error) {
	ds, err := e.opts.Store.DeadTimers(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("router: dead timers: %w", err)
	}
	return ds, nil
}

// RetryDeadTimer puts a dead timer back, due now with all its attempts, and
// says who did in its incident's timeline.
func (e *Engine) RetryDeadTimer(ctx context.Context, id, actor string) (store.DeadTimer, error) {
	d, err := e.opts.Store.RetryDead(ctx, id, e.now())
	if err != nil {
		err = deadErr(err)
		e.auditDead(ctx, "timer_retry", id, actor, d.IncidentID, err)
		return d, err
	}
	e.auditDead(ctx, "timer_retry", id, actor, d.IncidentID, nil)
	e.log.Info("dead-lettered timer retried", "timer", id, "kind", d.Kind, "incident", d.IncidentID, "by", actor)
	e.deadTimerEvent(ctx, d, "timer_dead_letter_retried", actor)
	e.kick()
	return d, nil
}

// DiscardDeadTimer drops a dead timer for good: someone looked and decided
// it must not run.
func (e *Engine) DiscardDeadTimer(ctx context.Context, id, actor string) (store.DeadTimer, error) {
	d, err := e.opts.Store.DiscardDead(ctx, id)
	if err != nil {
		err = deadErr(err)
		e.auditDead(ctx, "timer_discard", id, actor, d.IncidentID, err)
		return d, err
	}
	e.auditDead(ctx, "timer_discard", id, actor, d.IncidentID, nil)
	e.log.Warn("dead-lettered timer discarded", "timer", id, "kind", d.Kind, "incident", d.IncidentID, "by", actor)
	e.deadTimerEvent(ctx, d, "timer_dead_letter_discarded", actor)
	return d, nil
}

func (e *Engine) deadTimerEvent(ctx context.Context, d store.DeadTimer, typ, actor string) {
	if d.IncidentID <= 0 {
		return
	}
	ev := event(e.now(), typ, actor, "timer", d.ID, "kind", d.Kind)
	if err := e.record(ctx, d.IncidentID, nil, ev); err != nil && !errors.Is(err, store.ErrNotFound) {
		e.log.Error("dead-letter action not written to its incident's timeline", "timer", d.ID, "incident", d.IncidentID, "err", err)
	}
}

func deadErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrDeadTimerNotFound
	case errors.Is(err, store.ErrTimerExists):
		return &httpError{409, "a live timer with this id is scheduled; retrying the dead one would run it twice"}
	}
	return fmt.Errorf("router: %w", err)
}

// faultMetrics count what went wrong inside hikyaku itself.
type faultMetrics struct {
	deadLettered *prometheus.CounterVec
	panics       *prometheus.CounterVec
}

// panicSites are the where label of hikyaku_panics_total.
const (
	panicTimer = "timer" // a timer handler
	panicHTTP  = "http"  // an HTTP handler: webhook, API, provider callbacks
	panicSMTP  = "smtp"  // the email reply listener
)

func newFaultMetrics(register func(prometheus.Collector)) faultMetrics {
	f := faultMetrics{
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_timers_dead_lettered_total",
			Help: "Timers dead-lettered after their handler kept failing, by timer kind."}, []string{"kind"}),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_panics_total",
			Help: "Panics recovered, by where they happened (timer, http, smtp)."}, []string{"where"}),
	}
	register(f.deadLettered)
	register(f.panics)
	// Present at zero from the start, so rate() and alerts see the series.
	for _, k := range []string{kindStep, kindNotify, kindExhaust, kindAckTimeout, kindReport, kindUpdate} {
		f.deadLettered.WithLabelValues(k)
	}
	for _, w := range []string{panicTimer, panicHTTP, panicSMTP} {
		f.panics.WithLabelValues(w)
	}
	return f
}

// deadLetterGauge reports at each scrape how many timers are dead now,
// through a bounded probe: go-redis waits for its read timeout, not the
// context, on a frozen Redis, and a scrape must answer within its bound.
type deadLetterGauge struct {
	probe *storeProbe
	desc  *prometheus.Desc

	mu    sync.Mutex
	count int // what the last successful probe counted
}

// NewDeadLetterGauge is the hikyaku_timers_dead_letter gauge over st, for a registry.
func NewDeadLetterGauge(st store.Store) prometheus.Collector {
	g := &deadLetterGauge{desc: prometheus.NewDesc("hikyaku_timers_dead_letter",
		"Timers in the dead-letter set now: they will not run until retried (GET /api/v1/timers/dead).", nil, nil)}
	g.probe = newStoreProbe(StoreProbeTimeout, func(ctx context.Context) error {
		n, err := st.DeadCount(ctx)
		if err != nil {
			return err
		}
		g.mu.Lock()
		g.count = n
		g.mu.Unlock()
		return nil
	})
	return g
}

func (g *deadLetterGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *deadLetterGauge) Collect(ch chan<- prometheus.Metric) {
	if err := g.probe.run(context.Background()); err != nil {
		// No sample rather than a stale 0 that would hide dead timers, and
		// no scrape error, which would take every other metric down with the
		// store exactly when they matter (readiness reports the store).
		return
	}
	g.mu.Lock()
	n := g.count
	g.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(n))
}
