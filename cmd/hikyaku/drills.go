package main

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hikyaku/hikyaku/router"
)

const drillsUsage = "Usage: hikyaku drills list [--department D] | show ID | run DEPARTMENT  (docs/drills.md)"

// runDrills is `hikyaku drills list|show|run`: a running server's drills
// (GET /api/v1/drills, GET /api/v1/drills/ID), and one started now by a
// department's admin (POST /api/v1/drills).
func runDrills(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, drillsUsage)
		return exitUsage
	}
	switch args[0] {
	case "list":
		return drillsList(e, args[1:])
	case "show":
		return drillOne(e, "show", "drills show ID [--server URL]", args[1:])
	case "run":
		return drillOne(e, "run", "drills run DEPARTMENT [--server URL]", args[1:])
	}
	fmt.Fprintln(e.stderr, drillsUsage)
	return exitUsage
}

func drillsList(e *env, args []string) int {
	c := newClient(e, "drills list", "drills list [--department D] [--limit N] [--server URL]")
	dept := c.fs.String("department", "", "only this `department`'s drills")
	limit := c.fs.Int("limit", 20, "at most `N` drills, newest first (1 to 100)")
	if err := c.fs.Parse(args); err != nil {
		return exitUsage
	}
	if c.fs.NArg() > 0 || (c.output != "text" && c.output != "json") {
		c.fs.Usage()
		return exitUsage
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *dept != "" {
		q.Set("department", *dept)
	}
	var list router.DrillList
	if err := c.call("GET", "/api/v1/drills?"+q.Encode(), &list); err != nil {
		fmt.Fprintf(e.stderr, "hikyaku drills list: %v\n", err)
		return exitFail
	}
	if c.output == "json" {
		if err := writeJSON(e.stdout, list); err != nil {
			return exitFail
		}
		return exitOK
	}
	if len(list.Items) == 0 {
		fmt.Fprintln(e.stdout, "no drills")
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDEPARTMENT\tSTATUS\tSTARTED\tACKED\tNO WORKING CONTACT")
	for _, d := range list.Items {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d/%d\t%s\n", d.ID, d.Department, d.Status, d.StartedAt.UTC().Format(time.RFC3339),
			acked(d), len(d.Targets), dashIfEmpty(strings.Join(d.NoWorkingContact, ",")))
	}
	if err := tw.Flush(); err != nil {
		return exitFail
	}
	return exitOK
}

// drillOne is show ID and run DEPARTMENT: one drill, printed whole.
func drillOne(e *env, verb, usage string, args []string) int {
	c := newClient(e, "drills "+verb, usage)
	var arg string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		arg, args = args[0], args[1:]
	}
	if err := c.fs.Parse(args); err != nil {
		return exitUsage
	}
	if arg == "" && c.fs.NArg() == 1 {
		arg = c.fs.Arg(0)
	} else if c.fs.NArg() > 0 || arg == "" || (c.output != "text" && c.output != "json") {
		c.fs.Usage()
		return exitUsage
	}
	var d router.DrillView
	var err error
	if verb == "run" {
		err = c.callBody("POST", "/api/v1/drills", router.DrillBody{Department: arg}, &d)
	} else if _, perr := strconv.ParseInt(arg, 10, 64); perr != nil {
		fmt.Fprintf(e.stderr, "hikyaku drills show: %q is no drill id\n", arg)
		return exitUsage
	} else {
		err = c.call("GET", "/api/v1/drills/"+arg, &d)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "hikyaku drills %s: %v\n", verb, err)
		return exitFail
	}
	if c.output == "json" {
		if err := writeJSON(e.stdout, d); err != nil {
			return exitFail
		}
		return exitOK
	}
	if verb == "run" {
		fmt.Fprintf(e.stdout, "drill #%d of %s started: %d test pages, reported at %s; `hikyaku drills show %d` shows how it goes\n",
			d.ID, d.Department, len(d.Targets), d.Until.UTC().Format(time.RFC3339), d.ID)
	}
	if err := writeDrill(e.stdout, d); err != nil {
		return exitFail
	}
	return exitOK
}

func writeDrill(w io.Writer, d router.DrillView) error {
	by := d.RequestedBy
	if by == "" {
		by = "the schedule of " + d.Scheduled.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "Drill #%d of %s (%s), by %s\nAnswer window: %s to %s\n", d.ID, d.Department, d.Status, by,
		d.StartedAt.UTC().Format(time.RFC3339), d.Until.UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tCHANNEL\tRESULT\tTIME TO ACK\tTEST PAGE\tERROR")
	for _, tg := range d.Targets {
		ack := "-"
		if tg.Result == router.DrillAcked {
			ack = (time.Duration(tg.AckSeconds * float64(time.Second))).Round(time.Second).String()
			if tg.AckVia != "" {
				ack += " via " + tg.AckVia
			}
		}
		page := "-"
		if tg.Incident != 0 {
			page = "#" + strconv.FormatInt(tg.Incident, 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", tg.User, tg.Channel, tg.Result, ack, page, dashIfEmpty(tg.Error))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(d.NoContact) > 0 {
		fmt.Fprintf(w, "No contact method at all: %s\n", strings.Join(d.NoContact, ", "))
	}
	_, err := fmt.Fprintf(w, "No contact method that works: %s\n", dashIfEmpty(strings.Join(d.NoWorkingContact, ", ")))
	return err
}

func acked(d router.DrillView) int {
	n := 0
	for _, tg := range d.Targets {
		if tg.Result == router.DrillAcked {
			n++
		}
	}
	return n
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
