package router

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// errRetried tells handle that deliver already put the claim back for a retry.
var errRetried = errors.New("retry scheduled")

// errDone tells handle that the timer was removed by the handler's own write,
// so there is nothing left to Complete.
var errDone = errors.New("timer completed with its write")

// deliver sends one outbox entry. A page for an incident acked or resolved
// since it was scheduled is dropped; transient failures retry with backoff;
// permanent ones fail over to the person's next contact method at once.
func (e *Engine) deliver(ctx context.Context, c store.Claim) error {
	var p notifyPayload
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		return poison(fmt.Errorf("decode notify timer payload: %w", err))
	}
	inc, err := e.opts.Store.Get(ctx, c.IncidentID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	if p.Kind == "page" && (inc.Status != store.StatusOpen || inc.Escalation.Generation != p.Gen) {
		return nil // acked or resolved meanwhile: this page must not go out
	}
	if err := e.holdBack(ctx, c.ID, &p, []store.Claim{c}); err != nil {
		return err // postponed (errDone) under a rate, or the store failed
	}
	msg, err := e.message(inc, &p, c.ID)
	if err == nil {
		var rc channels.Receipt
		var reconciled string
		if c.TakenOver {
			if rc, reconciled, err = e.reconcile(ctx, msg, reconcileSince(c, &p), c.Attempt); err != nil {
				return err // retried with backoff; the next attempt asks again
			}
		}
		if reconciled != reconcileFound {
			if err := e.stillHeld(ctx, c); err != nil {
				return errDone // taken over meanwhile: the new holder sends it
			}
			rc, err = e.send(ctx, msg)
		}
		leaveLane(ctx)
		if err == nil {
			return e.finish(ctx, c, sentDelivery(&p, msg, rc, e.now()), event(e.now(), sentEvent(rc), "", append([]string{"to", who(&p), "channel", p.Channel,
				"kind", p.Kind, "provider_id", rc.ProviderID, "attempt", strconv.Itoa(c.Attempt + 1)}, reconciledDetail(reconciled)...)...))
		}
	}
	return e.sendFailed(ctx, c, inc, &p, err)
}

// send hands one message to its channel's sender, within the claim's lease.
// A number that opted out by STOP is a permanent failure, so the caller
// fails over without a wasted send.
func (e *Engine) send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	if m.Channel == "sms" {
		if err := e.smsOptedOut(ctx, m.To); err != nil {
			return channels.Receipt{}, err
		}
	}
	sender := (*e.senders.Load())[m.Channel]
	if sender == nil {
		return channels.Receipt{}, channels.Permanent("", fmt.Errorf("no %s provider is configured", m.Channel))
	}
	sctx, cancel := context.WithTimeout(ctx, e.opts.Lease*4/5)
	defer cancel()
	rc, err := sender.Send(sctx, m)
	switch {
	case err == nil && rc.Recorded:
		e.metrics.notifications.WithLabelValues(m.Channel, resultRecorded, "").Inc()
	case err == nil:
		e.metrics.notifications.WithLabelValues(m.Channel, resultSent, "").Inc()
		e.providerAnswered(m.Channel)
	case channels.IsAuthFailure(err):
		e.providerRefused(m, err)
	}
	return rc, err
}

// sentEvent is the timeline event of a message its sender took: notified,
// or recorded when nothing was sent (--dry-run), which no reader of the
// timeline (replies, updates, reports) may take for a delivered page.
func sentEvent(rc channels.Receipt) string {
	if rc.Recorded {
		return "recorded"
	}
	return "notified"
}

