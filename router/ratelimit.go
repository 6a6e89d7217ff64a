package router

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// rateWindow is the per-person limit's window: the config counts per minute.
const rateWindow = time.Minute

// rateKey names one person's count on one channel in the store.
func rateKey(user, channel string) string { return "rate/" + user + "/" + channel }

// metered says whether a message counts against the per-person limit: a
// message to a configured person on a channel whose provider is metered
// (SMS and calls). Chat and email cost nothing per message and cannot be
// bundled into a shorter ring.
func (e *Engine) metered(p *notifyPayload) bool {
	spec, _ := e.Policies().Config().ChannelSpec(config.Channel(p.Channel))
	return p.User != "" && spec.Metered
}

// twilioProvider is the Twilio settings in force, nil when there are none.
func (e *Engine) twilioProvider() *config.Twilio { return e.Policies().Config().Providers.Twilio }

// perPersonLimit is providers.twilio.per_person_per_minute; 0 is no cap.
func (e *Engine) perPersonLimit() int {
	if tw := e.twilioProvider(); tw != nil {
		return tw.PerPersonPerMinute
	}
	return 0
}

// holdBack decides whether the message of claims (one, or a bundle for one
// person and channel) may go now. When it may not, the claims are put back
// for when it may, and errDone says so. admission names the message: its
// timer id, or a bundle's key.
func (e *Engine) holdBack(ctx context.Context, admission string, p *notifyPayload, claims []store.Claim) error {
	if !e.metered(p) {
		return nil
	}
	now := e.now()
	if n := e.perPersonLimit(); n > 0 {
		ok, next, err := e.opts.Store.Take(ctx, rateKey(p.User, p.Channel), n, rateWindow, now)
		if err != nil {
			return fmt.Errorf("per-person rate limit: %w", err)
		}
		if !ok {
			e.metrics.notifications.WithLabelValues(p.Channel, resultRateLimited, "").Inc()
			return e.postpone(ctx, claims, next, "rate_limited", "limit", strconv.Itoa(n)+"/min")
		}
	}
	if at := e.pacing.slot(e.twilioProvider(), admission, now); at.After(now) {
		return e.postpone(ctx, claims, at, "queued", "reason", "account_per_second")
	}
	return nil
}

// postpone puts claimed notify timers back at due without spending an
// attempt: being held back is not a failure. Each incident's timeline says
// why, in the same write that moves its timer, so a crash cannot lose
// either. A page whose incident was acked or resolved meanwhile is dropped
// instead.
func (e *Engine) postpone(ctx context.Context, claims []store.Claim, due time.Time, why string, kv ...string) error {
	for _, c := range claims {
		var p notifyPayload
		if err := decodePayload(c, &p); err != nil {
			continue // deliver and deliverBundle decode before they hold anything back
		}
		_, err := e.opts.Store.Update(ctx, c.IncidentID, func(cur *store.Incident) (*store.Change, error) {
			inc := *cur
			ch := &store.Change{Incident: &inc, Cancel: []string{c.ID}}
			if stale(cur, &p) {
				return ch, nil
			}
			t := c.Timer
			t.Due = due // same id, same attempt count
			ch.Schedule = []store.Timer{t}
			ch.Events = []store.Event{event(e.now(), why, "", append([]string{"to", who(&p), "channel", p.Channel,
				"kind", p.Kind, "until", due.Format(time.RFC3339Nano)}, kv...)...)}
			return ch, nil
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("postpone %s: %w", c.ID, err)
		}
	}
	return errDone
}

// stale tells whether a page no longer must go out: its incident was acked,
// resolved or escalated past it since it was scheduled.
func stale(inc *store.Incident, p *notifyPayload) bool {
	return p.Kind == "page" && (inc.Status != store.StatusOpen || inc.Escalation.Generation != p.Gen)
}

// pacer spaces the sends of one Twilio account to account_per_second, so a
// burst waits here, where pages go before reports and the timeline shows
// it, rather than in the provider's queue. It counts per replica: N
// replicas may together send N times the rate (docs/channels.md).
type pacer struct {
	mu       sync.Mutex
	account  string
	interval time.Duration
	tat      time.Time            // theoretical arrival time of the next send (GCRA)
	granted  map[string]time.Time // sends already given a later slot, by admission
}

// slot is when a send may go: now when the account has room,
// else the first free slot, which is then held for it so the postponed
// send is not queued behind later ones when it comes back. admission names
// the send across its postponements. A zero rate (the
// default) never waits.
func (p *pacing) slot(tw *config.Twilio, admission string, now time.Time) time.Time {
	if tw == nil || tw.AccountPerSecond <= 0 {
		return now
	}
	pc := p.pacerFor(tw)
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if at, ok := pc.granted[admission]; ok {
		if now.Before(at) {
			return at
		}
		delete(pc.granted, admission)
		return now
	}
	at := now
	if pc.tat.After(at) {
		at = pc.tat
	}
	pc.tat = at.Add(pc.interval)
	if at.After(now) {
		for k, t := range pc.granted {
			if now.Sub(t) > rateWindow { // its timer went elsewhere or was cancelled
				delete(pc.granted, k)
			}
		}
		pc.granted[admission] = at
	}
	return at
}

// pacing holds the pacer of the Twilio account in force; a reload that
// changes the account or its rate starts a new one.
type pacing struct {
	mu  sync.Mutex
	cur *pacer
}

func (p *pacing) pacerFor(tw *config.Twilio) *pacer {
	interval := time.Duration(float64(time.Second) / tw.AccountPerSecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil || p.cur.account != tw.AccountSID || p.cur.interval != interval {
		p.cur = &pacer{account: tw.AccountSID, interval: interval, granted: map[string]time.Time{}}
	}
	return p.cur
}
