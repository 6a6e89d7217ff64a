package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/store"
)

// kindUpdate rewrites the messages already posted about an incident once it
// is acked or resolved: a Slack page must not keep offering to acknowledge
// what someone already has.
const kindUpdate = "update"

// updateTimers schedules the rewrite of inc's posted messages, when a sender
// in force can rewrite; reports the timers to add to the ack's or resolve's
// write. The generation is the one after the change, so an ack's update and
// a later resolve's are two timers.
func (e *Engine) updateTimers(inc *store.Incident) []store.Timer {
	if len(e.updatable(false)) > 0 {
		return []store.Timer{genTimer(inc, kindUpdate, e.now())}
	}
	return nil
}

// rolesShower is an Updater whose posted pages show the incident's role
// holders (Slack's context line): a role change rewrites them too. Others
// (ntfy) say only the status, which a role change leaves as it is.
type rolesShower interface {
	channels.Updater
	ShowsRoles() bool
}

// updatePayload is an update timer's: Roles says a role change asked for
// it, so only the channels that show roles are rewritten.
type updatePayload struct {
	Gen   int  `json:"gen"`
	Roles bool `json:"roles,omitempty"`
}

// rolesUpdateTimers schedules the rewrite of inc's pages on the channels
// that show role holders, for the write that changes them; cur is the
// incident before it. Its id names that version, so a rewrite already
// running or pending for an earlier change does not stand in for this one.
func (e *Engine) rolesUpdateTimers(cur *store.Incident) []store.Timer {
	if len(e.updatable(true)) == 0 {
		return nil
	}
	g := cur.Escalation.Generation
	return []store.Timer{{ID: fmt.Sprintf("%s/g%d/%s/roles/v%d", ref(cur), g, kindUpdate, cur.Version), Kind: kindUpdate,
		IncidentID: cur.ID, Due: e.now(), Payload: payload(updatePayload{Gen: g, Roles: true})}}
}

// updatable are the channels, in registry order, whose sender in force can
// rewrite what it posted (channels.Updater: Slack, ntfy); with onlyRoles,
// those whose pages show role holders (rolesShower).
func (e *Engine) updatable(onlyRoles bool) []string {
	var out []string
	senders := *e.senders.Load()
	for _, spec := range e.Policies().Config().Channels() {
		s, ok := senders[string(spec.Name)].(channels.Updater)
		if !ok {
			continue
		}
		if rs, shows := s.(rolesShower); onlyRoles && (!shows || !rs.ShowsRoles()) {
			continue
		}
		out = append(out, string(spec.Name))
	}
	return out
}

// posted is one page that went out and can be rewritten. Reports are left
// as written: they say how things stood then.
type posted struct {
	providerID string
	p          notifyPayload
}

// postedMessages are the pages among an incident's deliveries posted on an
// updatable channel, each once.
func postedMessages(ds []store.Delivery, updatable []string) []posted {
	var out []posted
	seen := map[string]bool{}
	for _, d := range ds {
		if d.Kind != "page" || d.ProviderID == "" || !slices.Contains(updatable, d.Channel) || seen[d.Channel+" "+d.ProviderID] {
			continue
		}
		seen[d.Channel+" "+d.ProviderID] = true
		out = append(out, posted{providerID: d.ProviderID,
			p: notifyPayload{Kind: d.Kind, Channel: d.Channel, User: d.User, ChatChannel: d.Chat}})
	}
	return out
}

// updateMessages rewrites every message posted about the incident to its
// state now. A transient failure retries the whole timer (rewriting is
// idempotent); what cannot be rewritten is said in the timeline and left.
func (e *Engine) updateMessages(ctx context.Context, c store.Claim) error {
	inc, err := e.opts.Store.Get(ctx, c.IncidentID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update messages: %w", err)
	}
	ds, err := e.opts.Store.Deliveries(ctx, c.IncidentID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update messages: %w", err)
	}
	var (
		out         []store.Event
		updated     = map[string]int{}
		transient   error
		transientCh string
	)
	var p updatePayload
	if len(c.Payload) > 0 {
		if err := json.Unmarshal(c.Payload, &p); err != nil {
			return fmt.Errorf("update messages: payload: %w", err)
		}
	}
	updatable := e.updatable(p.Roles)
	for _, pm := range postedMessages(ds, updatable) {
		// The step as it stands, not as it was when paged: the rewrite shows now.
		pm.p.Gen, pm.p.Round, pm.p.Step = inc.Escalation.Generation, inc.Escalation.Round, max(inc.Escalation.Step, 0)
		up, ok := (*e.senders.Load())[pm.p.Channel].(channels.Updater)
		if !ok {
			continue // the provider went with a reload
		}
		m, err := e.message(inc, &pm.p, c.ID+"/"+pm.providerID)
		if err == nil {
			sctx, cancel := context.WithTimeout(ctx, e.opts.Lease*4/5)
			err = up.Update(sctx, pm.providerID, m)
			cancel()
		}
		switch {
		case err == nil:
			updated[pm.p.Channel]++
			e.metrics.updates.WithLabelValues(pm.p.Channel, updateDone, "").Inc()
		case channels.IsPermanent(err):
			e.metrics.updates.WithLabelValues(pm.p.Channel, updateFailed, string(channels.ReasonOf(err))).Inc()
			e.log.Warn("updating a posted message failed", "incident", inc.ID, "person", pm.p.User,
				"chat_channel", pm.p.ChatChannel, "channel", pm.p.Channel, "reason", string(channels.ReasonOf(err)), "err", err)
			out = append(out, event(e.now(), "update_failed", "", "to", who(&pm.p), "channel", pm.p.Channel,
				"provider_id", pm.providerID, "error", err.Error()))
		default:
			transient, transientCh = err, pm.p.Channel
		}
	}
	if transient != nil && c.Attempt+1 < e.opts.MaxAttempts {
		due := e.now().Add(backoff(c.Attempt))
		if err := e.untilStored(ctx, func(ctx context.Context) error { return e.opts.Store.Retry(ctx, c, due) }); err != nil && !errors.Is(err, store.ErrStaleClaim) {
			return fmt.Errorf("update messages: retry: %w", err)
		}
		e.log.Warn("updating posted messages failed; retrying", "incident", inc.ID, "next_at", due.Format(time.RFC3339), "err", transient)
		return errRetried
	}
	if transient != nil {
		e.metrics.updates.WithLabelValues(transientCh, updateGivenUp, string(channels.ReasonOf(transient))).Inc()
		e.log.Warn("updating posted messages failed; giving up", "incident", inc.ID, "attempts", c.Attempt+1,
			"reason", string(channels.ReasonOf(transient)), "err", transient)
		out = append(out, event(e.now(), "update_failed", "", "error", transient.Error(),
			"attempts", strconv.Itoa(c.Attempt+1)))
	}
	for _, ch := range updatable {
		if n := updated[ch]; n > 0 {
			out = append(out, event(e.now(), "messages_updated", "", "channel", ch, "count", strconv.Itoa(n),
				"status", string(inc.Status)))
		}
	}
	if len(out) == 0 {
		return nil
	}
	return e.finish(ctx, c, nil, out...)
}
