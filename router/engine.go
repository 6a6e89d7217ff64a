// Package router turns Alertmanager webhooks into incidents and escalates them:
// intake, incident lifecycle, the timer-driven escalation engine and its HTTP API.
package router

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// Clock is where the engine reads the time; tests drive a fake one.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Options configure an Engine. Only Store is required.
type Options struct {
	Store store.Store
	// Senders deliver by channel name (sms, voice, email, slack, webhook).
	// A channel without a sender fails over to the person's next contact.
	Senders map[string]channels.Sender
	// BuildSenders, when set, makes the senders anew from a reloaded config
	// (providers and their credentials change with it); a failure refuses the
	// reload, as serve refuses to start with it.
	BuildSenders func(*config.Config) (map[string]channels.Sender, error)
	Clock        Clock
	Logger       *slog.Logger
	Metrics      *Metrics
	// Owner names this replica in timer claims; defaults to host-pid.
	Owner string
	// Lease is how long a claimed timer stays ours without a renewal; a dead
	// replica's timers are taken over after it. Handlers renew their claims
	// every third of it (renew.go); a send times out at 4/5 of it.
	Lease time.Duration
	// Poll is how often the scheduler looks for timers other replicas scheduled.
	Poll time.Duration
	// Workers bound concurrent timer handling (sends run in parallel so one
	// slow provider never holds up another person's page).
	Workers int
	// MaxAttempts is how many times a transient send failure is retried before it counts as permanent.
	MaxAttempts int
	// DryRun says the senders only record (serve --dry-run): hikyaku_dry_run
	// is 1 and no provider's health is reported, as none is used.
	DryRun bool
}

// Engine owns the incident lifecycle and the escalation timers. Every state
// change goes through the store, so any replica can carry on another's work.
type Engine struct {
	opts    Options
	set     atomic.Pointer[policies.Set]
	senders atomic.Pointer[map[string]channels.Sender]
	// templates caches the parsed message templates of the config in force.
	templates atomic.Pointer[configTemplates]
	wake      chan struct{}
	log       *slog.Logger
	metrics   *Metrics
	// inflight counts timer handlers running, so shutdown can wait for sends.
	inflight sync.WaitGroup
	pacing   pacing // providers.twilio.account_per_second, per replica
	health   providerHealth
	lanes    lanes // keeps each recipient's pages in due order (lanes.go)
	// steps counts step handlers running; runDue claims again only once
	// they are done, so the pages they write are claimed in due order.
	steps sync.WaitGroup
	// heartbeatsChanged asks Run to arm the heartbeats (start, reload).
	heartbeatsChanged atomic.Bool
	// drillsChanged asks Run to arm the drills; verifiedDirty to recount
	// the unverified contact methods now (verified.go).
	drillsChanged atomic.Bool
	// healthReportsChanged asks Run to arm the health report schedules.
	healthReportsChanged atomic.Bool
	verifiedDirty        atomic.Bool
}

