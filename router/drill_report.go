package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// phaseDrill is the phase of a drill report's note.
const phaseDrill = "drill"

// drillWaiting is a target's result before the report: its page is out.
const drillWaiting = "waiting"

// drillResults reads how each of drill's test pages went. final says the
// window has closed: a page still unacknowledged is then unanswered.
func (e *Engine) drillResults(ctx context.Context, drill *store.Incident, final bool) ([]store.DrillTarget, error) {
	out := slices.Clone(drill.Drill.Targets)
	for i, tg := range out {
		if tg.Result == DrillFailed && tg.Incident == 0 {
			continue // it could not be opened: drillPage said why
		}
		if tg.Incident == 0 {
			if final {
				out[i].Result, out[i].Error = DrillFailed, "its test page was never opened (the store failed, or no replica ran)"
			} else {
				out[i].Result = drillWaiting
			}
			continue
		}
		page, err := e.opts.Store.Get(ctx, tg.Incident)
		if errors.Is(err, store.ErrNotFound) {
			out[i].Result, out[i].Error = DrillFailed, "its test page is gone (retention)"
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("drill %d: test page %d: %w", drill.ID, tg.Incident, err)
		}
		tl, err := e.opts.Store.Timeline(ctx, tg.Incident)
		if err != nil {
			return nil, fmt.Errorf("drill %d: test page %d: %w", drill.ID, tg.Incident, err)
		}
		out[i] = targetResult(tg, page, tl, final)
	}
	return out, nil
}

// targetResult is how one test page went, from its incident and timeline.
func targetResult(tg store.DrillTarget, page *store.Incident, tl []store.Event, final bool) store.DrillTarget {
	tg.Result, tg.Error = drillWaiting, ""
	if final {
		tg.Result = DrillUnanswered
	}
	if !page.AckedAt.IsZero() {
		tg.Result, tg.AckedAt, tg.AckedBy = DrillAcked, page.AckedAt, page.AckedBy
		tg.AckSeconds = page.AckedAt.Sub(page.CreatedAt).Seconds()
		for _, ev := range tl {
			if ev.Type == "acked" {
				tg.AckVia = ev.Detail["via"]
			}
		}
		return tg
	}
	// A test page never fails over (it tests one channel): a failure on
	// its channel, at the send or in the provider's callback, is final.
	for _, ev := range tl {
		if ev.Type == "notify_failed" {
			tg.Result, tg.Error = DrillFailed, ev.Detail["error"]
		}
	}
	return tg
}

// noWorkingContact are the responders none of whose contact methods was
// acknowledged: those with none at all, then those whose every one failed
// or went unanswered.
func noWorkingContact(dr *store.Drill) []string {
	out := slices.Clone(dr.NoContact)
	var seen []string
	for _, tg := range dr.Targets {
		if slices.Contains(seen, tg.User) {
			continue
		}
		seen = append(seen, tg.User)
		if !slices.ContainsFunc(dr.Targets, func(o store.DrillTarget) bool { return o.User == tg.User && o.Result == DrillAcked }) {
			out = append(out, tg.User)
		}
	}
	return out
}

// drillReport closes a drill's answer window: it writes the results on
// the drill and sends the report to the department's admins and
// stakeholders, in the outbox.
func (e *Engine) drillReport(ctx context.Context, c store.Claim) error {
	var p genPayload
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		return poison(fmt.Errorf("decode drill report payload: %w", err))
	}
	drill, err := e.opts.Store.Get(ctx, c.IncidentID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("drill report: %w", err)
	}
	if drill.Drill == nil || drill.Status != store.StatusOpen || drill.Escalation.Generation != p.Gen {
		return nil
	}
	results, err := e.drillResults(ctx, drill, true)
	if err != nil {
		return err
	}
	set := e.Policies()
	var recipients int
	res, err := e.opts.Store.Update(ctx, drill.ID, func(cur *store.Incident) (*store.Change, error) {
		if cur.Drill == nil || cur.Status != store.StatusOpen || cur.Escalation.Generation != p.Gen {
			return nil, nil
		}
		now := e.now()
		inc := *cur
		dr := *cur.Drill
		dr.Targets, dr.ReportedAt = results, now
		inc.Drill = &dr
		inc.Status, inc.ResolvedAt, inc.UpdatedAt = store.StatusResolved, now, now
		inc.Escalation.Generation++
		msgs := e.drillReportMessages(set, &inc, now)
		recipients = len(msgs)
		counts := map[string]int{}
		for _, tg := range results {
			counts[tg.Result]++
		}
		ch := &store.Change{Incident: &inc, CancelIncidentTimers: true, Schedule: msgs, Events: []store.Event{
			event(now, "drill_reported", "hikyaku", "acked", strconv.Itoa(counts[DrillAcked]),
				"unanswered", strconv.Itoa(counts[DrillUnanswered]), "failed", strconv.Itoa(counts[DrillFailed]),
				"no_working_contact", strings.Join(noWorkingContact(&dr), ","), "recipients", strconv.Itoa(len(msgs))),
			event(now, "resolved", "hikyaku", "via", "drill"),
		}}
		return ch, nil
	})
	if err != nil {
		return fmt.Errorf("drill report: %w", err)
	}
	if inc := res.Incident; res.Written {
		bad := noWorkingContact(inc.Drill)
		e.log.Info("drill reported", "incident", inc.ID, "department", inc.Department, "recipients", recipients,
			"no_working_contact", strings.Join(bad, ","))
		if recipients == 0 {
			e.log.Error("drill report has nobody to go to: the department has no admin or stakeholder with a written contact method",
				"incident", inc.ID, "department", inc.Department)
		}
		if len(bad) > 0 {
			e.log.Warn("drill: responders no contact method reached", "incident", inc.ID, "department", inc.Department, "users", strings.Join(bad, ","))
		}
		e.verifiedDirty.Store(true)
		e.kick()
	}
	return nil
}

