package router

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// Errors people get back when acting on an incident.
var (
	ErrResolved = errors.New("incident is already resolved")
	ErrNotFound = errors.New("no such incident")
)

// Ingest records one webhook message durably and schedules what it starts.
// When it returns nil the message is safe in the store: answering 2xx is
// then a promise that no page will be lost.
//
// The routes in force decide which incidents a firing group opens. Updates
// and resolved follow the incidents already open for the group, whatever
// the routes say now: a reload that added a drop route or removed a
// continue route must not leave an incident that can never auto-resolve.
func (e *Engine) Ingest(ctx context.Context, msg *Message, raw []byte) ([]*store.Incident, error) {
	set := e.Policies()
	labels := msg.Labels()
	if hbs := heartbeatsFor(set.Config(), labels); len(hbs) > 0 {
		return nil, e.beat(ctx, hbs, msg) // a sign of life, not an incident
	}
	set, err := e.withStored(ctx, set) // the stored mutes decide too
	if err != nil {
		return nil, err
	}
	now := e.now()
	group := msg.Receiver + "/" + msg.GroupKey
	var routed []policies.Decision
	for _, d := range set.Route(labels, now) {
		if d.Action == policies.ActionDrop {
			e.metrics.dropped.WithLabelValues(d.Route).Inc()
			continue
		}
		routed = append(routed, d)
	}
	var out []*store.Incident
	// The group's first incident comes first: it lists the others.
	var first *policies.Decision
	if len(routed) > 0 {
		first = &routed[0]
	}
	var stored []string // continue keys the first incident lists
	var firstRoute string
	inc, err := e.ingestKey(ctx, set, group, group, first, msg, raw, func(cur *store.Incident) []string {
		stored, firstRoute = nil, ""
		if cur != nil {
			stored, firstRoute = cur.Continued, cur.Route
		}
		var keys []string
		for _, d := range continued(routed, firstRoute) {
			keys = append(keys, group+"#"+d.Route)
		}
		return keys
	})
	if err != nil {
		return out, err
	}
	if inc != nil {
		out = append(out, inc)
	}
	seen := map[string]bool{group: true}
	for _, d := range continued(routed, firstRoute) {
		key := group + "#" + d.Route
		seen[key] = true
		inc, err := e.ingestKey(ctx, set, group, key, &d, msg, raw, nil)
		if err != nil {
			return out, err
		}
		if inc != nil {
			out = append(out, inc)
		}
	}
	// Incidents continue routes opened that today's routes no longer reach.
	for _, key := range stored {
		if seen[key] {
			continue
		}
		seen[key] = true
		inc, err := e.ingestKey(ctx, set, group, key, nil, msg, raw, nil)
		if err != nil {
			return out, err
		}
		if inc != nil {
			out = append(out, inc)
		}
	}
	e.kick()
	return out, nil
}

// continued are the decisions that open incidents of their own, besides
// the group's first incident: every decision but the one that incident
// stands for. That is the decision of the route it was opened by, even when
// a reload moved that route down the file, else the first decision.
func continued(routed []policies.Decision, firstRoute string) []policies.Decision {
	mapped := 0
	for i, d := range routed {
		if d.Route == firstRoute {
			mapped = i
			break
		}
	}
	var out []policies.Decision
	for i, d := range routed {
		if i != mapped {
			out = append(out, d)
		}
	}
	return out
}