// fail records a notification that will not arrive and fails over to the
// person's next contact method at once. With no method left the page is
// given up: nobody hears of it on this path, so that is an ERROR.
func (e *Engine) fail(ctx context.Context, inc *store.Incident, p *notifyPayload, reason string, cause channels.Reason, attempts int) error {
	ev := event(e.now(), "notify_failed", "", "to", who(p), "channel", p.Channel, "error", reason,
		"reason", string(cause), "attempts", strconv.Itoa(attempts))
	var next []store.Timer
	nextCh := e.failover(p)
	if nextCh != "" {
		fp := *p
		fp.Failed = append(slices.Clone(p.Failed), p.Channel)
		fp.Channel = nextCh
		next = append(next, notifyTimer(inc, fp, 0, e.now()))
		ev.Detail["failover_to"] = nextCh
		e.kick()
	}
	log := e.log.With("incident", inc.ID, "person", p.User, "chat_channel", p.ChatChannel, "channel", p.Channel,
		"kind", p.Kind, "reason", string(cause), "attempts", attempts, "err", reason)
	if nextCh != "" {
		e.metrics.notifications.WithLabelValues(p.Channel, resultFailed, string(cause)).Inc()
		log.Warn("notification failed; failing over to the next contact method", "failover_to", nextCh)
	} else {
		e.metrics.notifications.WithLabelValues(p.Channel, resultGivenUp, string(cause)).Inc()
		log.Error("notification given up: no other contact method is left", "tried", strings.Join(p.Failed, ","))
	}
	return e.record(ctx, inc.ID, next, ev)
}

// finish records evs and the deliveries ds and completes the claimed timer in the same write,
// after the send: one store write instead of two, and no crash between them
// can make the message go out twice. The write is fenced on the claim: it
// goes through only while this replica still holds the timer. The message
// is out and cannot be taken back, so a store failing now (a Redis restart,
// a Sentinel failover) is retried for up to finishMaxWait: the claim is
// renewed meanwhile (keepClaims) and its lease stands still while Redis is
// away, so nobody else sends it again and the write succeeds once Redis is
// back.
func (e *Engine) finish(ctx context.Context, c store.Claim, ds []store.Delivery, evs ...store.Event) error {
	err := e.untilStored(ctx, func(ctx context.Context) error {
		_, err := e.opts.Store.Update(ctx, c.IncidentID, func(cur *store.Incident) (*store.Change, error) {
			inc := *cur
			return &store.Change{Incident: &inc, Events: evs, Deliveries: ds, Complete: &c}, nil
		})
		return err
	})
	switch {
	case err == nil:
		return errDone
	case errors.Is(err, store.ErrStaleClaim):
		// Another replica holds the timer now and may send it again:
		// what went out is still said on the timeline.
		e.log.Warn("the claim on a sent message was lost before its send was recorded; another replica may send it again",
			"timer", c.ID, "incident", c.IncidentID)
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer rcancel()
		_, rerr := e.opts.Store.Update(rctx, c.IncidentID, func(cur *store.Incident) (*store.Change, error) {
			inc := *cur
			return &store.Change{Incident: &inc, Events: evs, Deliveries: ds}, nil
		})
		if rerr != nil {
			return fmt.Errorf("record %s: %w", evs[0].Type, rerr)
		}
		return errDone
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("record %s: %w", evs[0].Type, err)
	}
	e.log.Error("a sent message could not be recorded: the store failed for too long; it may be sent again",
		"timer", c.ID, "incident", c.IncidentID, "tried_for", finishMaxWait, "err", err)
	return fmt.Errorf("record %s: %w", evs[0].Type, err)
}

// finishMaxWait bounds how long finish retries recording a sent message,
// and untilStored any write that ends a claim.
const finishMaxWait = 10 * time.Minute

// ErrBadCallback is a delivery callback whose token cannot be read: asking
// the provider to retry it would not help.
var ErrBadCallback = channels.ErrBadCallback

// callback is the token a provider hands back in its status callback.
type callback struct {
	Incident int64         `json:"i"`
	Payload  notifyPayload `json:"p"`
	// Sent names the outbox entry (sentKey of its idempotency key): a
	// callback saying the provider took the message marks it sent, for a
	// replica that takes the entry over after its sender vanished.
	Sent string `json:"s,omitempty"`
	// More are the other pages of a bundled message: its failure is theirs too.
	More []callback `json:"m,omitempty"`
}

