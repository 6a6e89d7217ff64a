package router

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// policyFor is the incident's policy in the config in force. When a reload
// removed it, the incident falls back to its route's, then its department's
// policy, so a config change never leaves an open incident without pages.
func (e *Engine) policyFor(set *policies.Set, inc *store.Incident) *config.Policy {
	cfg := set.Config()
	if p := cfg.Policy(inc.Policy); p != nil {
		return p
	}
	if r := cfg.Route(inc.Route); r != nil {
		if p := cfg.RoutePolicy(r); p != nil {
			return p
		}
	}
	if d := cfg.Department(inc.Department); d != nil {
		if p := cfg.Policy(d.EscalationPolicy); p != nil {
			return p
		}
	}
	if cfg.DefaultRoute != nil {
		return cfg.RoutePolicy(cfg.DefaultRoute)
	}
	return nil
}

// fireStep pages one step's targets and schedules what comes next: the next
// step, the next round, or the end. All of it is one store write, so a crash
// either fired the step completely or not at all; firing it again is a no-op.
func (e *Engine) fireStep(ctx context.Context, c store.Claim) error {
	// One config for the whole operation, however often the store runs its
	// update, with the stored covers as they are now.
	set, err := e.livePolicies(ctx)
	if err != nil {
		return err
	}
	var p stepPayload
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		return poison(fmt.Errorf("decode step timer payload: %w", err))
	}
	res, err := e.opts.Store.Update(ctx, c.IncidentID, func(cur *store.Incident) (*store.Change, error) {
		var found stepFound
		esc := cur.Escalation
		if cur.Status != store.StatusOpen || esc.Generation != p.Gen ||
			esc.Round > p.Round || (esc.Round == p.Round && esc.Step >= p.Step) {
			return nil, nil // acked, resolved, or already fired: stale
		}
		now := e.now()
		inc := *cur
		inc.UpdatedAt = now
		inc.Escalation.Round, inc.Escalation.Step = p.Round, p.Step
		// The step's timer goes in the same write that fires it: no Complete round trip.
		ch := &store.Change{Incident: &inc, Cancel: []string{c.ID}}
		pol := e.policyFor(set, &inc)
		if pol == nil {
			found.noPolicy = true
			ch.Events = append(ch.Events, event(now, "no_policy", "", "policy", inc.Policy))
			ch.Outcome = found
			return ch, nil
		}
		if pol.ID != inc.Policy {
			ch.Events = append(ch.Events, event(now, "policy_replaced", "", "from", inc.Policy, "to", pol.ID))
			inc.Policy = pol.ID
		}
		if p.Step >= len(pol.Steps) {
			// The policy shrank under a reload: what is left is the end of the round.
			ch.Schedule = append(ch.Schedule, e.next(&inc, pol, p.Round, len(pol.Steps)-1, now, true))
			ch.Outcome = found
			return ch, nil
		}
		found.fired = true
		sf := set.StepTargets(pol, p.Step, now)
		found.empty, found.fallback = sf.Empty, sf.Fallback
		ch.Events = append(ch.Events, event(now, "step_fired", "",
			"step", strconv.Itoa(p.Step+1), "round", strconv.Itoa(p.Round+1),
			"users", strings.Join(sf.Users, ","), "chat_channels", strings.Join(sf.ChatChannels, ","),
			"fallback", sf.Fallback, "empty", boolString(sf.Empty)))
		for _, u := range sf.Users {
			pages := set.NotifyPages(u, now)
			if len(pages) == 0 {
				found.unreachable = append(found.unreachable, u)
			}
			for i, pg := range pages {
				ch.Schedule = append(ch.Schedule, notifyTimer(&inc, notifyPayload{
					Gen: inc.Escalation.Generation, Kind: "page", User: u, Channel: string(pg.Channel),
					Step: p.Step, Round: p.Round, Paged: now}, i, atOnce(pg.At, now, c.Due)))
			}
		}
		for _, id := range sf.ChatChannels {
			if cc := set.Config().ChatChannel(id); cc != nil {
				ch.Schedule = append(ch.Schedule, notifyTimer(&inc, notifyPayload{
					Gen: inc.Escalation.Generation, Kind: "page", ChatChannel: id, Channel: chatChannelKind(cc),
					Step: p.Step, Round: p.Round}, 0, atOnce(now, now, c.Due)))
			} else {
				found.unreachable = append(found.unreachable, "#"+id)
			}
		}
		ch.Schedule = append(ch.Schedule, e.next(&inc, pol, p.Round, p.Step, now, sf.Empty))
		ch.Outcome = found
		return ch, nil
	})
	if err != nil {
		return fmt.Errorf("fire step: %w", err)
	}
	found := store.OutcomeOf[stepFound](res)
	if inc := res.Incident; res.Written {
		found.log(e.log.With("incident", c.IncidentID, "policy", inc.Policy, "department", inc.Department,
			"step", p.Step+1, "round", p.Round+1))
	}
	if found.fired {
		e.metrics.stepsFired.Inc()
		e.kick() // pages due now are waiting
	}
	if res.Written {
		return errDone
	}
	return nil
}