// drillReportMessages are the outbox entries of a drill's report: the
// department's admins and stakeholders (people on the written channel
// reports prefer, chat channels on theirs).
func (e *Engine) drillReportMessages(set *policies.Set, inc *store.Incident, now time.Time) []store.Timer {
	cfg := set.Config()
	d := cfg.Department(inc.Department)
	if d == nil {
		return nil
	}
	note := &reportNote{Phase: phaseDrill, At: now}
	var out []store.Timer
	var users []string
	for _, id := range append(slices.Clone(d.Roles.Admins), d.Stakeholders.Users...) {
		if slices.Contains(users, id) {
			continue
		}
		users = append(users, id)
		u := cfg.User(id)
		if u == nil {
			continue
		}
		ch := reportChannel(cfg, u)
		if ch == "" {
			e.log.Error("drill report: this recipient has no written contact method", "incident", inc.ID, "user", id)
			continue
		}
		out = append(out, notifyTimer(inc, notifyPayload{Gen: inc.Escalation.Generation, Kind: string(channels.KindReport),
			User: id, Channel: ch, Report: note}, 0, now))
	}
	for _, id := range d.Stakeholders.ChatChannels {
		if cc := cfg.ChatChannel(id); cc != nil {
			out = append(out, notifyTimer(inc, notifyPayload{Gen: inc.Escalation.Generation, Kind: string(channels.KindReport),
				ChatChannel: id, Channel: chatChannelKind(cc), Report: note}, 0, now))
		}
	}
	return out
}

// buildDrillReport writes a drill's results in lang, as a stakeholder
// report's fields, so every channel renders it as it renders reports.
func buildDrillReport(cfg *config.Config, inc *store.Incident, lang string) *channels.Report {
	t := catalog.For(lang)
	dr := inc.Drill
	loc := reportLoc(cfg, inc)
	layout := t.T("report.time_layout")
	r := &channels.Report{Phase: phaseDrill, Title: t.T("drill.title")}
	add := func(key, label string, lines []string) {
		v := strings.Join(lines, "\n")
		if v == "" {
			v = t.T("report.none")
		}
		r.Fields = append(r.Fields, channels.ReportField{Key: key, Label: label, Value: v, Known: true})
	}
	add("window", t.T("drill.field.window"), []string{inc.CreatedAt.In(loc).Format(layout) + " – " + dr.Until.In(loc).Format(layout)})
	var acked, failed, unanswered []string
	var people []string
	reached := 0
	for _, tg := range dr.Targets {
		name := personName(cfg, tg.User)
		if !slices.Contains(people, tg.User) {
			people = append(people, tg.User)
		}
		switch tg.Result {
		case DrillAcked:
			acked = append(acked, t.T("drill.acked_line", name, tg.Channel,
				(time.Duration(tg.AckSeconds*float64(time.Second))).Round(time.Second).String()))
		case DrillFailed:
			failed = append(failed, t.T("drill.failed_line", name, tg.Channel, tg.Error))
		default:
			unanswered = append(unanswered, t.T("drill.unanswered_line", name, tg.Channel))
		}
	}
	bad := noWorkingContact(dr)
	for _, id := range people {
		if !slices.Contains(bad, id) {
			reached++
		}
	}
	var none []string
	for _, id := range bad {
		none = append(none, personName(cfg, id))
	}
	add("result", t.T("drill.field.result"), []string{t.T("drill.result", len(acked), len(dr.Targets),
		reached, len(people)+len(dr.NoContact))})
	add("acked", t.T("drill.field.acked"), acked)
	add("failed", t.T("drill.field.failed"), failed)
	add("unanswered", t.T("drill.field.unanswered"), unanswered)
	add("no_working_contact", t.T("drill.field.no_working"), none)
	return r
}
