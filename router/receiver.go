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
		if sameContact(channel, u.Contacts.Get(config.Channel(channel)), addr) {
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
	if a.Verb == channels.TakeRole || a.Verb == channels.AddNote {
		return r.run(ctx, a)
	}
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
		res.Outcome, res.Reason = channels.Forbidden, ForbiddenReason(r.Config(), err, a.User)
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

// run gives a role or adds a note for an inbound side: the person takes
// the role themselves, and what they wrote is the note's text.
func (r receiver) run(ctx context.Context, a channels.Action) (channels.Result, error) {
	var inc *store.Incident
	var done bool
	var err error
	if a.Verb == channels.TakeRole {
		inc, done, err = r.e.SetRole(ctx, RoleChange{Incident: a.Incident, Role: a.Role, User: a.User, Actor: a.User, Via: a.Via,
			Dedup: a.Dedup, Replayed: a.Replayed})
	} else {
		inc, err = r.note(ctx, a)
		done = err == nil
	}
	var res channels.Result
	switch {
	case errors.Is(err, ErrReplayed):
		res.Outcome = channels.Replayed
	case errors.Is(err, ErrNotFound):
		res.Outcome = channels.NotFound
	case errors.Is(err, ErrForbidden):
		res.Outcome, res.Reason = channels.Forbidden, ForbiddenReason(r.Config(), err, a.User)
	case errors.Is(err, ErrBadRole), errors.Is(err, ErrNotUser), errors.Is(err, ErrBadNote):
		res.Outcome, res.Reason = channels.Invalid, err.Error()
	case err != nil:
		return res, err
	case inc == nil:
		return res, fmt.Errorf("router: %s on incident %d returned no incident", a.Verb, a.Incident)
	case a.Dedup != "" && slices.Contains(inc.Handled, a.Dedup) && (!done || a.Verb == channels.AddNote && a.Replayed):
		res.Outcome, res.Retry = channels.Done, true
	case done:
		res.Outcome = channels.Done
	default:
		res.Outcome = channels.Unchanged
	}
	if inc != nil {
		cfg := r.Config()
		res.Incident = r.e.incidentInfo(inc, &notifyPayload{})
		lang := cfg.Global.Language
		if u := cfg.User(a.User); u != nil && u.Language != "" {
			lang = u.Language
		}
		res.Incident.RoleTitles = map[string]string{}
		for _, role := range config.IncidentRoleIDs {
			res.Incident.RoleTitles[role] = roleTitle(cfg, role, lang)
		}
	}
	return res, nil
}

// note adds a channel's note, and sets the current severity it names as
// the API's severity change does, after it: the note's write is the one
// that knows a provider's retry. The severity is checked first, so a bad
// one refuses the whole note and nothing is written; setting it again on
// a retry changes nothing.
func (r receiver) note(ctx context.Context, a channels.Action) (*store.Incident, error) {
	n := a.Note
	sc := SeverityChange{Incident: a.Incident, Severity: n.Severity, Reason: n.SeverityReason, Actor: a.User, Via: a.Via}
	if n.Severity != "" {
		if err := sc.check(); err != nil {
			return nil, err
		}
	}
	f := n.Fields
	inc, err := r.e.AddNote(ctx, Note{Incident: a.Incident, Text: n.Text, Decision: n.Decision, Actor: a.User, Via: a.Via,
		Fields: NoteFields{Impact: f.Impact, Cause: f.Cause, ActionProvisional: f.ActionProvisional,
			ActionPermanent: f.ActionPermanent, Prevention: f.Prevention},
		Dedup: a.Dedup, Replayed: a.Replayed})
	if err != nil || n.Severity == "" {
		return inc, err
	}
	after, _, err := r.e.ChangeSeverity(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("the severity of the note on incident %d: %w", a.Incident, err)
	}
	if after != nil {
		inc = after
	}
	return inc, nil
}

// Posted reads the store's index of deliveries by provider id: a thread
// reply names its message only, and most messages in a channel hikyaku is
// in are no hikyaku message, so each lookup costs one read whatever the
// incidents kept.
func (r receiver) Posted(ctx context.Context, channel, providerID string) (channels.Delivery, error) {
	d, err := r.e.opts.Store.Posted(ctx, channel, providerID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return channels.Delivery{}, channels.ErrNoIncident
	case err != nil:
		return channels.Delivery{}, fmt.Errorf("the %s message %s: %w", channel, providerID, err)
	}
	return channelDelivery(d), nil
}

// Paged reads the store's index of pages by person, which holds the open
// and acknowledged incidents only. A channel of "" means any channel: a
// person paged by voice may answer by SMS.
func (r receiver) Paged(ctx context.Context, user, channel string) ([]channels.Delivery, error) {
	ds, err := r.e.opts.Store.Paged(ctx, user, channel)
	if err != nil {
		return nil, fmt.Errorf("pages of %s: %w", user, err)
	}
	out := make([]channels.Delivery, len(ds))
	for i, d := range ds {
		out[i] = channelDelivery(d)
	}
	return out, nil
}

func (r receiver) Deliveries(ctx context.Context, id int64) ([]channels.Delivery, error) {
	ds, err := r.e.opts.Store.Deliveries(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("incident %d: %w", id, channels.ErrNoIncident)
	case err != nil:
		return nil, fmt.Errorf("deliveries of incident %d: %w", id, err)
	}
	out := make([]channels.Delivery, len(ds))
	for i, d := range ds {
		out[i] = channelDelivery(d)
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
