package main

import (
	"fmt"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// The stored overrides and mutes of a running server: made, listed and
// removed through its API, acting as the API token's user, so the roles
// decide who may (docs/oncall.md, "Stored overrides" and "Mute now").

const overrideUsage = `Usage: hikyaku override add --for USER --covered-by USER [--rotation ID] [--start T] (--end T | --duration D) [--reason TEXT]
       hikyaku override list [--all]
       hikyaku override remove ID
Times are RFC 3339 or "2006-01-02 15:04" in --tz (default: the --config's global.timezone, else local).`

func runOverride(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, overrideUsage)
		return exitUsage
	}
	switch args[0] {
	case "add":
		return runOverrideAdd(e, args[1:])
	case "list":
		return runStoredList(e, "override", "/api/v1/overrides", args[1:])
	case "remove":
		return runStoredDelete(e, "override remove", "/api/v1/overrides/", args[1:])
	}
	fmt.Fprintln(e.stderr, overrideUsage)
	return exitUsage
}

func runOverrideAdd(e *env, args []string) int {
	c := newClient(e, "override add", "override add --for USER --covered-by USER [--rotation ID] [--start T] (--end T | --duration D) [--reason TEXT] [--tz ZONE | --config FILE]")
	who := c.fs.String("for", "", "whose shifts are covered (required; a responder names themself)")
	by := c.fs.String("covered-by", "", "who covers them (required)")
	rotation := c.fs.String("rotation", "", "only in this rotation or schedule `id` (default: every one)")
	reason := c.fs.String("reason", "", "why, for the list")
	tz := c.fs.String("tz", "", "read times in this IANA `zone` (default: the --config's global.timezone, else local)")
	cfgPath := c.fs.String("config", "", "`file` whose global.timezone reads the times")
	var start, end timeFlag
	c.fs.Var(&start, "start", "when the cover starts (default now)")
	c.fs.Var(&end, "end", "when it ends, exclusive")
	var dur durationFlag
	c.fs.Var(&dur, "duration", "how long it lasts from --start, e.g. 2h, 1d (instead of --end)")
	if err := c.fs.Parse(args); err != nil {
		return exitUsage
	}
	switch {
	case c.fs.NArg() > 0:
		return clientUsage(e, c, "override add: unexpected argument %q", c.fs.Arg(0))
	case *who == "":
		return clientUsage(e, c, "override add: --for is required: whose shifts are covered")
	case *by == "":
		return clientUsage(e, c, "override add: --covered-by is required: who covers them")
	case (end.raw == "") == (dur == 0):
		return clientUsage(e, c, "override add: give --end or --duration, one of them")
	}
	loc, err := showZone(*tz, *cfgPath)
	if err != nil {
		fmt.Fprintf(e.stderr, "hikyaku override add: %v\n", err)
		return exitFail
	}
	from, err := start.get(loc, e.now())
	if err != nil {
		return clientUsage(e, c, "override add: --start: %v", err)
	}
	to := from.Add(time.Duration(dur))
	if dur == 0 {
		if to, err = end.get(loc, time.Time{}); err != nil {
			return clientUsage(e, c, "override add: --end: %v", err)
		}
	}
	body := map[string]any{"for": *who, "by": *by, "rotation": *rotation, "start": from, "end": to, "reason": *reason}
	var o store.Override
	if err := c.callBody("POST", "/api/v1/overrides", body, &o); err != nil {
		fmt.Fprintf(e.stderr, "hikyaku override add: %v\n", err)
		return exitFail
	}
	if c.output == "json" {
		return jsonOut(e, o)
	}
	fmt.Fprintf(e.stdout, "override %s: %s covers %s%s from %s to %s\n", o.ID, o.By, o.For, inRotation(o.Rotation),
		fmtTime(o.Start, loc), fmtTime(o.End, loc))
	return exitOK
}

func inRotation(id string) string {
	if id == "" {
		return ""
	}
	return " in " + id
}

const maintenanceUsage = `Usage: hikyaku maintenance start (--route R | --department D) --for DURATION --reason TEXT
       hikyaku maintenance list [--all]
       hikyaku maintenance end ID`

func runMaintenance(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, maintenanceUsage)
		return exitUsage
	}
	switch args[0] {
	case "start":
		return runMaintenanceStart(e, args[1:])
	case "list":
		return runStoredList(e, "maintenance", "/api/v1/maintenance", args[1:])
	case "end":
		return runStoredDelete(e, "maintenance end", "/api/v1/maintenance/", args[1:])
	}
	fmt.Fprintln(e.stderr, maintenanceUsage)
	return exitUsage
}

