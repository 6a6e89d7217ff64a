package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// An incident that opens muted (maintenance), held (inactive: hold) or for
// stakeholders only pages nobody yet. It is routed again when that decision
// ends, by a store timer (kindRecheck), so neither a restart nor the loss of
// a replica forgets it; a reload routes every waiting incident again at once.
// This is Alertmanager's mute_time_intervals in spirit: a muted alert that
// still fires notifies once the interval is over.

// waitReasons name a waiting decision in store.Wait and in the timeline
// (maintenance_ended, hold_ended, stakeholders_ended).
var waitReasons = map[policies.Action]string{
	policies.ActionMaintenance:  "maintenance",
	policies.ActionHold:         "hold",
	policies.ActionStakeholders: "stakeholders",
}

// wait is what an incident decided d waits for, or nil when d is final.
func (e *Engine) wait(set *policies.Set, d policies.Decision, now time.Time) *store.Wait {
	until, ok := set.MutedUntil(d, now)
	if !ok {
		return nil
	}
	if !until.After(now) {
		// Routing again at once would decide the same and loop.
		e.log.Error("a waiting decision ends before it starts; routing again in a minute", "route", d.Route,
			"action", string(d.Action), "window", d.Maintenance, "until", until.Format(time.RFC3339))
		until = now.Add(time.Minute)
	}
	return &store.Wait{Reason: waitReasons[d.Action], Window: d.Maintenance, Until: until}
}