// ingestKey applies msg to the incident open under key: it refreshes or
// resolves it, or, when none is open and d is set, opens one for d. lists,
// for the group's first incident, gives the continue keys it must list.
func (e *Engine) ingestKey(ctx context.Context, set *policies.Set, group, key string, d *policies.Decision, msg *Message, raw []byte,
	lists func(cur *store.Incident) []string) (*store.Incident, error) {
	res, err := e.opts.Store.UpdateByKey(ctx, key, func(cur *store.Incident) (*store.Change, error) {
		var keys []string
		if lists != nil {
			keys = lists(cur)
		}
		switch {
		case cur == nil && (!msg.Firing() || d == nil):
			return nil, nil // resolved before we ever saw it firing, dropped, or not ours
		case cur == nil:
			ch := e.open(set, key, *d, msg, raw)
			ch.Incident.Group, ch.Incident.Continued = group, keys
			ch.Outcome = ingestOpened
			return ch, nil
		case !msg.Firing():
			ch := e.resolveChange(set, cur, "alertmanager", "alertmanager")
			if ch != nil {
				ch.Outcome = ingestResolved
			}
			return ch, nil
		default:
			ch := e.refresh(cur, msg, raw)
			if merged, grew := union(cur.Continued, keys); grew {
				if ch == nil {
					next := *cur
					ch = &store.Change{Incident: &next}
				}
				ch.Incident.Continued = merged
			}
			return ch, nil
		}
	})
	if err != nil {
		return nil, fmt.Errorf("router: ingest group %q: %w", msg.GroupKey, err)
	}
	inc := res.Incident
	switch {
	case !res.Written:
	case res.Outcome == ingestOpened:
		e.metrics.opened.WithLabelValues(inc.Department, inc.Severity).Inc()
		e.log.Info("incident opened", "incident", inc.ID, "route", inc.Route, "department", inc.Department, "policy", inc.Policy, "action", string(d.Action))
		e.observeDetect(inc, msg)
	case res.Outcome == ingestResolved:
		e.observeResolved(inc)
	}
	return inc, nil
}

// What an Alertmanager post did to the incident under its key.
type ingestOutcome int

const (
	ingestOpened ingestOutcome = iota + 1
	ingestResolved
)

// union is have with the keys it lacks appended, and whether it grew.
func union(have, keys []string) ([]string, bool) {
	out := have
	for _, k := range keys {
		if !slices.Contains(out, k) {
			out = append(slices.Clone(out), k)
		}
	}
	return out, len(out) != len(have)
}

// open builds a new incident for one routing decision.
func (e *Engine) open(set *policies.Set, key string, d policies.Decision, msg *Message, raw []byte) *store.Change {
	now := e.now()
	inc := &store.Incident{
		Key: key, Status: store.StatusOpen, CreatedAt: now, UpdatedAt: now, LastAlertAt: now,
		Department: d.Department, Policy: d.Policy, Route: d.Route, Severity: d.Severity,
		Escalation: store.Escalation{Step: -1}, Message: raw,
	}
	ch := &store.Change{Incident: inc, Events: []store.Event{
		event(now, "created", "alertmanager", "receiver", msg.Receiver, "group_key", msg.GroupKey,
			"alerts", strconv.Itoa(len(msg.Alerts)), "truncated_alerts", nonZero(msg.TruncatedAlerts)),
		event(now, "routed", "", "route", d.Route, "department", d.Department, "policy", d.Policy,
			"severity", d.Severity, "action", string(d.Action)),
	}}
	switch d.Action {
	case policies.ActionPage:
		ch.Schedule = append(ch.Schedule, stepTimer(inc, 0, 0, now))
	case policies.ActionHold:
		ch.Events = append(ch.Events, event(now, "held", "", "until", d.HoldUntil.Format(time.RFC3339)))
	case policies.ActionMaintenance:
		ch.Events = append(ch.Events, event(now, "maintenance", "", "window", d.Maintenance))
	case policies.ActionStakeholders:
		ch.Events = append(ch.Events, event(now, "stakeholders_only", "", "route", d.Route))
	}
	// Nobody is paged yet: route the incident again when the decision ends.
	if w := e.wait(set, d, now); w != nil {
		inc.Wait = w
		ch.Schedule = append(ch.Schedule, recheckTimer(inc, w.Until))
		if d.Action == policies.ActionMaintenance {
			return ch // recorded, nobody is paged or informed
		}
	}
	if e.hasStakeholders(set, inc) {
		reportAt(ch, inc, now)
		if inc.Wait != nil {
			inc.Wait.Reporting = true
		}
	}
	return ch
}

