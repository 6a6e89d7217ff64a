package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/common/model"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/router"
)

// defaultSimulateFor is how much of the escalation simulate plays out: two
// hours outlasts every sensible policy, so "exhausted" normally shows.
const defaultSimulateFor = 2 * time.Hour

// simulateReport is simulate's JSON output.
type simulateReport struct {
	Alert     string            `json:"alert"` // the payload file
	At        time.Time         `json:"at"`
	GroupKey  string            `json:"group_key,omitempty"`
	Status    string            `json:"status"`
	Alerts    int               `json:"alerts"`
	Labels    map[string]string `json:"labels"`
	Decisions []decisionJSON    `json:"decisions"`
	// Heartbeats the group is the alert of: the daemon takes it as a sign of life and routes nothing.
	Heartbeats []heartbeatJSON `json:"heartbeats,omitempty"`
}

type heartbeatJSON struct {
	Name    string `json:"name"`
	Timeout string `json:"timeout"`
}

type decisionJSON struct {
	Route       string        `json:"route"`
	Department  string        `json:"department,omitempty"`
	Policy      string        `json:"policy,omitempty"`
	Severity    string        `json:"severity,omitempty"`
	Action      string        `json:"action"`
	HoldUntil   *time.Time    `json:"hold_until,omitempty"`
	Maintenance string        `json:"maintenance,omitempty"`
	Note        string        `json:"note,omitempty"`
	Informed    *informedJSON `json:"stakeholders,omitempty"`
	Plan        *planJSON     `json:"plan,omitempty"`
	Reports     *reportsJSON  `json:"reports,omitempty"`
}

// reportsJSON are the stakeholder reports the decision's incident sends
// (router.PlanReports), its times in the department's zone.
type reportsJSON struct {
	TimeZone   string              `json:"time_zone"`
	Period     string              `json:"period"` // "" when no department sets update_every
	Recipients []reportToJSON      `json:"recipients"`
	Reports    []plannedReportJSON `json:"reports"`
}

type reportToJSON struct {
	User        string `json:"user,omitempty"`
	ChatChannel string `json:"chat_channel,omitempty"`
	Channel     string `json:"channel"` // "" : no written contact, not informed
	Language    string `json:"language"`
}

type plannedReportJSON struct {
	Phase  string     `json:"phase"` // initial, update, final
	Number int        `json:"number,omitempty"`
	Title  string     `json:"title"`
	At     *time.Time `json:"at"`              // null: the final report comes when the incident resolves
	After  string     `json:"after,omitempty"` // from the alert's arrival (--at)
	after  time.Duration
}

// informedJSON are the stakeholders a "stakeholders" decision informs.
type informedJSON struct {
	Users        []string `json:"users"`
	ChatChannels []string `json:"chat_channels"`
}

type planJSON struct {
	Policy    string     `json:"policy"`
	Start     time.Time  `json:"start"`
	Steps     []stepJSON `json:"steps"`
	Pages     []pageJSON `json:"pages"`
	Until     time.Time  `json:"until"` // end of the simulated window (--for)
	Exhausted *time.Time `json:"exhausted,omitempty"`
}

type stepJSON struct {
	At           time.Time `json:"at"`
	After        string    `json:"after"`
	Step         int       `json:"step"`
	Round        int       `json:"round"`
	Users        []string  `json:"users"`
	ChatChannels []string  `json:"chat_channels"`
	Empty        bool      `json:"empty"` // nobody on call and no fallback: the next step fired at once
	Fallback     string    `json:"fallback,omitempty"`
}

type pageJSON struct {
	At          time.Time `json:"at"`
	After       string    `json:"after"`
	Step        int       `json:"step"`
	Round       int       `json:"round"`
	User        string    `json:"user,omitempty"`
	Channel     string    `json:"channel,omitempty"`
	ChatChannel string    `json:"chat_channel,omitempty"`
	Fallback    bool      `json:"fallback,omitempty"`
}

