package router

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// retryScan is how many resolved incidents ActedOn looks through to
// recognise a provider's retry of a request that already resolved one.
const retryScan = 50

// receiver is the engine as the channels' inbound sides see it: every
// reply, key press and delivery report reaches incidents through it.
type receiver struct{ e *Engine }

// Receiver is the engine behind channels.Receiver, for the inbound sides.
func (e *Engine) Receiver() channels.Receiver { return receiver{e} }

func (r receiver) Config() *config.Config { return r.e.Policies().Config() }

func (r receiver) Owners(channel, addr string) []*config.User {
	if strings.TrimSpace(addr) == "" {
		return nil
	}
	var out []*config.User
	for _, u := range r.Config().Users {
		if sameContact(channel, address(u.Contacts, config.Channel(channel)), addr) {
			out = append(out, u)
		}
	}
	return out
}

// sameContact compares two addresses on one channel: mail systems ignore
// the case of a domain, and no provider hands out local parts that differ
// only in case; numbers and ids are compared exactly.
func sameContact(channel, a, b string) bool {
	if a == "" {
		return false
	}
	if channel == string(config.ChannelEmail) {
		return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
	}
	return a == b
}

func (r receiver) Act(ctx context.Context, a channels.Action) (channels.Result, error) {
	inc, done, err := r.e.Act(ctx, Action{Incident: a.Incident, Verb: string(a.Verb), User: a.User, Via: a.Via,
		Dedup: a.Dedup, Replayed: a.Replayed})
	var res channels.Result
	switch {
	case errors.Is(err, ErrReplayed):
		res.Outcome = channels.Replayed
	case errors.Is(err, ErrResolved):
		res.Outcome = channels.AlreadyResolved
	case errors.Is(err, ErrNotFound):
		res.Outcome = channels.NotFound
	case errors.Is(err, ErrForbidden):
		res.Outcome, res.Reason = channels.Forbidden, err.Error()
	case err != nil:
		return res, err
	case inc == nil:
		return res, fmt.Errorf("router: acting on incident %d returned no incident", a.Incident)
	case done:
		res.Outcome = channels.Done
	case a.Dedup != "" && slices.Contains(inc.Handled, a.Dedup):
		res.Outcome, res.Retry = channels.Done, true
	case inc.Status == store.StatusResolved:
		res.Outcome = channels.AlreadyResolved
	default:
		res.Outcome = channels.AlreadyAcked
	}
	if inc != nil && res.Outcome != channels.NotFound {
		res.Incident = r.e.incidentInfo(inc, &notifyPayload{})
	}
	return res, nil
}

// Paged reads the timelines of the open and acknowledged incidents. A
// channel of "" means any channel: a person paged by voice may answer by SMS.
func (r receiver) Paged(ctx context.Context, user, channel string) ([]channels.Delivery, error) {
	var out []channels.Delivery
	for _, st := range []store.Status{store.StatusOpen, store.StatusAcked} {
		incs, err := r.e.opts.Store.List(ctx, store.ListOptions{Status: st})
		if err != nil {
			return nil, fmt.Errorf("list %s incidents: %w", st, err)
		}
		for _, inc := range incs {
			ds, err := r.Deliveries(ctx, inc.ID)
			if err != nil {
				return nil, err
			}
			for _, d := range ds {
				if d.Kind == channels.KindPage && d.User == user && (channel == "" || d.Channel == channel) {
					d.Status = string(inc.Status)
					out = append(out, d)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b channels.Delivery) int { return int(a.Incident - b.Incident) })
	return out, nil
}

func (r receiver) Deliveries(ctx context.Context, id int64) ([]channels.Delivery, error) {
	evs, err := r.e.opts.Store.Timeline(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("incident %d: %w", id, channels.ErrNoIncident)
	case err != nil:
		return nil, fmt.Errorf("timeline of incident %d: %w", id, err)
	}
	var out []channels.Delivery
	for _, ev := range evs {
		if ev.Type != "notified" {
			continue
		}
		d := channels.Delivery{Incident: id, Kind: channels.Kind(ev.Detail["kind"]), Channel: ev.Detail["channel"],
			ProviderID: ev.Detail["provider_id"], At: ev.At}
		if chat, ok := strings.CutPrefix(ev.Detail["to"], "#"); ok {
			d.To = chat
		} else {
			d.User = ev.Detail["to"]
		}
		out = append(out, d)
	}
	return out, nil
}

// ActedOn looks through the open and acknowledged incidents and the
// newest resolved ones: a provider retries within minutes.
func (r receiver) ActedOn(ctx context.Context, dedup string) (int64, error) {
	if dedup == "" {
		return 0, nil
	}
	for _, opt := range []store.ListOptions{{Status: store.StatusOpen}, {Status: store.StatusAcked},
		{Status: store.StatusResolved, Limit: retryScan}} {
		incs, err := r.e.opts.Store.List(ctx, opt)
		if err != nil {
			return 0, fmt.Errorf("list %s incidents: %w", opt.Status, err)
		}
		for _, inc := range incs {
			if slices.Contains(inc.Handled, dedup) {
				return inc.ID, nil
			}
		}
	}
	return 0, nil
}

func (r receiver) Seen(ctx context.Context, via, key string, keep time.Duration) (bool, error) {
	return r.e.seen(ctx, via, key, keep)
}

func (r receiver) Unsee(ctx context.Context, via, key string) { r.e.unsee(ctx, via, key) }

func (r receiver) SetOptOut(ctx context.Context, addr string, out bool) error {
	if err := r.e.opts.Store.SetOptOut(ctx, addr, out); err != nil {
		return fmt.Errorf("router: recording the opt-out of %s: %w", addr, err)
	}
	return nil
}

func (r receiver) DeliveryFailed(ctx context.Context, token, reason string) error {
	return r.e.DeliveryFailed(ctx, token, reason)
}

func (r receiver) DeliveryAccepted(ctx context.Context, token, providerID string) error {
	return r.e.DeliveryAccepted(ctx, token, providerID)
}

func (r receiver) Note(ctx context.Context, id int64, n channels.Note) error {
	ev := store.Event{At: r.e.now(), Type: n.Type, Actor: n.Actor, Detail: n.Detail}
	err := r.e.record(ctx, id, nil, ev)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("incident %d: %w", id, channels.ErrNoIncident)
	}
	return err
}

func (r receiver) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	sender := (*r.e.senders.Load())[m.Channel]
	if sender == nil {
		return channels.Receipt{}, channels.Permanent("", fmt.Errorf("no %s provider is configured", m.Channel))
	}
	return sender.Send(ctx, m)
}

func (r receiver) Unknown(_ context.Context, channel, addr string) {
	r.e.log.Warn("request from an address no user has: not answered, nothing changed", "channel", channel, "from", addr)
	r.e.metrics.unknownSenders.WithLabelValues(channel).Inc()
}

// For the email reply listener (channels/email).

func (r receiver) Noted(ctx context.Context, id int64, typ string) ([]channels.Note, error) {
	evs, err := r.e.opts.Store.Timeline(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("incident %d: %w", id, channels.ErrNoIncident)
	case err != nil:
		return nil, fmt.Errorf("timeline of incident %d: %w", id, err)
	}
	var out []channels.Note
	for _, ev := range evs {
		if ev.Type == typ {
			out = append(out, channels.Note{Type: ev.Type, Actor: ev.Actor, Detail: ev.Detail})
		}
	}
	return out, nil
}
