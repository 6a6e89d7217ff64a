package router

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/template"
	"github.com/hikyaku/hikyaku/store"
)

// job is what one worker runs: a claimed timer, or several pages to one
// person on one channel that go out as one bundled message.
type job struct {
	rank   int
	claims []store.Claim
}

func (j job) run(ctx context.Context, e *Engine) {
	defer func() {
		// handle recovers its handler's panics; this is for the rest (a bundle).
		if v := recover(); v != nil {
			err := e.recovered(panicTimer, v, "timers", len(j.claims), "timer", j.claims[0].ID)
			for _, c := range j.claims {
				e.timerFailed(ctx, c, err)
			}
		}
	}()
	if len(j.claims) == 1 {
		e.handle(ctx, j.claims[0])
		return
	}
	e.deliverBundle(ctx, j.claims)
}

// Ranks order a claimed batch: whatever pages someone starts first.
const (
	rankPage   = iota // first attempts of pages, and the steps that schedule pages
	rankState         // exhaustion, ack timeouts, message updates: no provider call, or a cheap one
	rankReport        // stakeholder reports: they inform, nobody waits on them
	rankRetry         // a second attempt already had its turn
)

// plan turns one claimed batch into jobs, pages first. With a per-person
// limit in force, the SMS (or call) pages due for one person together
// become one job: pages postponed by the limit come due together, and one
// message listing them spends one slot where each alone would wait for its
// own.
func (e *Engine) plan(claims []store.Claim) []job {
	bundling := e.perPersonLimit() > 0
	jobs := make([]job, 0, len(claims))
	groups := map[string]int{} // user, channel → index in jobs
	for _, c := range claims {
		r, p := rankOf(c)
		if bundling && p != nil && p.Kind == "page" && e.metered(p) {
			k := p.User + "\x00" + p.Channel
			if i, ok := groups[k]; ok {
				jobs[i].claims = append(jobs[i].claims, c)
				jobs[i].rank = min(jobs[i].rank, r)
				continue
			}
			groups[k] = len(jobs)
		}
		jobs = append(jobs, job{rank: r, claims: []store.Claim{c}})
	}
	// Stable: within a rank the store's order, which is due time, holds.
	slices.SortStableFunc(jobs, func(a, b job) int { return cmp.Compare(a.rank, b.rank) })
	return jobs
}

// rankOf ranks one timer, with its notify payload when it has one.
func rankOf(c store.Claim) (int, *notifyPayload) {
	var p *notifyPayload
	if c.Kind == kindNotify {
		p = new(notifyPayload)
		if decodePayload(c, p) != nil {
			p = nil
		}
	}
	switch {
	case c.Attempt > 0:
		return rankRetry, p
	case c.Kind == kindStep, c.Kind == kindRecheck, p != nil && p.Kind == "page":
		return rankPage, p
	case c.Kind == kindReport, c.Kind == kindNotify:
		return rankReport, p
	}
	return rankState, p
}

func decodePayload(c store.Claim, p *notifyPayload) error {
	if err := json.Unmarshal(c.Payload, p); err != nil {
		return fmt.Errorf("notify timer %s: %w", c.ID, err)
	}
	return nil
}

// bundled is one page of a bundle with what it is about.
type bundled struct {
	c   store.Claim
	p   notifyPayload
	inc *store.Incident
}

