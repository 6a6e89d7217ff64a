package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
)

// oncallEntry is one line of oncall's JSON output: who is on call in one
// rotation or schedule. User is empty when nobody is; NextStart then says
// when someone next is (absent if nobody is within a year).
type oncallEntry struct {
	Department string     `json:"department"`
	Rotation   string     `json:"rotation,omitempty"`
	Schedule   string     `json:"schedule,omitempty"`
	User       string     `json:"user,omitempty"`
	Name       string     `json:"name,omitempty"`
	Start      *time.Time `json:"start,omitempty"`
	End        *time.Time `json:"end,omitempty"`
	Layer      string     `json:"layer,omitempty"`
	Override   bool       `json:"override,omitempty"`
	NextStart  *time.Time `json:"next_start,omitempty"`
}

// nextSearch are the windows searched, shortest first, for the next shift of
// a rotation that has nobody on call: most gaps end within a night or a
// weekend, and a short window keeps one-minute rotations cheap.
var nextSearch = []time.Duration{24 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour, 366 * 24 * time.Hour}

func runOncall(e *env, args []string) int {
	c := newFlags(e, "oncall", "oncall [--config FILE] [--at TIME] [--department ID] [--server URL] [--output text|json]")
	var at timeFlag
	c.fs.Var(&at, "at", "the instant asked about: RFC 3339 or \"2006-01-02 15:04\" in global.timezone (default now)")
	dept := c.fs.String("department", "", "only this department")
	stored := addStoredFlags(c.fs)
	if code, ok := c.parse(e, args); !ok {
		return code
	}
	cfg, ok := c.load(e)
	if !ok {
		return exitFail
	}
	t, err := at.get(cfg.Global.Location, e.now())
	if err != nil {
		return c.usageErr(e, "--at: %v", err)
	}
	depts := cfg.Departments
	if *dept != "" {
		d := cfg.Department(*dept)
		if d == nil {
			return c.fail(e, fmt.Errorf("unknown department %q", *dept))
		}
		depts = []*config.Department{d}
	}

	set, err := stored.apply(policies.Compile(cfg))
	if err != nil {
		return c.fail(e, err)
	}
	entries := []oncallEntry{}
	for _, d := range depts {
		for _, r := range d.Rotations {
			en := oncallAt(set, r.ID, t)
			en.Department, en.Rotation, en.Layer = d.ID, r.ID, ""
			entries = append(entries, en)
		}
		for _, s := range d.Schedules {
			en := oncallAt(set, s.ID, t)
			en.Department, en.Schedule = d.ID, s.ID
			entries = append(entries, en)
		}
	}
	for i := range entries {
		en := &entries[i]
		en.Name = userName(cfg, en.User)
		// Times are shown in the rotation's zone (global.timezone for
		// schedules), in JSON as in text.
		loc := zoneOf(cfg, en.Rotation+en.Schedule)
		for _, tp := range []*time.Time{en.Start, en.End, en.NextStart} {
			if tp != nil {
				*tp = tp.In(loc)
			}
		}
	}

	if c.json() {
		if err := writeJSON(e.stdout, entries); err != nil {
			return c.fail(e, err)
		}
		return exitOK
	}
	fmt.Fprintf(e.stdout, "on call at %s\n", fmtTime(t, cfg.Global.Location))
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	last := ""
	for _, en := range entries {
		if en.Department != last {
			last = en.Department
			d := cfg.Department(en.Department)
			title := d.ID
			if d.Name != "" && d.Name != d.ID {
				title += " (" + d.Name + ")"
			}
			fmt.Fprintf(tw, "\n%s\n", title)
		}
		kind, id := "rotation", en.Rotation
		if en.Schedule != "" {
			kind, id = "schedule", en.Schedule
		}
		loc := zoneOf(cfg, id)
		// Display names come last: tabwriter counts runes, so wide (CJK)
		// names would push every later column out of line.
		switch {
		case en.User == "" && en.NextStart != nil:
			fmt.Fprintf(tw, "  %s %s\tnobody\tuntil %s\n", kind, id, fmtTime(*en.NextStart, loc))
		case en.User == "":
			fmt.Fprintf(tw, "  %s %s\tnobody\tfor at least a year\n", kind, id)
		default:
			fmt.Fprintf(tw, "  %s %s\t%s\tuntil %s\t%s\n", kind, id, en.User, fmtTime(*en.End, loc), shiftNote(en.Name, en.Layer, en.Override))
		}
	}
	if len(entries) == 0 {
		fmt.Fprintln(tw, "\nno rotations or schedules")
	}
	if err := tw.Flush(); err != nil {
		return c.fail(e, fmt.Errorf("write: %w", err))
	}
	return exitOK
}

// oncallAt is who is on call in rotation or schedule id at t, or when the
// next shift starts if nobody is.
func oncallAt(set *policies.Set, id string, t time.Time) oncallEntry {
	if sh, ok := set.OnCall(id, t); ok {
		return oncallEntry{User: sh.User, Start: &sh.Start, End: &sh.End, Layer: sh.Rotation, Override: sh.Override}
	}
	for _, d := range nextSearch {
		shifts, err := set.Shifts(id, t, t.Add(d))
		if err != nil {
			break
		}
		for _, sh := range shifts {
			if !sh.Start.Before(t) {
				next := sh.Start
				return oncallEntry{NextStart: &next}
			}
		}
	}
	return oncallEntry{}
}

// shiftNote is the display name, and why someone is on call when the
// rotation's order alone does not say: an override, or a schedule's layer.
func shiftNote(name, layer string, override bool) string {
	var parts []string
	if name != "" {
		parts = append(parts, name)
	}
	if override {
		parts = append(parts, "override")
	}
	if layer != "" {
		parts = append(parts, "via "+layer)
	}
	return strings.Join(parts, ", ")
}
