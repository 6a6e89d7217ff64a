package router

import (
	"slices"
	"strconv"
	"strings"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// Stakeholder reports: the initial report when the incident opens, an
// update every period while it is open (and at once on an ack or when
// Comm asks), the final report on resolve. What a report says is decided
// when it is sent (reportNote, carried by every recipient's outbox entry,
// so a retry says the same) and written in each reader's language when the
// message is built (buildReport).

// Report phases.
const (
	phaseInitial = "initial"
	phaseUpdate  = "update"
	phaseFinal   = "final"
)

// reportNote is what one report says beyond the incident's own fields.
type reportNote struct {
	Phase  string    `json:"phase"`
	Number int       `json:"number,omitempty"`
	Extra  bool      `json:"extra,omitempty"`
	At     time.Time `json:"at"`
	// Next is when the next report comes; zero when none is scheduled.
	Next    time.Time `json:"next,omitzero"`
	Draft   string    `json:"draft,omitempty"`
	Replace bool      `json:"replace,omitempty"`
	// Changes and NewFiring compare with the last report; NoBaseline says
	// there was none to compare with (an incident from before reports kept one).
	Changes       []reportChange `json:"changes,omitempty"`
	NewFiring     []string       `json:"new_firing,omitempty"`
	ImpactChanged bool           `json:"impact_changed,omitempty"`
	NoBaseline    bool           `json:"no_baseline,omitempty"`
}

// reportChange is one thing that changed since the last report.
type reportChange struct {
	Field string `json:"field"` // status, severity, alerts
	From  string `json:"from"`
	To    string `json:"to"`
}

// reportStateOf is a copy of inc's report state, to change.
func reportStateOf(inc *store.Incident) store.ReportState {
	if inc.Reports == nil {
		return store.ReportState{}
	}
	return *inc.Reports
}

// reportPeriod is how often inc's stakeholders hear: the period Comm set,
// else the shortest update_every of its stakeholders' departments.
func (e *Engine) reportPeriod(set *policies.Set, inc *store.Incident) time.Duration {
	if inc.Reports != nil && inc.Reports.Period > 0 {
		return time.Duration(inc.Reports.Period) * time.Second
	}
	return updateEvery(set, inc)
}

// reportAt makes due (zero: none) inc's next report, cancelling the timer
// of the one it replaces: one report timer is pending at a time, and
// inc.Reports.NextAt names it.
func reportAt(ch *store.Change, inc *store.Incident, due time.Time) {
	rs := reportStateOf(inc)
	if !rs.NextAt.IsZero() && !rs.NextAt.Equal(due) {
		ch.Cancel = append(ch.Cancel, reportTimer(inc, rs.NextAt).ID)
	}
	rs.NextAt = due
	inc.Reports = &rs
	if !due.IsZero() {
		ch.Schedule = append(ch.Schedule, reportTimer(inc, due))
	}
}

// keepReportTimer schedules the pending report again in a change that
// cancels every timer of the incident (ack timeout, escalation): those
// restart the paging, not the reports.
func keepReportTimer(ch *store.Change, inc *store.Incident) {
	if inc.Reports != nil && !inc.Reports.NextAt.IsZero() && inc.Status != store.StatusResolved {
		ch.Schedule = append(ch.Schedule, reportTimer(inc, inc.Reports.NextAt))
	}
}

// snapshotOf is what a report sent now says of inc's state.
func snapshotOf(inc *store.Incident) store.ReportSnapshot {
	s := store.ReportSnapshot{Status: string(inc.Status), AckedBy: inc.AckedBy, Severity: CurrentSeverity(inc)}
	if inc.Report != nil {
		s.Impact = inc.Report.Impact
	}
	if m, err := DecodeMessage(inc.Message); err == nil {
		s.Firing = firingNames(m)
	}
	return s
}

// firingNames are the firing alerts' names as reports list them, sorted.
func firingNames(m *Message) []string {
	var out []string
	for _, a := range m.Alerts.Firing() {
		n := a.Labels["alertname"]
		for _, k := range []string{"instance", "pod", "host", "service", "job"} {
			if v := a.Labels[k]; v != "" {
				n += " (" + v + ")"
				break
			}
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// sendReport is the change that sends an initial or update report of cur
// now and schedules the next one period later. extra marks a report Comm
// asked for; actor is who did ("" for hikyaku's own schedule).
func (e *Engine) sendReport(set *policies.Set, cur *store.Incident, now time.Time, extra bool, actor, via string) *store.Change {
	inc := *cur
	rs := reportStateOf(cur)
	snap := snapshotOf(&inc)
	note := reportNote{Number: rs.Sent + 1, Extra: extra, At: now, Draft: rs.Draft, Replace: rs.DraftReplace, Phase: phaseUpdate}
	if rs.Sent == 0 {
		note.Phase = phaseInitial
	} else if rs.Last == nil {
		note.NoBaseline = true
	} else {
		note.Changes, note.NewFiring, note.ImpactChanged = diffReports(rs.Last, &snap)
	}
	if p := e.reportPeriod(set, &inc); p > 0 {
		note.Next = now.Add(p)
	}
	ch := &store.Change{Incident: &inc}
	msgs := e.stakeholderMessages(set, &inc, "report", &note)
	ch.Schedule = append(ch.Schedule, msgs...)
	rs.Sent, rs.LastAt, rs.Last, rs.Draft, rs.DraftReplace = rs.Sent+1, now, &snap, "", false
	inc.Reports, inc.UpdatedAt = &rs, now
	reportAt(ch, &inc, note.Next)
	next := ""
	if !note.Next.IsZero() {
		next = note.Next.UTC().Format(time.RFC3339)
	}
	ch.Events = append(ch.Events, event(now, "stakeholders_informed", actor, "recipients", strconv.Itoa(len(msgs)),
		"report", note.Phase, "number", strconv.Itoa(note.Number), "extra", boolString(extra), "next", next, "via", via))
	return ch
}

// finalReport is the note of the final report, sent with the resolution;
// the draft left for the next report goes with it.
func finalReport(inc *store.Incident, now time.Time) *reportNote {
	rs := reportStateOf(inc)
	n := &reportNote{Phase: phaseFinal, At: now, Draft: rs.Draft}
	rs.NextAt, rs.Draft, rs.DraftReplace = time.Time{}, "", false
	inc.Reports = &rs
	return n
}

// diffReports is what changed between two reports' snapshots.
func diffReports(last, now *store.ReportSnapshot) (changes []reportChange, newFiring []string, impactChanged bool) {
	if last.Status != now.Status || last.AckedBy != now.AckedBy {
		changes = append(changes, reportChange{Field: "status", From: statusWord(last.Status, last.AckedBy), To: statusWord(now.Status, now.AckedBy)})
	}
	if last.Severity != now.Severity {
		changes = append(changes, reportChange{Field: "severity", From: last.Severity, To: now.Severity})
	}
	if len(last.Firing) != len(now.Firing) {
		changes = append(changes, reportChange{Field: "alerts", From: strconv.Itoa(len(last.Firing)), To: strconv.Itoa(len(now.Firing))})
	}
	for _, f := range now.Firing {
		if !slices.Contains(last.Firing, f) {
			newFiring = append(newFiring, f)
		}
	}
	return changes, newFiring, last.Impact != now.Impact && now.Impact != ""
}

// statusWord keeps a status and its acker together in one snapshot string.
func statusWord(status, acker string) string {
	if acker != "" && status == string(store.StatusAcked) {
		return status + ":" + acker
	}
	return status
}

// reportLoc is the zone report times are written in: the department's.
func reportLoc(cfg *config.Config, inc *store.Incident) *time.Location {
	if d := cfg.Department(inc.Department); d != nil && d.Location != nil {
		return d.Location
	}
	if cfg.Global.Location != nil {
		return cfg.Global.Location
	}
	return time.UTC
}

// buildReport writes note about inc in lang. An outbox entry from before
// reports carried a note gets one made of the incident as it is.
func buildReport(cfg *config.Config, inc *store.Incident, kind string, note *reportNote, lang string) *channels.Report {
	if note == nil {
		note = &reportNote{Phase: phaseUpdate, NoBaseline: true, At: inc.UpdatedAt}
		if kind == string(channels.KindResolved) {
			note.Phase = phaseFinal
		}
	}
	t := catalog.For(lang)
	unknown := t.T("incident.unknown")
	loc := reportLoc(cfg, inc)
	layout := t.T("report.time_layout")
	r := &channels.Report{Phase: note.Phase, Number: note.Number, Extra: note.Extra}
	add := func(key, label, value string) {
		f := channels.ReportField{Key: key, Label: label, Value: value, Known: value != ""}
		if !f.Known {
			f.Value = unknown
		}
		r.Fields = append(r.Fields, f)
	}
	label := func(k string) string { return t.T(catalog.Key(k)) }
	rep := reportOf(inc)
	msg, _ := DecodeMessage(inc.Message)
	if msg == nil {
		msg = &Message{Data: &amtemplate.Data{}}
	}
	nextText := t.T("report.next_none")
	if !note.Next.IsZero() {
		nextText = note.Next.In(loc).Format(layout)
	}
	switch note.Phase {
	case phaseInitial:
		r.Title = t.T("report.title.initial")
		add("started_at", label("report.field.started_at"), startedAt(msg, inc).In(loc).Format(layout))
		add("impact", label("incident.field.impact"), impactOf(rep, msg))
		add("symptom", label("report.field.symptom"), symptomOf(msg))
		add("severity", label("incident.field.severity"), inc.Severity)
		add("status", label("report.field.status"), withDraft(note, statusText(t, cfg, inc)))
		add("next", label("report.field.next"), nextText)
	case phaseUpdate:
		r.Title = t.T("report.title.update", note.Number)
		if note.Extra {
			r.Title = t.T("report.title.extra", note.Number)
		}
		changes := ""
		if !note.NoBaseline {
			var lines []string
			for _, c := range note.Changes {
				lines = append(lines, changeText(t, cfg, c))
			}
			changes = strings.Join(lines, "\n")
			if changes == "" {
				changes = t.T("report.no_change")
			}
		}
		add("changes", label("report.field.changes"), withDraft(note, changes))
		sev := CurrentSeverity(inc)
		if rep.SeverityReason != "" && rep.CurrentSeverity != "" {
			sev += " (" + rep.SeverityReason + ")"
		}
		add("current_severity", label("incident.field.current_severity"), sev)
		var added []string
		if note.ImpactChanged {
			added = append(added, rep.Impact)
		}
		if len(note.NewFiring) > 0 {
			added = append(added, t.T("report.newly_firing", strings.Join(note.NewFiring, ", ")))
		}
		addedText := strings.Join(added, "\n")
		if addedText == "" && !note.NoBaseline {
			addedText = t.T("report.none")
		}
		add("added_impact", label("report.field.added_impact"), addedText)
		add("next", label("report.field.next"), nextText)
	default:
		r.Title = t.T("report.title.final")
		resolved := ""
		if !inc.ResolvedAt.IsZero() {
			resolved = inc.ResolvedAt.In(loc).Format(layout)
		}
		add("resolved_at", label("report.field.resolved_at"), resolved)
		add("cause", label("incident.field.cause"), rep.Cause)
		add("action_provisional", label("incident.field.action_provisional"), rep.ActionProvisional)
		add("action_permanent", label("incident.field.action_permanent"), rep.ActionPermanent)
		add("prevention", label("incident.field.prevention"), rep.Prevention)
		if note.Draft != "" {
			add("comm_note", label("report.field.comm_note"), note.Draft)
		}
		add("next", label("report.field.next"), t.T("report.next_final"))
	}
	return r
}

// withDraft puts Comm's draft before (or, replacing, instead of) what hikyaku wrote.
func withDraft(note *reportNote, auto string) string {
	switch {
	case note.Draft == "":
		return auto
	case note.Replace || auto == "":
		return note.Draft
	}
	return note.Draft + "\n" + auto
}

// startedAt is when the first alert started firing, else when the incident opened.
func startedAt(m *Message, inc *store.Incident) time.Time {
	var first time.Time
	for _, a := range m.Alerts {
		if !a.StartsAt.IsZero() && (first.IsZero() || a.StartsAt.Before(first)) {
			first = a.StartsAt
		}
	}
	if first.IsZero() {
		return inc.CreatedAt
	}
	return first
}

// impactOf is the impact a note set, else the alerts' impact annotation.
func impactOf(rep store.ReportFields, m *Message) string {
	if rep.Impact != "" {
		return rep.Impact
	}
	if v := m.CommonAnnotations["impact"]; v != "" {
		return v
	}
	var vs []string
	for _, a := range m.Alerts.Firing() {
		if v := a.Annotations["impact"]; v != "" && !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	return strings.Join(vs, "; ")
}

// symptomOf is what fires: the summary (messageTitle) and the common description.
func symptomOf(m *Message) string {
	s := messageTitle(m)
	if d := m.CommonAnnotations["description"]; d != "" && d != s {
		if s != "" {
			s += "\n"
		}
		s += d
	}
	return s
}

// statusText is where the response stands.
func statusText(t catalog.For, cfg *config.Config, inc *store.Incident) string {
	switch {
	case inc.Status == store.StatusResolved:
		return t.T("report.status.resolved")
	case inc.Status == store.StatusAcked:
		return t.T("report.status.acked", personName(cfg, inc.AckedBy))
	case inc.Wait != nil:
		return t.T("report.status.waiting", inc.Wait.Reason)
	}
	return t.T("report.status.open")
}

func changeText(t catalog.For, cfg *config.Config, c reportChange) string {
	switch c.Field {
	case "status":
		return t.T("report.change", t.T("report.change.status"), statusOfWord(t, cfg, c.From), statusOfWord(t, cfg, c.To))
	case "severity":
		return t.T("report.change", t.T("incident.field.current_severity"), c.From, c.To)
	}
	return t.T("report.change", t.T("report.change.alerts"), c.From, c.To)
}

func statusOfWord(t catalog.For, cfg *config.Config, w string) string {
	status, acker, _ := strings.Cut(w, ":")
	return statusText(t, cfg, &store.Incident{Status: store.Status(status), AckedBy: acker})
}