// deliverBundle sends the pages of claims, all to one person on one
// channel, as one message. A page that no longer must go out is dropped on
// its own; with a single page left it is sent the ordinary way.
func (e *Engine) deliverBundle(ctx context.Context, claims []store.Claim) {
	items := make([]bundled, 0, len(claims))
	for _, c := range claims {
		if c.Attempt >= e.timerAttempts() {
			e.handle(ctx, c) // dead-letters it without sending
			continue
		}
		var p notifyPayload
		inc, err := e.opts.Store.Get(ctx, c.IncidentID)
		switch {
		case err != nil && !errors.Is(err, store.ErrNotFound):
			e.timerFailed(ctx, c, fmt.Errorf("deliver: %w", err))
		case err != nil, decodePayload(c, &p) != nil, stale(inc, &p):
			e.handle(ctx, c) // deliver drops it and says why
		default:
			items = append(items, bundled{c: c, p: p, inc: inc})
		}
	}
	switch len(items) {
	case 0:
		return
	case 1:
		e.handle(ctx, items[0].c)
		return
	}
	for _, it := range items {
		e.metrics.timerLateness.Observe(max(e.now().Sub(it.c.Due), 0).Seconds())
	}
	slices.SortFunc(items, func(a, b bundled) int { return cmp.Compare(a.inc.ID, b.inc.ID) })
	if err := e.sendBundle(ctx, items); err != nil && !errors.Is(err, errDone) {
		e.log.Warn("bundled pages failed", "to", items[0].p.User,
			"channel", items[0].p.Channel, "incidents", bundleIDs(items), "err", err)
		// Those already done or put back have lost their claim: only the
		// others are retried or dead-lettered.
		for _, it := range items {
			e.timerFailed(ctx, it.c, err)
		}
	}
}

// sendBundle sends one message for items and writes each incident's
// outcome: notified (bundled with which others), retried, or failed over.
func (e *Engine) sendBundle(ctx context.Context, items []bundled) error {
	claims := make([]store.Claim, len(items))
	for i, it := range items {
		claims[i] = it.c
	}
	p := items[0].p
	key := bundleKey(claims)
	if err := e.holdBack(ctx, key, &p, claims); err != nil {
		return err
	}
	msgs := make([]*channels.Message, 0, len(items))
	var err error
	for _, it := range items {
		var m *channels.Message
		if m, err = e.message(it.inc, &it.p, it.c.ID); err != nil {
			break // same person, same channel: what fails one fails all
		}
		msgs = append(msgs, m)
	}
	ids := bundleIDs(items)
	if err == nil {
		var rc channels.Receipt
		var reconciled string
		bm := bundleMessage(msgs, key, items)
		if takenOver(claims...) {
			since := reconcileSince(items[0].c, &items[0].p)
			for _, it := range items[1:] {
				if s := reconcileSince(it.c, &it.p); s.Before(since) {
					since = s
				}
			}
			if rc, reconciled, err = e.reconcile(ctx, bm, since, claims[0].Attempt); err != nil {
				return err // each is retried; the next attempt asks again
			}
		}
		if reconciled != reconcileFound {
			if err := e.stillHeld(ctx, claims...); err != nil {
				// Some were taken over meanwhile: their new holders send
				// them, the others are retried (and bundled) again.
				return err
			}
			rc, err = e.send(ctx, bm)
		}
		leaveLane(ctx)
		if err == nil {
			var first error
			for i, it := range items {
				ev := event(e.now(), sentEvent(rc), "", append([]string{"to", who(&it.p), "channel", it.p.Channel, "kind", it.p.Kind,
					"provider_id", rc.ProviderID, "attempt", strconv.Itoa(it.c.Attempt + 1), "bundle", ids}, reconciledDetail(reconciled)...)...)
				if ferr := e.finish(ctx, it.c, sentDelivery(&it.p, msgs[i], rc, e.now()), ev); !errors.Is(ferr, errDone) && first == nil {
					first = ferr
				}
			}
			return cmp.Or(first, errDone)
		}
	}
	var first error
	for _, it := range items {
		if ferr := e.sendFailed(ctx, it.c, it.inc, &it.p, err); ferr != nil && !errors.Is(ferr, errRetried) && first == nil {
			first = ferr
		}
	}
	return cmp.Or(first, errDone)
}

