package router

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// Severity during an incident: the routed severity stays the provisional
// one (暫定Severity); people set the current one (現在のSeverity).

// SeverityChange sets an incident's current severity during the incident;
// the severity it was routed with stays as the provisional one.
type SeverityChange struct {
	Incident int64
	Severity string
	Reason   string // required: the change is explained on the timeline
	// Escalate fires the next step in the same write, as an escalation by
	// hand does: "it is worse than we thought, get help".
	Escalate bool
	Actor    string
	Via      string
}

// check refuses a severity or reason the change must not hold.
func (c *SeverityChange) check() error {
	if !severityRe.MatchString(c.Severity) {
		return fmt.Errorf("%w: severity %q: use 1 to 32 letters, digits, '.', '_' or '-'", ErrBadNote, c.Severity)
	}
	if strings.TrimSpace(c.Reason) == "" {
		return fmt.Errorf("%w: a severity change needs a reason", ErrBadNote)
	}
	return checkText("reason", c.Reason, maxNoteField, false)
}

// CurrentSeverity is the severity people set, else the routed one.
func CurrentSeverity(inc *store.Incident) string {
	if inc.Report != nil && inc.Report.CurrentSeverity != "" {
		return inc.Report.CurrentSeverity
	}
	return inc.Severity
}

// ChangeSeverity carries out c; done is false when the incident already has
// that severity.
func (e *Engine) ChangeSeverity(ctx context.Context, c SeverityChange) (inc *store.Incident, done bool, err error) {
	defer func() {
		e.audit(ctx, "severity", runResult(done, err), err, slog.Int64("incident", c.Incident),
			slog.String("actor", c.Actor), slog.String("channel", c.Via), slog.String("severity", c.Severity))
	}()
	if err := c.check(); err != nil {
		return nil, false, err
	}
	if err := e.authorizeOn(ctx, Action{Incident: c.Incident, Verb: "severity", User: c.Actor, Via: c.Via}, access.Run); err != nil {
		return nil, false, err
	}
	if c.Escalate {
		if err := e.authorizeOn(ctx, Action{Incident: c.Incident, Verb: "escalate", User: c.Actor, Via: c.Via}, access.Escalate); err != nil {
			return nil, false, err
		}
	}
	set := e.Policies() // one config for the whole operation, however often the store runs its update
	inc, done, err = e.update(ctx, c.Incident, func(cur *store.Incident) (*store.Change, error) {
		from := CurrentSeverity(cur)
		if from == c.Severity && !c.Escalate {
			return nil, nil
		}
		return e.severityChange(set, cur, from, c)
	})
	if err != nil || !done {
		return inc, false, err
	}
	if c.Escalate {
		e.log.Info("incident escalated by hand", "incident", inc.ID, "by", c.Actor, "via", c.Via, "severity", c.Severity)
	}
	e.kick() // a report or a step due now
	return inc, true, nil
}

// severityChange is the write of c on cur. Reports follow the severity:
// stakeholders who asked for the new one and were not informed yet get a
// report at once, and every severity the incident held stays in its
// report state, so whoever was informed hears to the final report even
// when the severity is lowered again.
func (e *Engine) severityChange(set *policies.Set, cur *store.Incident, from string, c SeverityChange) (*store.Change, error) {
	now := e.now()
	inc := *cur
	before := stakeholders(set, cur)
	var events []store.Event
	if from != c.Severity {
		rep := reportOf(cur)
		rep.CurrentSeverity, rep.SeverityReason = c.Severity, c.Reason
		inc.Report, inc.UpdatedAt = &rep, now
		if rs := reportStateOf(cur); c.Severity != cur.Severity && !slices.Contains(rs.Severities, c.Severity) {
			rs.Severities = append(slices.Clone(rs.Severities), c.Severity)
			inc.Reports = &rs
		}
		events = append(events, event(now, "severity_changed", c.Actor, "from", from, "to", c.Severity, "reason", c.Reason, "via", c.Via))
	}
	ch := &store.Change{}
	added := newStakeholders(before, stakeholders(set, &inc))
	switch rs := reportStateOf(&inc); {
	case len(added) == 0 || cur.Status == store.StatusResolved || mutedSilently(cur):
	case rs.Sent == 0:
		// Nobody was informed yet: the reports start now, as at an opening.
		reportAt(ch, &inc, now)
		if inc.Wait != nil {
			w := *inc.Wait
			w.Reporting = true
			inc.Wait = &w
		}
	default:
		// The newly concerned hear the initial report now; everyone hears
		// the change in the next update, which stays when it was.
		note := &reportNote{Phase: phaseInitial, Number: 1, At: now, Next: rs.NextAt}
		msgs := e.messagesTo(added, &inc, "report", note)
		ch.Schedule = append(ch.Schedule, msgs...)
		next := ""
		if !rs.NextAt.IsZero() {
			next = rs.NextAt.UTC().Format(time.RFC3339)
		}
		events = append(events, event(now, "stakeholders_informed", c.Actor, "recipients", strconv.Itoa(len(msgs)),
			"report", phaseInitial, "number", "1", "next", next, "via", c.Via, "why", "severity"))
	}
	if !c.Escalate {
		ch.Incident, ch.Events = &inc, events
		return ch, nil
	}
	// The escalation cancels every timer of the incident, the report's
	// too, and schedules the pending report again from inc.Reports.
	ech, err := e.escalateChange(set, &inc, c.Actor, c.Via)
	if err != nil {
		return nil, err
	}
	ech.Events = append(events, ech.Events...)
	return ech, nil
}

// newStakeholders is who is in after and not in before.
func newStakeholders(before, after []stakeholder) []stakeholder {
	var out []stakeholder
	for _, s := range after {
		if !slices.Contains(before, s) {
			out = append(out, s)
		}
	}
	return out
}

// mutedSilently says whether cur waits out a maintenance window that
// informs nobody: a severity change does not break the silence.
func mutedSilently(cur *store.Incident) bool {
	return cur.Wait != nil && cur.Wait.Reason == waitReasons[policies.ActionMaintenance] && !cur.Wait.Reporting
}