func runSimulate(e *env, args []string) int {
	c := newFlags(e, "simulate", "simulate --alert PAYLOAD.json [--at TIME] [--for 2h] [--config FILE] [--output text|json]")
	alert := c.fs.String("alert", "", "Alertmanager webhook payload `file` (JSON; required)")
	var at timeFlag
	c.fs.Var(&at, "at", "when the alert arrives: RFC 3339 or \"2006-01-02 15:04\" in global.timezone (default: the first alert's startsAt)")
	horizon := durationFlag(defaultSimulateFor)
	c.fs.Var(&horizon, "for", "how much of the escalation to play out")
	if code, ok := c.parse(e, args); !ok {
		return code
	}
	if *alert == "" {
		return c.usageErr(e, "--alert is required: an Alertmanager webhook payload file")
	}
	cfg, ok := c.load(e)
	if !ok {
		return exitFail
	}
	msg, err := readWebhook(*alert)
	if err != nil {
		return c.fail(e, err)
	}
	def := e.now()
	if len(msg.Alerts) > 0 && !msg.Alerts[0].StartsAt.IsZero() {
		def = msg.Alerts[0].StartsAt
	}
	t, err := at.get(cfg.Global.Location, def)
	if err != nil {
		return c.usageErr(e, "--at: %v", err)
	}
	// Every time in the output is in global.timezone, startsAt (UTC) included.
	t = t.In(cfg.Global.Location)

	resolved := resolvedAt(msg)
	if !resolved.IsZero() && resolved.Before(t) {
		resolved = t // --at after the alerts ended: resolved on arrival
	}
	until := t.Add(time.Duration(horizon))

	set := policies.Compile(cfg)
	rep := simulateReport{Alert: *alert, At: t, GroupKey: msg.GroupKey, Status: msg.Status, Alerts: len(msg.Alerts), Labels: msg.Labels(), Decisions: []decisionJSON{}}
	for _, h := range cfg.Heartbeats {
		if h.Matches(msg.Labels()) {
			rep.Heartbeats = append(rep.Heartbeats, heartbeatJSON{Name: h.Name, Timeout: h.Timeout.String()})
		}
	}
	for _, d := range set.Route(msg.Labels(), t) {
		if len(rep.Heartbeats) > 0 {
			break // consumed as a heartbeat, as the daemon does
		}
		dj := decisionJSON{Route: d.Route, Department: d.Department, Policy: d.Policy, Severity: d.Severity, Action: string(d.Action), Maintenance: d.Maintenance, Note: d.Note}
		start := t
		if !d.HoldUntil.IsZero() {
			hu := d.HoldUntil.In(t.Location())
			dj.HoldUntil, start = &hu, hu
		}
		switch d.Action {
		case policies.ActionPage, policies.ActionHold:
			plan, err := set.Plan(d.Policy, start, time.Duration(horizon))
			if err != nil {
				return c.fail(e, fmt.Errorf("route %s: %w", d.Route, err))
			}
			dj.Plan = planView(plan, start, start.Add(time.Duration(horizon)))
		case policies.ActionStakeholders:
			if dep := cfg.Department(d.Department); dep != nil {
				dj.Informed = &informedJSON{Users: nonNil(dep.Stakeholders.Users), ChatChannels: nonNil(dep.Stakeholders.ChatChannels)}
			}
		}
		dj.Reports = reportsView(cfg, router.PlanReports(set, d, t, resolved, until), t)
		rep.Decisions = append(rep.Decisions, dj)
	}

	if c.json() {
		if err := writeJSON(e.stdout, rep); err != nil {
			return c.fail(e, err)
		}
		return exitOK
	}
	if err := printSimulation(e.stdout, cfg, rep); err != nil {
		return c.fail(e, err)
	}
	return exitOK
}

