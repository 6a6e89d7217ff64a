package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// incidentDetail is the part of GET /api/v1/incidents/{id} that
// `incidents show` reads.
type incidentDetail struct {
	ID         int64     `json:"id"`
	Status     string    `json:"status"`
	Severity   string    `json:"severity"`
	Department string    `json:"department"`
	Route      string    `json:"route"`
	Policy     string    `json:"policy"`
	CreatedAt  time.Time `json:"created_at"`
	AckedAt    time.Time `json:"acked_at"`
	AckedBy    string    `json:"acked_by"`
	ResolvedAt time.Time `json:"resolved_at"`
	Escalation struct {
		Step      int  `json:"step"`
		Round     int  `json:"round"`
		Exhausted bool `json:"exhausted"`
	} `json:"escalation"`
	Wait *struct {
		Reason string    `json:"reason"`
		Window string    `json:"window"`
		Until  time.Time `json:"until"`
	} `json:"wait"`
	Message *struct {
		Alerts []struct {
			Status      string            `json:"status"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
			StartsAt    time.Time         `json:"startsAt"`
			EndsAt      time.Time         `json:"endsAt"`
		} `json:"alerts"`
	} `json:"message"`
	Timeline []struct {
		At     time.Time         `json:"at"`
		Type   string            `json:"type"`
		Actor  string            `json:"actor"`
		Detail map[string]string `json:"detail"`
	} `json:"timeline"`
	// How the incident is run (docs/incidents.md).
	Roles  map[string]string `json:"roles"`
	Report *struct {
		CurrentSeverity string `json:"current_severity"`
	} `json:"report"`
}

// shown is `incidents show --output json`: the incident with its times in
// the chosen zone.
type shown struct {
	ID         int64        `json:"id"`
	Status     string       `json:"status"`
	Severity   string       `json:"severity,omitempty"`
	Department string       `json:"department,omitempty"`
	Route      string       `json:"route,omitempty"`
	Policy     string       `json:"policy,omitempty"`
	TimeZone   string       `json:"time_zone"`
	OpenedAt   string       `json:"opened_at"`
	AckedAt    string       `json:"acked_at,omitempty"`
	AckedBy    string       `json:"acked_by,omitempty"`
	ResolvedAt string       `json:"resolved_at,omitempty"`
	Plan       shownPlan    `json:"plan"`
	Alerts     []shownAlert `json:"alerts"`
	Timeline   []shownEvent `json:"timeline"`
	// How the incident is run: the severity set during it, when one was,
	// and the role holders (docs/incidents.md).
	CurrentSeverity string            `json:"current_severity,omitempty"`
	Roles           map[string]string `json:"roles,omitempty"`
}

type shownPlan struct {
	Step      int    `json:"step"`  // last fired step, from 1; 0 before the first
	Round     int    `json:"round"` // from 1
	Exhausted bool   `json:"exhausted"`
	Waiting   string `json:"waiting,omitempty"` // why it pages nobody yet
	Until     string `json:"until,omitempty"`   // when it is routed again
}

type shownAlert struct {
	Status      string            `json:"status"`
	StartsAt    string            `json:"starts_at"`
	EndsAt      string            `json:"ends_at,omitempty"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type shownEvent struct {
	At     string            `json:"at"`
	Type   string            `json:"type"`
	Actor  string            `json:"actor,omitempty"`
	Detail map[string]string `json:"detail,omitempty"`
}

// showZone is --tz, else the config's global.timezone, else the local zone.
func showZone(tz, configPath string) (*time.Location, error) {
	if tz == "" && configPath != "" {
		cfg, err := config.Load(configPath)
		if err != nil {
			return nil, err
		}
		tz = cfg.Global.TimeZone
	}
	if tz == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("--tz %q: %w", tz, err)
	}
	return loc, nil
}

// inZone is t in loc with the zone's abbreviation (JST, CET); "" for zero.
func inZone(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

func (d *incidentDetail) shown(loc *time.Location) shown {
	s := shown{ID: d.ID, Status: d.Status, Severity: d.Severity, Department: d.Department, Route: d.Route,
		Policy: d.Policy, TimeZone: loc.String(), OpenedAt: inZone(d.CreatedAt, loc), AckedAt: inZone(d.AckedAt, loc),
		AckedBy: d.AckedBy, ResolvedAt: inZone(d.ResolvedAt, loc),
		Plan:   shownPlan{Step: d.Escalation.Step + 1, Round: d.Escalation.Round + 1, Exhausted: d.Escalation.Exhausted},
		Alerts: []shownAlert{}, Timeline: []shownEvent{}}
	s.Roles = d.Roles
	if d.Report != nil {
		s.CurrentSeverity = d.Report.CurrentSeverity
	}
	if d.Wait != nil {
		s.Plan.Waiting, s.Plan.Until = d.Wait.Reason, inZone(d.Wait.Until, loc)
	}
	if d.Message != nil {
		for _, a := range d.Message.Alerts {
			end := ""
			if a.EndsAt.Year() > 1 {
				end = inZone(a.EndsAt, loc)
			}
			s.Alerts = append(s.Alerts, shownAlert{Status: a.Status, StartsAt: inZone(a.StartsAt, loc), EndsAt: end,
				Labels: a.Labels, Annotations: a.Annotations})
		}
	}
	for _, ev := range d.Timeline {
		s.Timeline = append(s.Timeline, shownEvent{At: inZone(ev.At, loc), Type: ev.Type, Actor: ev.Actor, Detail: ev.Detail})
	}
	return s
}

// runShow: hikyaku incidents show ID [--tz ZONE] [--config FILE].
func runShow(e *env, args []string) int {
	c := newClient(e, "incidents show", "incidents show ID [--tz ZONE | --config FILE] [--server URL] [--output text|json]")
	tz := c.fs.String("tz", "", "show times in this IANA `zone` (default: the --config's global.timezone, else local)")
	configPath := c.fs.String("config", "", "read global.timezone from this config `file`")
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := c.fs.Parse(args); err != nil {
		return exitUsage
	}
	if id == "" && c.fs.NArg() == 1 {
		id = c.fs.Arg(0)
	} else if c.fs.NArg() > 0 || id == "" || (c.output != "text" && c.output != "json") {
		c.fs.Usage()
		return exitUsage
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(id, "#"), 10, 64)
	if err != nil || n <= 0 {
		fmt.Fprintf(e.stderr, "hikyaku incidents show: incident id %q: want a positive number\n", id)
		return exitUsage
	}
	loc, err := showZone(*tz, *configPath)
	if err != nil {
		fmt.Fprintf(e.stderr, "hikyaku incidents show: %v\n", err)
		return exitUsage
	}
	var d incidentDetail
	if err := c.call("GET", fmt.Sprintf("/api/v1/incidents/%d", n), &d); err != nil {
		fmt.Fprintf(e.stderr, "hikyaku incidents show: %v\n", err)
		return exitFail
	}
	s := d.shown(loc)
	if c.output == "json" {
		if err := writeJSON(e.stdout, s); err != nil {
			return exitFail
		}
		return exitOK
	}
	writeShown(e.stdout, s)
	return exitOK
}

func writeShown(w io.Writer, s shown) {
	fmt.Fprintf(w, "incident %d: %s\n", s.ID, s.Status)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	roles := ""
	if len(s.Roles) > 0 {
		roles = rolesLine(s.Roles)
	}
	for _, row := range [][2]string{{"severity", s.Severity}, {"current severity", s.CurrentSeverity}, {"roles", roles}, {"department", s.Department}, {"route", s.Route},
		{"policy", s.Policy}, {"opened", s.OpenedAt}, {"acked", strings.TrimSpace(s.AckedAt + " " + s.AckedBy)},
		{"resolved", s.ResolvedAt}} {
		if row[1] != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", row[0], row[1])
		}
	}
	plan := fmt.Sprintf("step %d, round %d", s.Plan.Step, s.Plan.Round)
	if s.Plan.Step == 0 {
		plan = "no step fired yet"
	}
	if s.Plan.Exhausted {
		plan += ", exhausted"
	}
	if s.Plan.Waiting != "" {
		plan += fmt.Sprintf(", waiting (%s) until %s", s.Plan.Waiting, s.Plan.Until)
	}
	fmt.Fprintf(tw, "  plan\t%s\n", plan)
	tw.Flush()
	fmt.Fprintf(w, "alerts (%d):\n", len(s.Alerts))
	for _, a := range s.Alerts {
		fmt.Fprintf(w, "  %s since %s  %s\n", a.Status, a.StartsAt, labelString(a.Labels))
		if sum := a.Annotations["summary"]; sum != "" {
			fmt.Fprintf(w, "    %s\n", sum)
		}
	}
	fmt.Fprintf(w, "timeline (%d):\n", len(s.Timeline))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, ev := range s.Timeline {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", ev.At, ev.Type, ev.Actor, labelString(ev.Detail))
	}
	tw.Flush()
}

func labelString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}
