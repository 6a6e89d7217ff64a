package main

import (
	"cmp"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// deadTimerJSON is a dead-lettered timer as the API answers it.
type deadTimerJSON struct {
	ID             string    `json:"id"`
	Incident       int64     `json:"incident,omitempty"`
	Kind           string    `json:"kind"`
	Attempts       int       `json:"attempts"`
	Error          string    `json:"error"`
	DeadLetteredAt time.Time `json:"dead_lettered_at"`
	Due            time.Time `json:"due"`
}

const timersUsage = "timers dead [--limit N] [--retry ID | --discard ID] [--server URL]"

// runTimers: hikyaku timers dead lists the dead-lettered timers of a running
// server, or retries or discards one.
func runTimers(e *env, args []string) int {
	if len(args) == 0 || args[0] != "dead" {
		fmt.Fprintln(e.stderr, "Usage: hikyaku "+timersUsage)
		return exitUsage
	}
	c := newAdminClient(e, "timers dead", timersUsage)
	limit := c.fs.Int("limit", 0, "at most `N` timers, oldest first (0: all)")
	retry := c.fs.String("retry", "", "put the dead timer `ID` back, due now with a fresh count of attempts")
	discard := c.fs.String("discard", "", "drop the dead timer `ID` for good")
	if err := c.fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if c.fs.NArg() > 0 || (c.output != "text" && c.output != "json") || (*retry != "" && *discard != "") {
		c.fs.Usage()
		return exitUsage
	}
	if id, action := cmp.Or(*retry, *discard), actionOf(*retry); id != "" {
		var d deadTimerJSON
		path := "/api/v1/timers/dead/" + url.PathEscape(id) + "/" + action
		if err := c.call("POST", path, &d); err != nil {
			fmt.Fprintf(e.stderr, "hikyaku timers dead --%s: %v\n", action, err)
			return exitFail
		}
		if c.output == "json" {
			return jsonExit(e, d)
		}
		verb := map[string]string{"retry": "retried: due now", "discard": "discarded"}[action]
		fmt.Fprintf(e.stdout, "timer %s (%s, incident %d) %s\n", d.ID, d.Kind, d.Incident, verb)
		return exitOK
	}
	var ds []deadTimerJSON
	if err := c.call("GET", "/api/v1/timers/dead?limit="+strconv.Itoa(*limit), &ds); err != nil {
		fmt.Fprintf(e.stderr, "hikyaku timers dead: %v\n", err)
		return exitFail
	}
	if c.output == "json" {
		if ds == nil {
			ds = []deadTimerJSON{}
		}
		return jsonExit(e, ds)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tINCIDENT\tKIND\tATTEMPTS\tDEAD SINCE\tERROR")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\n", d.ID, d.Incident, d.Kind, d.Attempts,
			d.DeadLetteredAt.Local().Format("2006-01-02 15:04:05"), oneLine(d.Error))
	}
	tw.Flush()
	return exitOK
}

func actionOf(retry string) string {
	if retry != "" {
		return "retry"
	}
	return "discard"
}

func jsonExit(e *env, v any) int {
	if err := writeJSON(e.stdout, v); err != nil {
		return exitFail
	}
	return exitOK
}

// oneLine keeps a table row one row: errors can hold newlines.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