// atOnce is when a page due at "at" is scheduled: a page due at once from a
// step that fired late (after downtime) is due when the step was, so the
// outbox hands out the burst of overdue pages in the order their steps came
// due, not in the order the steps happened to fire.
func atOnce(at, now, stepDue time.Time) time.Time {
	if !at.After(now) && stepDue.Before(now) {
		return stepDue
	}
	return at
}

// stepFound is what a step firing found that nobody may hear of otherwise:
// the timeline has it, the log must too.
type stepFound struct {
	noPolicy    bool
	empty       bool
	fallback    string
	unreachable []string // targets with no way to be paged: no notification rules, or gone from the config
	fired       bool     // the step's targets were paged (not a policy gone or shrunk)
}

func (f *stepFound) log(l *slog.Logger) {
	switch {
	case f.noPolicy:
		l.Error("incident has no escalation policy in the configuration in force: nobody is paged")
	case f.empty:
		l.Warn("escalation step found nobody on call and has no fallback; moving on to the next step")
	case f.fallback != "":
		l.Warn("escalation step found nobody on call; paging its fallback", "fallback", f.fallback)
	}
	if len(f.unreachable) > 0 {
		l.Warn("escalation step targets that cannot be paged", "targets", strings.Join(f.unreachable, ","))
	}
}

// next is the timer after (round, step): the next step after its wait, the
// first step of the next round, or the exhaustion mark. An empty step (nobody
// on call, no fallback) moves on at once: never silently nothing.
func (e *Engine) next(inc *store.Incident, pol *config.Policy, round, step int, now time.Time, empty bool) store.Timer {
	due := now
	if !empty {
		due = now.Add(pol.Steps[step].EscalateAfter.D())
	}
	switch {
	case step+1 < len(pol.Steps):
		return stepTimer(inc, round, step+1, due)
	case round < pol.Repeat:
		return stepTimer(inc, round+1, 0, due)
	default:
		return genTimer(inc, kindExhaust, due)
	}
}

// updateEvery is the shortest report period among the incident's stakeholders' departments.
func updateEvery(set *policies.Set, inc *store.Incident) time.Duration {
	var every time.Duration
	for _, d := range set.Config().Departments {
		st := d.Stakeholders
		if len(st.Users)+len(st.ChatChannels) == 0 {
			continue
		}
		if d.ID == inc.Department || asksFor(st, inc) {
			if v := st.UpdateEvery.D(); every == 0 || v < every {
				every = v
			}
		}
	}
	return every
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return ""
}

func chatChannelKind(cc *config.ChatChannel) string {
	if cc.Slack != "" {
		return string(config.ChannelSlack)
	}
	return string(config.ChannelWebhook)
}

// exhaust marks an incident whose policy ran out without an ack. It stays
// open: someone must still look at it.
func (e *Engine) exhaust(ctx context.Context, c store.Claim) error {
	var p genPayload
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		return poison(fmt.Errorf("decode exhaust timer payload: %w", err))
	}
	res, err := e.opts.Store.Update(ctx, c.IncidentID, func(cur *store.Incident) (*store.Change, error) {
		if cur.Status != store.StatusOpen || cur.Escalation.Generation != p.Gen || cur.Escalation.Exhausted {
			return nil, nil
		}
		now := e.now()
		inc := *cur
		inc.Escalation.Exhausted, inc.UpdatedAt = true, now
		return &store.Change{Incident: &inc, Events: []store.Event{event(now, "exhausted", "",
			"steps", strconv.Itoa(inc.Escalation.Step+1), "rounds", strconv.Itoa(inc.Escalation.Round+1))}}, nil
	})
	if err != nil {
		return fmt.Errorf("exhaust: %w", err)
	}
	if inc := res.Incident; res.Written {
		e.metrics.exhausted.WithLabelValues(inc.Department).Inc()
		e.log.Error("escalation exhausted: nobody acknowledged", "incident", inc.ID,
			"department", inc.Department, "policy", inc.Policy, "severity", inc.Severity,
			"steps", inc.Escalation.Step+1, "rounds", inc.Escalation.Round+1)
	}
	return nil
}