// New makes an engine serving the compiled policies set.
func New(set *policies.Set, opts Options) *Engine {
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if opts.Lease == 0 {
		// Under the 5 s in which a dead replica's pages must go out elsewhere,
		// and well over a provider call (sends time out at 4/5 of it).
		opts.Lease = 4 * time.Second
	}
	if opts.Poll == 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.Workers == 0 {
		opts.Workers = 64
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = 5
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	e := &Engine{opts: opts, wake: make(chan struct{}, 1), log: opts.Logger, metrics: opts.Metrics}
	e.set.Store(set)
	// The configuration in force was loaded to make set: that is its first successful load.
	e.metrics.initDepartments(set.Config())
	e.metrics.initChannels(set.Config())
	e.metrics.configLoaded(true, e.now())
	e.senders.Store(&opts.Senders)
	e.initUpdates()
	if opts.DryRun {
		e.metrics.dryRun.Set(1)
	}
	e.watchProviders(set.Config())
	e.heartbeatsChanged.Store(true)
	e.drillsChanged.Store(true)
	e.healthReportsChanged.Store(true)
	e.metrics.health.initDepartments(set.Config())
	e.verifiedDirty.Store(true)
	return e
}

// Policies is the configuration in force.
func (e *Engine) Policies() *policies.Set { return e.set.Load() }

// SetPolicies swaps the configuration atomically (reload). Open incidents keep
// their policy by id; see docs for what happens when it disappeared.
func (e *Engine) SetPolicies(s *policies.Set) { e.set.Store(s) }

// Reload loads and validates the file at path and swaps it in. On any
// error the configuration in force keeps serving and the error says why.
func (e *Engine) Reload(path string) error {
	cfg, err := config.Load(path)
	if err != nil {
		e.metrics.reloads.WithLabelValues("failure").Inc()
		e.metrics.configLoaded(false, e.now())
		e.log.Error("configuration refused; the previous one keeps serving", "file", path, "err", err)
		return err
	}
	for _, w := range cfg.Warnings {
		e.log.Warn("configuration warning", "warning", w.Error())
	}
	if e.opts.BuildSenders != nil {
		senders, err := e.opts.BuildSenders(cfg)
		if err != nil {
			e.metrics.reloads.WithLabelValues("failure").Inc()
			e.metrics.configLoaded(false, e.now())
			e.log.Error("configuration refused: serve cannot run it (a channel without its provider, a receiver without its credential); the previous one keeps serving", "file", path, "err", err)
			return fmt.Errorf("refused for serve:\n%w", err)
		}
		e.senders.Store(&senders)
	}
	old := e.Policies().Config()
	e.SetPolicies(policies.Compile(cfg))
	e.watchProviders(cfg)
	e.heartbeatsReloaded(old, cfg)
	e.drillsReloaded(old, cfg)
	e.healthReportsReloaded(old, cfg)
	e.metrics.drill.forgetDepartments(old, cfg)
	e.metrics.reloads.WithLabelValues("success").Inc()
	e.metrics.initDepartments(cfg)
	e.metrics.initChannels(cfg)
	e.initUpdates()
	e.metrics.configLoaded(true, e.now())
	e.log.Info("configuration loaded", "file", path)
	// The new configuration is in force either way: a waiting incident not
	// routed again now still is when its own timer fires.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.recheckWaiting(ctx); err != nil {
		e.log.Error("routing waiting incidents again after the reload failed", "err", err)
	}
	e.kick()
	return nil
}

// Store is the engine's store.
func (e *Engine) Store() store.Store { return e.opts.Store }

func (e *Engine) now() time.Time { return e.opts.Clock.Now() }