func nonZero(n uint64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatUint(n, 10)
}

// refresh stores a repeated post of an open group. Alertmanager re-sends on
// every group_interval and an HA pair sends twice: only a change in the
// alerts is worth a timeline line.
func (e *Engine) refresh(cur *store.Incident, msg *Message, raw []byte) *store.Change {
	now := e.now()
	// LastAlertAt tells a stale incident (retention.go); keeping it to the
	// hour costs one write per open group per hour, not one per re-send.
	touch := func() *store.Change {
		if now.Sub(lastAlert(cur)) < lastAlertResolution {
			return nil
		}
		inc := *cur
		inc.LastAlertAt = now
		return &store.Change{Incident: &inc}
	}
	// The same body again (a plain re-send) needs no decoding to compare.
	if bytes.Equal(bytes.TrimSpace(cur.Message), bytes.TrimSpace(raw)) {
		return touch()
	}
	old, err := DecodeMessage(cur.Message)
	if err == nil && alertSet(old) == alertSet(msg) {
		return touch()
	}
	inc := *cur
	inc.Message, inc.UpdatedAt, inc.LastAlertAt = raw, now, now
	return &store.Change{Incident: &inc, Events: []store.Event{
		event(now, "alerts_changed", "alertmanager", "firing", strconv.Itoa(len(msg.Alerts.Firing())),
			"resolved", strconv.Itoa(len(msg.Alerts.Resolved())), "truncated_alerts", nonZero(msg.TruncatedAlerts)),
	}}
}

// alertSet is a canonical form of which alerts are in which state.
func alertSet(m *Message) string {
	parts := make([]string, 0, len(m.Alerts))
	for _, a := range m.Alerts {
		parts = append(parts, a.Fingerprint+"="+a.Status)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",") + "/" + strconv.FormatUint(m.TruncatedAlerts, 10)
}

// resolveChange closes an incident: every pending page is cancelled and the
// stakeholders get their final report.
func (e *Engine) resolveChange(set *policies.Set, cur *store.Incident, actor, via string) *store.Change {
	now := e.now()
	inc := *cur
	inc.Status, inc.ResolvedAt, inc.UpdatedAt = store.StatusResolved, now, now
	inc.Escalation.Generation++
	ch := &store.Change{Incident: &inc, CancelIncidentTimers: true,
		Events: []store.Event{event(now, "resolved", actor, "via", via)}}
	ch.Schedule = append(ch.Schedule, e.stakeholderMessages(set, &inc, "resolved", finalReport(&inc, now))...)
	ch.Schedule = append(ch.Schedule, e.updateTimers(&inc)...)
	return ch
}

// Action is a person's request to ack, resolve or escalate an incident, from
// any channel.
type Action struct {
	Incident int64
	Verb     string // ack, resolve, escalate
	User     string // a configured user id, or ServiceActor on the API
	Via      string // api, sms, voice, email, slack, link
	// Dedup names the inbound request (Twilio's MessageSid, Slack's action
	// ts…): the same request acts once, however often the provider retries it.
	Dedup string
	// Replayed says Dedup's replay record existed already (Engine.seen): the
	// request acts only as a provider's retry of one in the incident's
	// Handled window, answered as the first was; else Act refuses it with
	// ErrReplayed.
	Replayed bool
}

// Errors of Act.
var (
	// ErrForbidden is what every refusal by the roles is (ForbiddenError).
	ErrForbidden = errors.New("not allowed: nothing was changed")
	ErrBadVerb   = errors.New("unknown action: want ack, resolve or escalate")
)

// handledKeep bounds Incident.Handled: providers retry within minutes.
const handledKeep = 32