// ackTimedOut reopens an incident acked but not resolved in time, and starts
// its policy again from the first step.
func (e *Engine) ackTimedOut(ctx context.Context, c store.Claim) error {
	var p genPayload
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		return poison(fmt.Errorf("decode ack timeout timer payload: %w", err))
	}
	_, err := e.opts.Store.Update(ctx, c.IncidentID, func(cur *store.Incident) (*store.Change, error) {
		if cur.Status != store.StatusAcked || cur.Escalation.Generation != p.Gen {
			return nil, nil
		}
		now := e.now()
		inc := *cur
		inc.Status, inc.UpdatedAt = store.StatusOpen, now
		inc.Escalation = store.Escalation{Step: -1, Generation: cur.Escalation.Generation + 1}
		ch := &store.Change{Incident: &inc, CancelIncidentTimers: true,
			Events:   []store.Event{event(now, "ack_timeout", "", "acked_by", cur.AckedBy)},
			Schedule: []store.Timer{stepTimer(&inc, 0, 0, now)}}
		keepReportTimer(ch, &inc)
		return ch, nil
	})
	if err != nil {
		return fmt.Errorf("ack timeout: %w", err)
	}
	e.kick()
	return nil
}

// hasStakeholders tells whether anyone is to be informed of this incident.
func (e *Engine) hasStakeholders(set *policies.Set, inc *store.Incident) bool {
	return len(stakeholders(set, inc)) > 0
}

type stakeholder struct {
	user, chat, channel string
}

// stakeholders lists who is informed of inc: its department's stakeholders,
// and every department whose stakeholders asked for this severity.
func stakeholders(set *policies.Set, inc *store.Incident) []stakeholder {
	if inc.Test != nil {
		return nil // a contact check is nobody else's news
	}
	cfg := set.Config()
	var out []stakeholder
	seen := map[string]bool{}
	for _, d := range cfg.Departments {
		st := d.Stakeholders
		if len(st.Users)+len(st.ChatChannels) == 0 {
			continue
		}
		own := d.ID == inc.Department
		wants := asksFor(st, inc)
		if !own && !wants || own && len(st.Severities) > 0 && !wants {
			continue
		}
		for _, u := range st.Users {
			if user := cfg.User(u); user != nil && !seen["u:"+u] {
				seen["u:"+u] = true
				out = append(out, stakeholder{user: u, channel: reportChannel(cfg, user)})
			}
		}
		for _, c := range st.ChatChannels {
			if cc := cfg.ChatChannel(c); cc != nil && !seen["c:"+c] {
				seen["c:"+c] = true
				out = append(out, stakeholder{chat: c, channel: chatChannelKind(cc)})
			}
		}
	}
	return out
}

// asksFor says whether stakeholders st asked for a severity inc has held:
// the routed one, or one people set since (the report state keeps each),
// so raising an incident's severity informs them and lowering it again
// does not leave them without the final report.
func asksFor(st config.Stakeholders, inc *store.Incident) bool {
	if len(st.Severities) == 0 {
		return false
	}
	if slices.Contains(st.Severities, inc.Severity) {
		return true
	}
	if inc.Reports != nil {
		for _, s := range inc.Reports.Severities {
			if slices.Contains(st.Severities, s) {
				return true
			}
		}
	}
	return false
}

// reportChannel is how a stakeholder is informed: in writing, never a
// call, on the written channel reports prefer most.
func reportChannel(cfg *config.Config, u *config.User) string {
	for _, ch := range cfg.ReportChannels() {
		if u.Contacts.Has(ch) {
			return string(ch)
		}
	}
	return ""
}

// stakeholderMessages are the outbox entries of one report to every stakeholder.
func (e *Engine) stakeholderMessages(set *policies.Set, inc *store.Incident, kind string, note *reportNote) []store.Timer {
	return e.messagesTo(stakeholders(set, inc), inc, kind, note)
}

// messagesTo is the outbox entries of a report to these stakeholders.
func (e *Engine) messagesTo(to []stakeholder, inc *store.Incident, kind string, note *reportNote) []store.Timer {
	now := e.now()
	var out []store.Timer
	for _, s := range to {
		if s.channel == "" {
			continue
		}
		out = append(out, notifyTimer(inc, notifyPayload{Gen: inc.Escalation.Generation, Kind: kind,
			User: s.user, ChatChannel: s.chat, Channel: s.channel, Report: note}, 0, now))
	}
	return out
}

// report sends a stakeholder update and schedules the next while the
// incident is open; the update says when the next one comes.
func (e *Engine) report(ctx context.Context, c store.Claim) error {
	set := e.Policies() // one config for the whole operation, however often the store runs its update
	_, err := e.opts.Store.Update(ctx, c.IncidentID, func(cur *store.Incident) (*store.Change, error) {
		if cur.Status == store.StatusResolved {
			return nil, nil // the final report went out with the resolution
		}
		if cur.Reports != nil && !cur.Reports.NextAt.IsZero() && reportTimer(cur, cur.Reports.NextAt).ID != c.ID {
			return nil, nil // moved: an extra report or a new period scheduled another
		}
		inc := *cur
		if inc.Reports != nil {
			rs := *inc.Reports
			rs.NextAt = time.Time{} // this very timer: done with this claim, not cancelled
			inc.Reports = &rs
		}
		return e.sendReport(set, &inc, e.now(), false, "", ""), nil
	})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	e.kick()
	return nil
}
