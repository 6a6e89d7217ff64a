package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/store"
)

// Limits of a report period Comm sets: shorter floods the stakeholders,
// longer is no update at all.
const (
	minReportPeriod = time.Minute
	maxReportPeriod = 24 * time.Hour
)

// ReportChange is what the Comm holder (or an admin) asks of an incident's
// reports: exactly one of SendNow, Draft (with Replace) or Period.
type ReportChange struct {
	Incident int64
	SendNow  bool
	Draft    *string // "" clears the draft
	Replace  bool
	Period   time.Duration
	Actor    string
	Via      string
}

// ChangeReports carries out c after the roles allow it: an extra report
// now (the next periodic one moves to a period after it), the draft of the
// next report, or a new period (the next report moves to the last one plus
// the period, or now if that has passed).
func (e *Engine) ChangeReports(ctx context.Context, c ReportChange) (inc *store.Incident, err error) {
	action := "report_period"
	switch {
	case c.SendNow:
		action = "report_now"
	case c.Draft != nil:
		action = "report_draft"
	}
	var done bool
	defer func() {
		e.audit(ctx, action, runResult(done, err), err, slog.Int64("incident", c.Incident),
			slog.String("actor", c.Actor), slog.String("channel", c.Via))
	}()
	if c.Draft != nil {
		if err := checkText("text", *c.Draft, maxNoteText, true); err != nil {
			return nil, err
		}
	}
	if !c.SendNow && c.Draft == nil && (c.Period < minReportPeriod || c.Period > maxReportPeriod) {
		return nil, fmt.Errorf("%w: period %s: want %s to %s", ErrBadNote, c.Period, minReportPeriod, maxReportPeriod)
	}
	if err := e.authorizeReport(ctx, c); err != nil {
		return nil, err
	}
	set := e.Policies()
	inc, done, err = e.update(ctx, c.Incident, func(cur *store.Incident) (*store.Change, error) {
		if cur.Status == store.StatusResolved {
			return nil, ErrResolved
		}
		now := e.now()
		switch {
		case c.SendNow:
			return e.sendReport(set, cur, now, true, c.Actor, c.Via), nil
		case c.Draft != nil:
			inc := *cur
			rs := reportStateOf(cur)
			if rs.Draft == *c.Draft && rs.DraftReplace == c.Replace {
				return nil, nil
			}
			rs.Draft, rs.DraftReplace = *c.Draft, c.Replace && *c.Draft != ""
			inc.Reports, inc.UpdatedAt = &rs, now
			typ := "report_draft_set"
			if *c.Draft == "" {
				typ = "report_draft_cleared"
			}
			return &store.Change{Incident: &inc, Events: []store.Event{event(now, typ, c.Actor,
				"text", *c.Draft, "replace", boolString(rs.DraftReplace), "via", c.Via)}}, nil
		}
		inc := *cur
		rs := reportStateOf(cur)
		secs := int64(c.Period / time.Second)
		if rs.Period == secs {
			return nil, nil
		}
		rs.Period = secs
		inc.Reports, inc.UpdatedAt = &rs, now
		ch := &store.Change{Incident: &inc}
		if rs.Sent > 0 && e.hasStakeholders(set, &inc) {
			next := rs.LastAt.Add(c.Period)
			if next.Before(now) {
				next = now
			}
			reportAt(ch, &inc, next)
		}
		next := ""
		if !inc.Reports.NextAt.IsZero() {
			next = inc.Reports.NextAt.UTC().Format(time.RFC3339)
		}
		ch.Events = append(ch.Events, event(now, "report_period_changed", c.Actor,
			"period", c.Period.String(), "seconds", strconv.FormatInt(secs, 10), "next", next, "via", c.Via))
		return ch, nil
	})
	if err != nil {
		return inc, err
	}
	e.kick()
	return inc, nil
}

// authorizeReport applies access.Decide's report rule; a refusal goes onto
// the incident's timeline, as authorize's do.
func (e *Engine) authorizeReport(ctx context.Context, c ReportChange) error {
	cur, err := e.opts.Store.Get(ctx, c.Incident)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("router: incident %d: %w", c.Incident, err)
	}
	cfg := e.Policies().Config()
	d := access.Decide(cfg, access.Request{User: c.Actor, Action: access.StakeholderReport, Incident: c.Incident,
		Department: cur.Department, Comm: cur.Roles["comm"]})
	if d.Allowed {
		return nil
	}
	refusal := &ForbiddenError{Reason: d.Reason}
	ev := event(e.now(), "refused", c.Actor, "verb", string(access.StakeholderReport), "via", c.Via, "reason", refusal.Error())
	if err := e.record(ctx, c.Incident, nil, ev); err != nil && !errors.Is(err, store.ErrNotFound) {
		e.log.Error("a refused report action could not be put on the timeline", "incident", c.Incident, "user", c.Actor, "err", err)
	}
	return refusal
}