// readWebhook decodes a payload file exactly as serve decodes a webhook body,
// so what simulate accepts is what the daemon accepts.
func readWebhook(path string) (*router.Message, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("alert payload: %w", err)
	}
	msg, err := router.DecodeMessage(data)
	if err != nil {
		return nil, fmt.Errorf("alert payload %s: %w", path, err)
	}
	return msg, nil
}

// resolvedAt is when a resolved payload's incident resolves: the last of
// its alerts' endsAt. Zero for a payload with an alert still firing.
func resolvedAt(msg *router.Message) time.Time {
	if msg.Status != "resolved" || len(msg.Alerts) == 0 {
		return time.Time{}
	}
	var last time.Time
	for _, a := range msg.Alerts {
		if a.Status != "resolved" || a.EndsAt.IsZero() {
			return time.Time{}
		}
		if a.EndsAt.After(last) {
			last = a.EndsAt
		}
	}
	return last
}

// reportsView converts a report plan to its JSON form, nil when the
// decision informs nobody; each report's title is the catalog's, in
// global.language.
func reportsView(cfg *config.Config, p *router.ReportPlan, open time.Time) *reportsJSON {
	if len(p.Recipients) == 0 {
		return nil
	}
	out := &reportsJSON{TimeZone: p.Location.String(), Recipients: []reportToJSON{}, Reports: []plannedReportJSON{}}
	if p.Period > 0 {
		out.Period = offset(p.Period)
	}
	for _, r := range p.Recipients {
		out.Recipients = append(out.Recipients, reportToJSON{User: r.User, ChatChannel: r.ChatChannel, Channel: r.Channel, Language: r.Language})
	}
	t := catalog.For(cfg.Global.Language)
	for _, r := range p.Reports {
		pj := plannedReportJSON{Phase: r.Phase}
		switch r.Phase {
		case router.PhaseInitial:
			pj.Title = t.T("report.title.initial")
		case router.PhaseUpdate:
			pj.Number, pj.Title = r.Number, t.T("report.title.update", r.Number)
		default:
			pj.Title = t.T("report.title.final")
		}
		if !r.At.IsZero() {
			at := r.At
			pj.At, pj.After, pj.after = &at, offset(at.Sub(open)), at.Sub(open)
		}
		out.Reports = append(out.Reports, pj)
	}
	return out
}

// planView converts a plan to the documented JSON form, with 1-based steps
// and rounds as people count them, and each time's offset from start (when
// paging starts: a held alert's hold_until).
func planView(p policies.Plan, start, until time.Time) *planJSON {
	out := &planJSON{Policy: p.Policy, Start: start, Until: until, Steps: []stepJSON{}, Pages: []pageJSON{}}
	for _, s := range p.Steps {
		out.Steps = append(out.Steps, stepJSON{
			At: s.At.In(start.Location()), After: offset(s.At.Sub(start)), Step: s.Step + 1, Round: s.Round + 1,
			Users: nonNil(s.Users), ChatChannels: nonNil(s.ChatChannels), Empty: s.Empty, Fallback: s.Fallback,
		})
	}
	for _, pg := range p.Pages {
		out.Pages = append(out.Pages, pageJSON{
			At: pg.At.In(start.Location()), After: offset(pg.At.Sub(start)), Step: pg.Step + 1, Round: pg.Round + 1,
			User: pg.User, Channel: string(pg.Channel), ChatChannel: pg.ChatChannel, Fallback: pg.Fallback,
		})
	}
	if !p.Exhausted.IsZero() {
		ex := p.Exhausted.In(start.Location())
		out.Exhausted = &ex
	}
	return out
}

// offset is d as a Prometheus duration ("0s", "3m", "1h15m").
func offset(d time.Duration) string { return model.Duration(d).String() }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// planLine is one line of a plan in text form, at a time.
type planLine struct {
	at   time.Time
	text string
}