// sendFailed retries a transient failure with backoff while attempts are
// left, and otherwise fails over to the person's next contact method.
func (e *Engine) sendFailed(ctx context.Context, c store.Claim, inc *store.Incident, p *notifyPayload, err error) error {
	cause := channels.ReasonOf(err)
	if !channels.IsPermanent(err) && c.Attempt+1 < e.opts.MaxAttempts {
		e.metrics.notifications.WithLabelValues(p.Channel, resultRetried, string(cause)).Inc()
		due := e.now().Add(backoff(c.Attempt))
		if unanswered(err) {
			// The provider may have taken it: the retry asks first, as a
			// takeover does (reconcile.go), instead of sending it again.
			c.TakenOver = true
		}
		e.log.Warn("notification failed; retrying", "incident", inc.ID, "person", p.User, "chat_channel", p.ChatChannel,
			"channel", p.Channel, "kind", p.Kind, "reason", string(cause), "attempt", c.Attempt+1, "next_at", due, "err", err)
		if rerr := e.record(ctx, inc.ID, nil, event(e.now(), "notify_retry", "", "to", who(p), "channel", p.Channel,
			"error", err.Error(), "reason", string(cause), "attempt", strconv.Itoa(c.Attempt+1), "next_at", due.Format(time.RFC3339))); rerr != nil {
			return rerr
		}
		if rerr := e.untilStored(ctx, func(ctx context.Context) error { return e.opts.Store.Retry(ctx, c, due) }); rerr != nil && !errors.Is(rerr, store.ErrStaleClaim) {
			return fmt.Errorf("deliver: retry: %w", rerr)
		}
		return errRetried
	}
	if ferr := e.fail(ctx, inc, p, err.Error(), cause, c.Attempt+1); ferr != nil {
		return ferr
	}
	// fail records and schedules the failover; the page's own timer is done.
	if cerr := e.untilStored(ctx, func(ctx context.Context) error { return e.opts.Store.Complete(ctx, c) }); cerr != nil && !errors.Is(cerr, store.ErrStaleClaim) {
		return fmt.Errorf("deliver: complete failed page: %w", cerr)
	}
	return errDone
}

// bundleKey names a bundle by its timers: the same pages make the same key
// on every attempt and replica, for the provider's idempotency and the pacer.
func bundleKey(claims []store.Claim) string {
	ids := make([]string, len(claims))
	for i, c := range claims {
		ids[i] = c.ID
	}
	slices.Sort(ids)
	h := sha256.Sum256([]byte(strings.Join(ids, "\x00")))
	return "bundle/" + hex.EncodeToString(h[:12])
}

func bundleIDs(items []bundled) string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = strconv.FormatInt(it.inc.ID, 10)
	}
	return strings.Join(ids, ",")
}

// bundleMessage is one message for several pages: the first page's
// addressing, and a text listing every incident, each with its id and one
// line, ending with the ack hint of each id, the last line, which the SMS
// channel never cuts.
func bundleMessage(msgs []*channels.Message, key string, items []bundled) *channels.Message {
	m := *msgs[0]
	m.IdempotencyKey, m.Ref = key, msgRef(key)
	// Without Alertmanager data the voice channel reads the subject, which
	// names every incident, instead of the first group's summary.
	m.Data = nil
	m.BodyTemplate = ""
	t := catalog.For(m.Language)
	var lines, hints, spoken []string
	firing := 0
	for _, bm := range msgs {
		title := bm.Subject
		if d, err := template.NewData(bm); err == nil && d.Title != "" {
			title = d.Title
		}
		line := fmt.Sprintf("#%d", bm.IncidentID)
		if bm.Incident.Severity != "" {
			line += " [" + bm.Incident.Severity + "]"
		}
		if bm.Incident.Department != "" {
			line += " " + bm.Incident.Department + ":"
		}
		lines = append(lines, line+" "+title)
		spoken = append(spoken, fmt.Sprintf("%d %s", bm.IncidentID, title))
		firing += bm.Incident.FiringAlerts
		hints = append(hints, t.T("bundle.hint", bm.IncidentID))
	}
	m.Incident.FiringAlerts = firing
	m.Subject = t.T("bundle.subject", len(msgs), strings.Join(spoken, t.T("bundle.subject_sep")))
	m.Text = t.T("bundle.text", len(msgs), strings.Join(lines, "\n"), strings.Join(hints, t.T("bundle.hint_sep")))
	cb := callback{Incident: items[0].inc.ID, Payload: items[0].p, Sent: sentKey(m.IdempotencyKey)}
	for _, it := range items[1:] {
		cb.More = append(cb.More, callback{Incident: it.inc.ID, Payload: it.p})
	}
	m.Callback = base64.RawURLEncoding.EncodeToString(payload(cb))
	return &m
}