// Act carries out a person's action. It returns the incident as it now
// stands, and done=false when nothing changed (already acked, or a retry of a
// request already handled).
func (e *Engine) Act(ctx context.Context, a Action) (inc *store.Incident, done bool, err error) {
	set := e.Policies() // one config for the whole operation, however often the store runs its update
	defer func() { e.auditAct(ctx, a, done, err) }()
	switch a.Verb {
	case "ack", "resolve", "escalate":
	default:
		return nil, false, ErrBadVerb
	}
	if err := e.authorize(ctx, a); err != nil {
		return nil, false, err
	}
	inc, done, err = e.update(ctx, a.Incident, func(cur *store.Incident) (*store.Change, error) {
		if a.Dedup != "" && slices.Contains(cur.Handled, a.Dedup) {
			return nil, nil
		}
		if a.Replayed {
			return nil, ErrReplayed
		}
		if cur.Drill != nil {
			return nil, ErrDrillNoAction
		}
		var ch *store.Change
		var err error
		switch a.Verb {
		case "ack":
			ch, err = e.ackChange(set, cur, a.User, a.Via)
		case "resolve":
			if cur.Status == store.StatusResolved {
				return nil, ErrResolved
			}
			ch = e.resolveChange(set, cur, a.User, a.Via)
		case "escalate":
			ch, err = e.escalateChange(set, cur, a.User, a.Via)
		}
		if err != nil || ch == nil {
			return nil, err
		}
		if a.Dedup != "" {
			ch.Incident.Handled = append(slices.Clone(cur.Handled), a.Dedup)
			if n := len(ch.Incident.Handled); n > handledKeep {
				ch.Incident.Handled = ch.Incident.Handled[n-handledKeep:]
			}
		}
		return ch, nil
	})
	if err != nil || !done {
		return inc, false, err
	}
	switch {
	case inc.Test != nil && a.Verb == "ack":
		// A contact check is no incident: MTTA/MTTR would lie with it.
		e.metrics.testPages.WithLabelValues(inc.Department, "acked").Inc()
		e.verify(ctx, inc, a.Via)
		e.log.Info("test page acknowledged", "incident", inc.ID, "by", a.User, "via", a.Via)
	case inc.Test != nil:
		e.log.Info("test page "+a.Verb+"d by hand", "incident", inc.ID, "by", a.User, "via", a.Via)
	case a.Verb == "ack":
		e.metrics.acked.WithLabelValues(inc.Department).Inc()
		e.metrics.timeToAck.WithLabelValues(inc.Department).Observe(inc.AckedAt.Sub(inc.CreatedAt).Seconds())
		e.log.Info("incident acknowledged", "incident", inc.ID, "by", a.User, "via", a.Via)
	case a.Verb == "resolve":
		e.observeResolved(inc)
	case a.Verb == "escalate":
		e.log.Info("incident escalated by hand", "incident", inc.ID, "by", a.User, "via", a.Via)
	}
	e.kick()
	return inc, true, nil
}

// Ack stops the escalation of an open incident. Acking twice is not an error:
// the incident is returned as it is.
func (e *Engine) Ack(ctx context.Context, id int64, actor, via string) (*store.Incident, error) {
	inc, _, err := e.Act(ctx, Action{Incident: id, Verb: "ack", User: actor, Via: via})
	return inc, err
}

// Resolve closes an incident by hand (Alertmanager's "resolved" does it too).
func (e *Engine) Resolve(ctx context.Context, id int64, actor, via string) (*store.Incident, error) {
	inc, _, err := e.Act(ctx, Action{Incident: id, Verb: "resolve", User: actor, Via: via})
	return inc, err
}

// Escalate fires the next step now, whatever the timers say; an acked
// incident is reopened, because someone decided the acker needs help.
func (e *Engine) Escalate(ctx context.Context, id int64, actor, via string) (*store.Incident, error) {
	inc, _, err := e.Act(ctx, Action{Incident: id, Verb: "escalate", User: actor, Via: via})
	return inc, err
}