func printSimulation(w io.Writer, cfg *config.Config, rep simulateReport) error {
	loc := cfg.Global.Location
	fmt.Fprintf(w, "alert group %s: %s, %s, at %s\n", model.LabelSet(labelSet(rep.Labels)), plural(rep.Alerts, "alert"), rep.Status, fmtTime(rep.At, loc))
	for _, h := range rep.Heartbeats {
		fmt.Fprintf(w, "\nheartbeat %s: a sign of life, not an incident; hikyaku pages when none arrives within %s\n", h.Name, h.Timeout)
	}
	for _, d := range rep.Decisions {
		fmt.Fprintf(w, "\n%s\n", describeDecision(cfg, d, loc))
		if d.Note != "" {
			fmt.Fprintf(w, "  note: %s\n", d.Note)
		}
		if d.Plan != nil {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			for _, l := range planLines(cfg, d.Plan) {
				fmt.Fprintf(tw, "  %s\t%s\n", fmtOffset(l.at.Sub(d.Plan.Start)), l.text)
			}
			if err := tw.Flush(); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		}
		if err := printReports(w, cfg, d.Reports); err != nil {
			return err
		}
	}
	return nil
}

// printReports lists a decision's stakeholder reports: whom they reach on
// which channel, then each report at its time in the department's zone.
func printReports(w io.Writer, cfg *config.Config, r *reportsJSON) error {
	if r == nil {
		return nil
	}
	every := "no periodic updates (no update_every)"
	if r.Period != "" {
		every = "an update every " + r.Period
	}
	fmt.Fprintf(w, "  stakeholder reports, %s, times in %s:\n", every, r.TimeZone)
	var to []string
	for _, rc := range r.Recipients {
		name := chatName(cfg, rc.ChatChannel)
		if rc.User != "" {
			name = person(cfg, rc.User)
		}
		if rc.Channel == "" {
			to = append(to, name+" not informed (no written contact)")
			continue
		}
		to = append(to, name+" "+rc.Channel+" ("+rc.Language+")")
	}
	fmt.Fprintf(w, "    to: %s\n", strings.Join(to, ", "))
	if len(r.Reports) == 0 {
		fmt.Fprintln(w, "    none: no recipient has a written contact")
	}
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		return fmt.Errorf("report zone %q: %w", r.TimeZone, err)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range r.Reports {
		when := "when resolved"
		if p.At != nil {
			when = fmtTime(*p.At, loc) + "\t" + fmtOffset(p.after)
		} else {
			when += "\t"
		}
		fmt.Fprintf(tw, "    %s\t%s\n", when, p.Title)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

func labelSet(kv map[string]string) model.LabelSet {
	ls := make(model.LabelSet, len(kv))
	for k, v := range kv {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// describeDecision is a decision's headline.
func describeDecision(cfg *config.Config, d decisionJSON, loc *time.Location) string {
	route := d.Route
	if route == "" {
		route = "default_route"
	}
	switch policies.Action(d.Action) {
	case policies.ActionDrop:
		return fmt.Sprintf("route %s: dropped (nothing recorded, nobody paged)", route)
	case policies.ActionMaintenance:
		return fmt.Sprintf("route %s: department %s, severity %s: maintenance window %s: recorded, nobody paged", route, d.Department, d.Severity, d.Maintenance)
	case policies.ActionStakeholders:
		s := fmt.Sprintf("route %s: department %s, severity %s: outside active hours: stakeholders informed, nobody paged", route, d.Department, d.Severity)
		if d.Informed != nil {
			var who []string
			for _, u := range d.Informed.Users {
				who = append(who, person(cfg, u))
			}
			for _, ch := range d.Informed.ChatChannels {
				who = append(who, chatName(cfg, ch))
			}
			if len(who) > 0 {
				s += " (" + strings.Join(who, ", ") + ")"
			} else {
				s += " (the department has no stakeholders)"
			}
		}
		return s
	case policies.ActionHold:
		return fmt.Sprintf("route %s: department %s, policy %s, severity %s: held until %s, then pages", route, d.Department, d.Policy, d.Severity, fmtTime(*d.HoldUntil, loc))
	default:
		return fmt.Sprintf("route %s: department %s, policy %s, severity %s: page", route, d.Department, d.Policy, d.Severity)
	}
}

// planLines renders a plan in time order: each step's firing with the pages
// sent at that instant folded in ("step 1: yamada (山田 太郎) sms, slack;
// #eng-incidents"), then each later page on its own line ("yamada voice").
func planLines(cfg *config.Config, p *planJSON) []planLine {
	type key struct {
		step, round int
		at          time.Time
	}
	folded := map[key][]pageJSON{}
	for _, s := range p.Steps {
		folded[key{s.Step, s.Round, s.At}] = []pageJSON{}
	}
	// Steps go first so that the stable sort below keeps a step above the
	// pages of earlier steps that fall at the same instant.
	lines := make([]planLine, len(p.Steps), len(p.Steps)+len(p.Pages)+1)
	for _, pg := range p.Pages {
		k := key{pg.Step, pg.Round, pg.At}
		if _, ok := folded[k]; ok {
			folded[k] = append(folded[k], pg)
			continue
		}
		what := pg.User + " " + pg.Channel
		if pg.ChatChannel != "" {
			what = chatName(cfg, pg.ChatChannel)
		}
		lines = append(lines, planLine{pg.At, what})
	}
	for i, s := range p.Steps {
		lines[i] = planLine{s.At, stepText(cfg, p.Policy, s, folded[key{s.Step, s.Round, s.At}])}
	}
	slices.SortStableFunc(lines, func(a, b planLine) int { return a.at.Compare(b.at) })
	if p.Exhausted != nil {
		lines = append(lines, planLine{*p.Exhausted, "escalation exhausted"})
	} else {
		lines = append(lines, planLine{p.Until, "still escalating (end of --for)"})
	}
	return lines
}

// stepText is a step's firing: who it pages on which channels, and its chat channels.
func stepText(cfg *config.Config, policy string, s stepJSON, pages []pageJSON) string {
	head := fmt.Sprintf("step %d", s.Step)
	if s.Round > 1 {
		head += fmt.Sprintf(" (round %d)", s.Round)
	}
	users := slices.Clone(s.Users)
	if s.Fallback != "" && !slices.Contains(users, s.Fallback) {
		users = append(users, s.Fallback)
	}
	var parts []string
	for _, u := range users {
		var chans []string
		for _, pg := range pages {
			if pg.User == u && pg.Channel != "" {
				chans = append(chans, pg.Channel)
			}
		}
		part := person(cfg, u)
		if u == s.Fallback {
			part = "fallback " + part
		}
		if len(chans) > 0 {
			part += " " + strings.Join(chans, ", ")
		}
		parts = append(parts, part)
	}
	if s.Empty {
		parts = append(parts, "nobody on call"+emptyTargets(cfg, policy, s.Step))
	}
	text := head + ": " + strings.Join(parts, "; ")
	if len(s.ChatChannels) > 0 {
		var names []string
		for _, ch := range s.ChatChannels {
			names = append(names, chatName(cfg, ch))
		}
		text += "; " + strings.Join(names, ", ")
	}
	return text
}

// emptyTargets names the rotations and schedules of a step that had nobody
// on call, so the reader knows which roster to fix.
func emptyTargets(cfg *config.Config, policy string, step int) string {
	p := cfg.Policy(policy)
	if p == nil || step < 1 || step > len(p.Steps) {
		return ""
	}
	t := p.Steps[step-1].Targets
	ids := slices.Concat(t.Rotations, t.Schedules, t.Departments)
	if len(ids) == 0 {
		return ""
	}
	return " in " + strings.Join(ids, ", ") + "; next step at once"
}