func callbackToken(inc *store.Incident, p *notifyPayload, key string) string {
	return base64.RawURLEncoding.EncodeToString(payload(callback{Incident: inc.ID, Payload: *p, Sent: sentKey(key)}))
}

// DeliveryFailed acts on a provider's later report that a message it had
// accepted did not arrive (undelivered SMS, unanswered call): the timeline
// says so and the person's next contact method is tried at once. A page
// for an incident acked or resolved since is left alone.
func (e *Engine) DeliveryFailed(ctx context.Context, token, reason string) error {
	cb, err := readCallback(token)
	if err != nil {
		return err
	}
	for _, more := range cb.More {
		if err := e.deliveryFailed(ctx, more, reason); err != nil {
			return err
		}
	}
	return e.deliveryFailed(ctx, cb, reason)
}

// readCallback decodes a callback token hikyaku handed a provider.
func readCallback(token string) (callback, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	var cb callback
	if err == nil {
		err = json.Unmarshal(raw, &cb)
	}
	if err != nil || cb.Incident <= 0 {
		return callback{}, ErrBadCallback
	}
	return cb, nil
}

func (e *Engine) deliveryFailed(ctx context.Context, cb callback, reason string) error {
	inc, err := e.opts.Store.Get(ctx, cb.Incident)
	if err != nil {
		return fmt.Errorf("router: delivery callback: %w", err)
	}
	p := cb.Payload
	if stale(inc, &p) {
		return nil
	}
	// The provider took the message and the carrier did not deliver it, or
	// nobody answered the call: the address, not the request, is the trouble.
	return e.fail(ctx, inc, &p, reason, channels.ReasonClient, 1)
}

// record appends a timeline event (and schedules timers) without touching the incident's state.
func (e *Engine) record(ctx context.Context, id int64, timers []store.Timer, evs ...store.Event) error {
	_, err := e.opts.Store.Update(ctx, id, func(cur *store.Incident) (*store.Change, error) {
		inc := *cur
		return &store.Change{Incident: &inc, Events: evs, Schedule: timers}, nil
	})
	if err != nil {
		return fmt.Errorf("record %s: %w", evs[0].Type, err)
	}
	return nil
}

// failover picks the person's next contact method: their own rules' order
// first, then any contact they have, skipping what already failed and what
// their rules have already fired for this page (it is under way anyway).
func (e *Engine) failover(p *notifyPayload) string {
	if p.User == "" || p.Only {
		return ""
	}
	cfg := e.Policies().Config()
	u := cfg.User(p.User)
	if u == nil {
		return ""
	}
	var order []config.Channel
	tried := slices.Clone(p.Failed)
	for _, r := range u.Notify {
		order = append(order, r.Channels...)
		if p.Kind == "page" && !p.Paged.IsZero() && !p.Paged.Add(r.After.D()).After(e.now()) {
			for _, c := range r.Channels {
				tried = append(tried, string(c))
			}
		}
	}
	for _, spec := range cfg.Channels() {
		order = append(order, spec.Name)
	}
	if p.Kind != "page" {
		// A report is read, not rung: calls never carry one.
		order = slices.DeleteFunc(order, func(c config.Channel) bool {
			spec, _ := cfg.ChannelSpec(c)
			return !spec.Written()
		})
	}
	for _, ch := range order {
		c := string(ch)
		if c != p.Channel && !slices.Contains(tried, c) && u.Contacts.Has(ch) {
			return c
		}
	}
	return ""
}

// backoff is exponential with full jitter, capped, so a provider outage is
// not met by every replica retrying in step.
func backoff(attempt int) time.Duration {
	base := time.Second << min(attempt, 6)
	return base/2 + rand.N(base/2+1)
}

func who(p *notifyPayload) string {
	if p.ChatChannel != "" {
		return "#" + p.ChatChannel
	}
	return p.User
}