func (e *Engine) ackChange(set *policies.Set, cur *store.Incident, actor, via string) (*store.Change, error) {
	switch cur.Status {
	case store.StatusResolved:
		return nil, ErrResolved
	case store.StatusAcked:
		return nil, nil
	}
	now := e.now()
	if cur.Test != nil {
		return e.testAcked(cur, actor, via, now), nil
	}
	inc := *cur
	inc.Status, inc.AckedAt, inc.AckedBy, inc.UpdatedAt = store.StatusAcked, now, actor, now
	inc.Escalation.Generation++
	inc.Wait = nil // someone has it: an ack timeout pages, not the end of a wait
	ch := &store.Change{Incident: &inc, CancelIncidentTimers: true,
		Events: []store.Event{event(now, "acked", actor, "via", via)}}
	if pol := set.Config().Policy(inc.Policy); pol != nil && pol.AckTimeout > 0 {
		ch.Schedule = append(ch.Schedule, genTimer(&inc, kindAckTimeout, now.Add(pol.AckTimeout.D())))
	}
	if e.hasStakeholders(set, &inc) {
		reportAt(ch, &inc, now)
	}
	ch.Schedule = append(ch.Schedule, e.updateTimers(&inc)...)
	e.ackRole(ch, actor, via, now)
	return ch, nil
}

func (e *Engine) observeResolved(inc *store.Incident) {
	if inc.Test != nil {
		e.log.Info("test page resolved", "incident", inc.ID)
		return
	}
	e.metrics.resolved.WithLabelValues(inc.Department).Inc()
	e.metrics.timeToResolve.WithLabelValues(inc.Department).Observe(inc.ResolvedAt.Sub(inc.CreatedAt).Seconds())
	e.log.Info("incident resolved", "incident", inc.ID)
}

func (e *Engine) escalateChange(set *policies.Set, cur *store.Incident, actor, via string) (*store.Change, error) {
	if cur.Status == store.StatusResolved {
		return nil, ErrResolved
	}
	if cur.Test != nil {
		return nil, ErrTestNoEscalate
	}
	now := e.now()
	inc := *cur
	inc.Status, inc.UpdatedAt, inc.Escalation.Exhausted = store.StatusOpen, now, false
	inc.Escalation.Generation++
	inc.Wait = nil // escalated by hand: the escalation has started
	round, step := inc.Escalation.Round, inc.Escalation.Step+1
	if pol := e.policyFor(set, &inc); pol != nil && step >= len(pol.Steps) {
		round, step = round+1, 0
	}
	// The step timer's (round, step) must be ahead of what fired, or it
	// would be taken for a duplicate.
	inc.Escalation.Round, inc.Escalation.Step = round, step-1
	ch := &store.Change{Incident: &inc, CancelIncidentTimers: true,
		Events:   []store.Event{event(now, "escalated", actor, "via", via, "to_step", strconv.Itoa(step+1))},
		Schedule: []store.Timer{stepTimer(&inc, round, step, now)}}
	keepReportTimer(ch, &inc)
	return ch, nil
}

// update is store.Update with the engine's error vocabulary. It returns the
// incident as written, or as it stands when fn wrote nothing, and whether
// fn's Change was written.
func (e *Engine) update(ctx context.Context, id int64, fn store.UpdateFunc) (*store.Incident, bool, error) {
	res, err := e.opts.Store.Update(ctx, id, fn)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, false, ErrNotFound
	case errors.Is(err, ErrResolved):
		return nil, false, ErrResolved
	case errors.Is(err, ErrReplayed):
		cur, gerr := e.opts.Store.Get(ctx, id)
		if gerr != nil {
			return nil, false, fmt.Errorf("router: incident %d: %w", id, gerr)
		}
		return cur, false, ErrReplayed
	case err != nil:
		return nil, false, fmt.Errorf("router: incident %d: %w", id, err)
	}
	return res.Incident, res.Written, nil
}