func runMaintenanceStart(e *env, args []string) int {
	c := newClient(e, "maintenance start", "maintenance start (--route R | --department D) --for DURATION --reason TEXT [--server URL]")
	route := c.fs.String("route", "", "mute this route's incidents")
	dept := c.fs.String("department", "", "mute this department's incidents")
	reason := c.fs.String("reason", "", "why (required): the timeline and the list say it")
	var dur durationFlag
	c.fs.Var(&dur, "for", "how long from now, e.g. 30m, 2h (required)")
	if err := c.fs.Parse(args); err != nil {
		return exitUsage
	}
	switch {
	case c.fs.NArg() > 0:
		return clientUsage(e, c, "maintenance start: unexpected argument %q", c.fs.Arg(0))
	case (*route == "") == (*dept == ""):
		return clientUsage(e, c, "maintenance start: give --route or --department, one of them")
	case dur == 0:
		return clientUsage(e, c, "maintenance start: --for is required, e.g. --for 30m")
	case *reason == "":
		return clientUsage(e, c, "maintenance start: --reason is required")
	}
	body := map[string]string{"route": *route, "department": *dept, "for": time.Duration(dur).String(), "reason": *reason}
	var m store.Mute
	if err := c.callBody("POST", "/api/v1/maintenance", body, &m); err != nil {
		fmt.Fprintf(e.stderr, "hikyaku maintenance start: %v\n", err)
		return exitFail
	}
	if c.output == "json" {
		return jsonOut(e, m)
	}
	fmt.Fprintf(e.stdout, "mute %s: %s pages nobody until %s\n", m.ID, muteScope(m), fmtTime(m.End, time.Local))
	return exitOK
}

func muteScope(m store.Mute) string {
	if m.Route != "" {
		return "route " + m.Route
	}
	return "department " + m.Department
}

// runStoredList: override list, maintenance list.
func runStoredList(e *env, name, path string, args []string) int {
	c := newClient(e, name+" list", name+" list [--all] [--server URL] [--output text|json]")
	all := c.fs.Bool("all", false, "also those that ended")
	if err := c.fs.Parse(args); err != nil {
		return exitUsage
	}
	if c.fs.NArg() > 0 {
		return clientUsage(e, c, "%s list: unexpected argument %q", name, c.fs.Arg(0))
	}
	if *all {
		path += "?" + url.Values{"all": {"1"}}.Encode()
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	if name == "override" {
		var os []store.Override
		if err := c.call("GET", path, &os); err != nil {
			fmt.Fprintf(e.stderr, "hikyaku override list: %v\n", err)
			return exitFail
		}
		if c.output == "json" {
			return jsonOut(e, os)
		}
		if len(os) == 0 {
			fmt.Fprintln(e.stdout, "no overrides")
			return exitOK
		}
		fmt.Fprintln(tw, "ID\tFOR\tBY\tROTATION\tSTART\tEND\tMADE BY\tREASON")
		for _, o := range os {
			rot := o.Rotation
			if rot == "" {
				rot = "(all)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.ID, o.For, o.By, rot, fmtTime(o.Start, time.Local), fmtTime(o.End, time.Local), o.CreatedBy, o.Reason)
		}
	} else {
		var ms []store.Mute
		if err := c.call("GET", path, &ms); err != nil {
			fmt.Fprintf(e.stderr, "hikyaku maintenance list: %v\n", err)
			return exitFail
		}
		if c.output == "json" {
			return jsonOut(e, ms)
		}
		if len(ms) == 0 {
			fmt.Fprintln(e.stdout, "no mutes")
			return exitOK
		}
		fmt.Fprintln(tw, "ID\tMUTES\tFROM\tUNTIL\tSTARTED BY\tENDED BY\tREASON")
		for _, m := range ms {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, muteScope(m), fmtTime(m.Start, time.Local), fmtTime(m.End, time.Local), m.CreatedBy, m.EndedBy, m.Reason)
		}
	}
	if err := tw.Flush(); err != nil {
		return exitFail
	}
	return exitOK
}

// runStoredDelete: override remove ID, maintenance end ID.
func runStoredDelete(e *env, name, path string, args []string) int {
	c := newClient(e, name, name+" ID [--server URL] [--output text|json]")
	if err := c.fs.Parse(args); err != nil {
		return exitUsage
	}
	if c.fs.NArg() != 1 {
		return clientUsage(e, c, "%s: want one ID (the list shows them)", name)
	}
	id := c.fs.Arg(0)
	body, err := c.fetch("DELETE", path+url.PathEscape(id), nil)
	if err != nil {
		fmt.Fprintf(e.stderr, "hikyaku %s: %v\n", name, err)
		return exitFail
	}
	if c.output == "json" {
		_, err := e.stdout.Write(body)
		if err != nil {
			return exitFail
		}
		return exitOK
	}
	if name == "override remove" {
		fmt.Fprintf(e.stdout, "override %s removed\n", id)
	} else {
		fmt.Fprintf(e.stdout, "mute %s ended: what it muted and still fires pages now\n", id)
	}
	return exitOK
}

func jsonOut(e *env, v any) int {
	if err := writeJSON(e.stdout, v); err != nil {
		return exitFail
	}
	return exitOK
}

// clientUsage says what is wrong with the command line and the flags.
func clientUsage(e *env, c *client, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "hikyaku "+format+"\n\n", args...)
	c.fs.Usage()
	return exitUsage
}
