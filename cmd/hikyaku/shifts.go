package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/hikyaku/hikyaku/policies"
)

// defaultShiftsSpan is the window listed when --to is not given: two weeks
// shows the current and next handoff of a weekly rotation.
const defaultShiftsSpan = 14 * 24 * time.Hour

// shiftJSON is one entry of shifts' JSON output.
type shiftJSON struct {
	User     string    `json:"user"`
	Name     string    `json:"name,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Layer    string    `json:"layer"`
	Override bool      `json:"override"`
}

func runShifts(e *env, args []string) int {
	c := newFlags(e, "shifts", "shifts --rotation ID [--from TIME] [--to TIME] [--config FILE] [--server URL] [--output text|json]")
	id := c.fs.String("rotation", "", "rotation or schedule `id` (required)")
	var from, to timeFlag
	c.fs.Var(&from, "from", "start: RFC 3339 or \"2006-01-02 15:04\" in global.timezone (default now)")
	c.fs.Var(&to, "to", "end, exclusive (default --from plus 14 days)")
	stored := addStoredFlags(c.fs)
	if code, ok := c.parse(e, args); !ok {
		return code
	}
	if *id == "" {
		return c.usageErr(e, "--rotation is required: a rotation or schedule id")
	}
	cfg, ok := c.load(e)
	if !ok {
		return exitFail
	}
	if cfg.Rotation(*id) == nil && cfg.Schedule(*id) == nil {
		return c.fail(e, fmt.Errorf("no rotation or schedule %q in %s", *id, c.config))
	}
	start, err := from.get(cfg.Global.Location, e.now())
	if err != nil {
		return c.usageErr(e, "--from: %v", err)
	}
	end, err := to.get(cfg.Global.Location, start.Add(defaultShiftsSpan))
	if err != nil {
		return c.usageErr(e, "--to: %v", err)
	}
	if !end.After(start) {
		return c.usageErr(e, "--to must be after --from")
	}

	set, err := stored.apply(policies.Compile(cfg))
	if err != nil {
		return c.fail(e, err)
	}
	shifts, err := set.Shifts(*id, start, end)
	if err != nil {
		return c.fail(e, fmt.Errorf("shifts of %s: %w", *id, err))
	}
	loc := zoneOf(cfg, *id)
	out := make([]shiftJSON, 0, len(shifts))
	for _, sh := range shifts {
		out = append(out, shiftJSON{User: sh.User, Name: userName(cfg, sh.User), Start: sh.Start.In(loc), End: sh.End.In(loc), Layer: sh.Rotation, Override: sh.Override})
	}
	if c.json() {
		if err := writeJSON(e.stdout, out); err != nil {
			return c.fail(e, err)
		}
		return exitOK
	}

	if len(out) == 0 {
		fmt.Fprintf(e.stdout, "%s: nobody on call from %s to %s\n", *id, fmtTime(start, loc), fmtTime(end, loc))
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	// The name comes last: tabwriter counts runes, and wide names would
	// push later columns out of line.
	fmt.Fprintln(tw, "START\tEND\tUSER\tLAYER\tNAME")
	for _, sh := range out {
		layer := sh.Layer
		if sh.Override {
			layer += " (override)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", fmtTime(sh.Start, loc), fmtTime(sh.End, loc), sh.User, layer, sh.Name)
	}
	if err := tw.Flush(); err != nil {
		return c.fail(e, fmt.Errorf("write: %w", err))
	}
	return exitOK
}