// recheck routes a waiting incident again when its wait is over.
func (e *Engine) recheck(ctx context.Context, c store.Claim) error {
	// One config for the whole operation, however often the store runs its
	// update, with the stored mutes as they are now.
	set, err := e.livePolicies(ctx)
	if err != nil {
		return err
	}
	var p genPayload
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		e.log.Error("bad recheck timer payload: dropping it", "timer", c.ID, "err", err)
		return nil
	}
	res, err := e.opts.Store.Update(ctx, c.IncidentID, func(cur *store.Incident) (*store.Change, error) {
		if cur.Status != store.StatusOpen || cur.Wait == nil || cur.Escalation.Generation != p.Gen {
			return nil, nil // resolved, acked, or paging already: nothing waits
		}
		ch := e.rerouteChange(set, cur)
		if ch != nil {
			ch.Cancel = append(ch.Cancel, c.ID)
		}
		return ch, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		e.log.Error("recheck timer of a missing incident: dropping it", "timer", c.ID, "incident", c.IncidentID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("recheck: %w", err)
	}
	e.afterReroute(res.Incident, store.OutcomeOf[rerouted](res).paged)
	if res.Written {
		return errDone
	}
	return nil
}

// rerouted is what rerouteChange started.
type rerouted struct{ paged bool }

// afterReroute logs and wakes the scheduler for what rerouteChange started.
func (e *Engine) afterReroute(inc *store.Incident, paged bool) {
	if inc == nil || !paged {
		return
	}
	e.log.Info("waiting incident routed again: paging", "incident", inc.ID, "route", inc.Route,
		"department", inc.Department, "policy", inc.Policy)
	e.kick()
}

// rerouteChange routes the waiting incident cur through the routes in force
// now and starts what the decision says: its escalation, another wait (the
// next of overlapping windows, a later hold), or nothing (a drop route, or
// a continue route gone). nil means the decision is the wait already in force.
// Its Outcome is rerouted{paged: true} when the escalation starts.
func (e *Engine) rerouteChange(set *policies.Set, cur *store.Incident) *store.Change {
	now := e.now()
	old := *cur.Wait
	inc := *cur
	ch := &store.Change{Incident: &inc}
	d, why := e.decisionFor(set, cur, now)
	kind := old.Reason + "_ended"
	if why != "" {
		inc.Wait = nil
		ch.Events = append(ch.Events, event(now, kind, "", "window", old.Window, "decision", "none", "note", why))
		e.log.Warn("waiting incident routed again: nobody paged", "incident", cur.ID, "reason", why)
		return ch
	}
	var w *store.Wait
	if d.Action != policies.ActionDrop {
		w = e.wait(set, d, now)
	}
	if w != nil && w.Reason == old.Reason && w.Window == old.Window {
		if w.Until.Equal(old.Until) {
			return nil
		}
		kind = "wait_changed"
	}
	if d.Action != policies.ActionDrop {
		// A drop decides nothing about who owns the incident: it keeps its own.
		inc.Route, inc.Department, inc.Policy, inc.Severity = d.Route, d.Department, d.Policy, d.Severity
	}
	inc.UpdatedAt = now
	var until string
	if w != nil {
		until = w.Until.Format(time.RFC3339)
	}
	ch.Events = append(ch.Events, event(now, kind, "", "window", old.Window, "decision", string(d.Action),
		"route", d.Route, "department", d.Department, "policy", d.Policy, "severity", d.Severity,
		"next_window", d.Maintenance, "until", until, "note", d.Note))
	inc.Wait = w
	reporting := old.Reporting
	switch {
	case d.Action == policies.ActionDrop:
		e.log.Warn("waiting incident now matches a drop route: nobody paged", "incident", cur.ID, "route", d.Route)
		return ch
	case w != nil:
		ch.Schedule = append(ch.Schedule, recheckTimer(&inc, w.Until))
		if w.Reason == waitReasons[policies.ActionMaintenance] {
			w.Reporting = reporting
			return ch
		}
	default:
		ch.Outcome = rerouted{paged: true}
		ch.Schedule = append(ch.Schedule, stepTimer(&inc, 0, 0, now))
	}
	if !reporting && e.hasStakeholders(set, &inc) {
		reportAt(ch, &inc, now)
		reporting = true
	}
	if w != nil {
		w.Reporting = reporting
	}
	return ch
}

// decisionFor is the decision of the routes in force for cur: its own
// route's if that still matches the group, else, for the group's first
// incident, the first decision (the route that takes the group now). A
// continue route's incident whose route no longer matches has none: why
// says so, and the group's other incidents page.
func (e *Engine) decisionFor(set *policies.Set, cur *store.Incident, now time.Time) (policies.Decision, string) {
	msg, err := DecodeMessage(cur.Message)
	if err != nil {
		// The store refuses messages that are not JSON, so this is a decoder
		// change: page as the incident was opened rather than stay muted.
		e.log.Error("stored message unreadable: paging the waiting incident as it was opened", "incident", cur.ID, "err", err)
		return policies.Decision{Route: cur.Route, Department: cur.Department, Policy: cur.Policy, Severity: cur.Severity,
			Action: policies.ActionPage, Note: "stored message unreadable: paging as opened"}, ""
	}
	ds := set.Route(msg.Labels(), now)
	for _, d := range ds {
		if d.Route == cur.Route {
			return d, ""
		}
	}
	if isFirst(cur) {
		return ds[0], ""
	}
	return policies.Decision{}, fmt.Sprintf("route %q, the continue route that opened this incident, no longer matches the group", cur.Route)
}

// isFirst tells a group's first incident from one a continue route opened.
// Incidents stored before Group existed tell by their key's "#route" suffix.
func isFirst(inc *store.Incident) bool {
	if inc.Group != "" {
		return inc.Key == inc.Group
	}
	return !strings.HasSuffix(inc.Key, "#"+inc.Route)
}

// recheckWaiting routes every waiting incident again now, after a reload:
// the window or interval it waits for may have moved or gone. A failure
// leaves the incident's own recheck timer, which still fires at its old
// time; the error says how many could not be routed again.
func (e *Engine) recheckWaiting(ctx context.Context) error {
	set, err := e.livePolicies(ctx) // one config for the whole sweep, however often the store runs each update
	if err != nil {
		return err
	}
	incs, err := e.opts.Store.List(ctx, store.ListOptions{Status: store.StatusOpen})
	if err != nil {
		return fmt.Errorf("list open incidents: %w", err)
	}
	var errs []error
	for _, listed := range incs {
		if listed.Wait == nil {
			continue
		}
		res, err := e.opts.Store.Update(ctx, listed.ID, func(cur *store.Incident) (*store.Change, error) {
			if cur.Status != store.StatusOpen || cur.Wait == nil {
				return nil, nil
			}
			return e.rerouteChange(set, cur), nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("incident %d: %w", listed.ID, err))
			continue
		}
		e.afterReroute(res.Incident, store.OutcomeOf[rerouted](res).paged)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d waiting incidents not routed again (their timers still fire): %w", len(errs), errors.Join(errs...))
	}
	return nil
}