// kick wakes the scheduler: a timer may be due now.
func (e *Engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// ref is a short stable name for one incident's life, used in timer ids so
// they are unique before the store has assigned the numeric id.
func ref(inc *store.Incident) string {
	h := sha256.Sum256([]byte(inc.Key + "\x00" + inc.CreatedAt.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(h[:8])
}

// Run claims and handles due timers until ctx ends, then waits for the
// handlers in flight and releases what it still holds.
func (e *Engine) Run(ctx context.Context) error {
	sem := make(chan struct{}, e.opts.Workers)
	var heartbeats heartbeatWatch
	var drills drillWatch
	var healthReports healthReportWatch
	for {
		heartbeats.tick(ctx, e)
		drills.tick(ctx, e)
		healthReports.tick(ctx, e)
		n, err := e.runDue(ctx, sem)
		if err != nil && ctx.Err() == nil {
			e.log.Warn("claiming timers failed", "err", err)
		}
		if ctx.Err() != nil {
			break
		}
		if n > 0 {
			continue // there may be more due
		}
		wait := e.opts.Poll
		if next, ok, err := e.opts.Store.NextDue(ctx); err == nil && ok {
			if d := next.Sub(e.now()); d < wait {
				wait = max(d, 0)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-e.wake:
		case <-t.C:
		}
		t.Stop()
		if ctx.Err() != nil {
			break
		}
	}
	e.inflight.Wait()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return e.opts.Store.Release(rctx, e.opts.Owner)
}

// runDue claims one batch and hands each timer to a worker.
func (e *Engine) runDue(ctx context.Context, sem chan struct{}) (int, error) {
	// Claim only what idle workers can start now: a claim waiting for a worker
	// would burn its lease, and another replica could take it over meanwhile.
	free := cap(sem) - len(sem)
	if free == 0 {
		select { // all busy: wait for one to finish, then claim again
		case sem <- struct{}{}:
			<-sem
		case <-ctx.Done():
		}
		return 1, nil
	}
	// A step's pages are new timers, due when the step was (atOnce), and
	// lanes order only what has been claimed. After downtime a burst of
	// overdue steps fires at once; claiming while an earlier step is still
	// writing its pages would start the later steps' pages to the same
	// person first. A step is one store write, so the wait is short.
	e.steps.Wait()
	asked := e.now()
	claims, err := e.opts.Store.ClaimDue(ctx, asked, e.opts.Owner, e.opts.Lease, free)
	if err != nil {
		return 0, err
	}
	for _, j := range e.plan(claims) { // pages start first, in due order
		sem <- struct{}{}
		e.inflight.Add(1)
		step := j.claims[0].Kind == kindStep
		if step {
			e.steps.Add(1)
		}
		wait, done := e.lanes.enter(laneOf(j))
		leave := sync.OnceFunc(done)
		go func() {
			defer func() { <-sem; e.inflight.Done() }()
			if step {
				defer e.steps.Done()
			}
			defer leave()
			// Handlers finish what they started even when shutdown begins:
			// a page half-sent is worse than a second of delay.
			held := newLeases(j.claims, asked, e.opts.Lease)
			hctx := withLeases(withLane(context.WithoutCancel(ctx), leave), held)
			defer e.keepClaims(hctx, j.claims, held)()
			if wait != nil {
				<-wait // an earlier page to the same recipient goes first
			}
			j.run(hctx, e)
		}()
	}
	return len(claims), nil
}

// ProcessDue handles every timer due at the clock's now, synchronously.
// Tests on a fake clock call it instead of Run.
func (e *Engine) ProcessDue(ctx context.Context) (int, error) {
	total := 0
	for {
		asked := e.now()
		claims, err := e.opts.Store.ClaimDue(ctx, asked, e.opts.Owner, e.opts.Lease, 256)
		if err != nil {
			return total, err
		}
		if len(claims) == 0 {
			return total, nil
		}
		for _, j := range e.plan(claims) {
			j.run(withLeases(ctx, newLeases(j.claims, asked, e.opts.Lease)), e)
		}
		total += len(claims)
	}
}

// handle runs one claimed timer and completes it, or on failure retries it
// with backoff or dead-letters it (deadletter.go).
func (e *Engine) handle(ctx context.Context, c store.Claim) {
	e.metrics.timerLateness.Observe(max(e.now().Sub(c.Due), 0).Seconds())
	if most := e.timerAttempts(); c.Attempt >= most {
		// No attempt left: the last one's lease expired (a failure with no
		// attempt left is dead-lettered where it fails), or a reload lowered
		// the bound. Running it again could kill this replica as it did others.
		e.deadLetter(ctx, c, c.Attempt, fmt.Sprintf("%s (attempt %d of global.timer_max_attempts %d)", errLeaseSpent, c.Attempt, most))
		return
	}
	err := e.runTimer(ctx, c)
	if errors.Is(err, errRetried) || errors.Is(err, errDone) {
		return
	}
	if err != nil {
		e.timerFailed(ctx, c, err)
		return
	}
	if err := e.untilStored(ctx, func(ctx context.Context) error { return e.opts.Store.Complete(ctx, c) }); err != nil && !errors.Is(err, store.ErrStaleClaim) {
		e.log.Error("completing a timer failed: the store failed for too long; it runs again when its lease expires", "timer", c.ID, "err", err)
	}
}

// runTimer runs the handler of c's kind. A panic in it is this timer's
// failed attempt, not the end of the process.
func (e *Engine) runTimer(ctx context.Context, c store.Claim) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = e.recovered(panicTimer, v, "timer", c.ID, "kind", c.Kind, "incident", c.IncidentID)
		}
	}()
	switch c.Kind {
	case kindStep:
		return e.fireStep(ctx, c)
	case kindNotify:
		return e.deliver(ctx, c)
	case kindExhaust:
		return e.exhaust(ctx, c)
	case kindAckTimeout:
		return e.ackTimedOut(ctx, c)
	case kindReport:
		return e.report(ctx, c)
	case kindUpdate:
		return e.updateMessages(ctx, c)
	case kindRecheck:
		return e.recheck(ctx, c)
	case kindHeartbeat:
		return e.heartbeatDeadline(ctx, c)
	case kindHealthReport:
		return e.healthReportDue(ctx, c)
	case kindHealthReportSend:
		return e.healthReportSend(ctx, c)
	case kindTestDeadline:
		return e.testDeadline(ctx, c)
	case kindDrill:
		return e.drillDue(ctx, c)
	case kindDrillPage:
		return e.drillPage(ctx, c)
	case kindDrillReport:
		return e.drillReport(ctx, c)
	}
	// Written by a newer hikyaku during a rolling upgrade, say: kept where
	// it can be seen and retried, never dropped.
	return poison(fmt.Errorf("unknown timer kind %q", c.Kind))
}
