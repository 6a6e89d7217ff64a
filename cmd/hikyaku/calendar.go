package main

import (
	"fmt"
	"strings"
	"time"
)

// calendarLinkJSON is a calendar link as the API answers it.
type calendarLinkJSON struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Feed      string    `json:"feed"`
	CreatedAt time.Time `json:"created_at"`
	URL       string    `json:"url"`
}

// calendarRevokedJSON is the API's answer to a revocation.
type calendarRevokedJSON struct {
	User    string `json:"user"`
	Feed    string `json:"feed"`
	Revoked int    `json:"revoked"`
}

const calendarUsage = `Usage: hikyaku calendar url [--rotation DEPARTMENT/ROTATION] [--server URL] [--token-file FILE]
       hikyaku calendar revoke [--rotation DEPARTMENT/ROTATION | --all] [--server URL] [--token-file FILE]`

// runCalendar: hikyaku calendar url|revoke, the caller's own calendar
// feed links, with the caller's own API token on the public listener.
func runCalendar(e *env, args []string) int {
	if len(args) == 0 || (args[0] != "url" && args[0] != "revoke") {
		fmt.Fprintln(e.stderr, calendarUsage)
		return exitUsage
	}
	verb := args[0]
	c := newClient(e, "calendar "+verb, "calendar "+verb+" (see hikyaku calendar)")
	rotation := c.fs.String("rotation", "", "the feed of every shift of one rotation or schedule, as `DEPARTMENT/ROTATION` (default: your own shifts)")
	all := false
	if verb == "revoke" {
		c.fs.BoolVar(&all, "all", false, "end every calendar link of yours")
	}
	if err := c.fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if c.fs.NArg() > 0 || !okOutput(c.output) || (all && *rotation != "") {
		fmt.Fprintln(e.stderr, calendarUsage)
		return exitUsage
	}
	if *rotation != "" && strings.Count(*rotation, "/") != 1 {
		fmt.Fprintf(e.stderr, "hikyaku calendar %s: --rotation %q: want DEPARTMENT/ROTATION, e.g. eng/primary\n", verb, *rotation)
		return exitUsage
	}
	body := map[string]any{}
	if *rotation != "" {
		body["rotation"] = *rotation
	}
	if all {
		body["all"] = true
	}
	switch verb {
	case "url":
		var l calendarLinkJSON
		if err := c.callBody("POST", "/api/v1/calendar/url", body, &l); err != nil {
			fmt.Fprintf(e.stderr, "hikyaku calendar url: %v\n", err)
			return exitFail
		}
		if c.output == "json" {
			return jsonExit(e, l)
		}
		fmt.Fprintln(e.stdout, l.URL)
		fmt.Fprintf(e.stderr, "calendar link %s for %s's %s feed: shown this once; any earlier link to it no longer works\n", l.ID, l.User, l.Feed)
		return exitOK
	default:
		var r calendarRevokedJSON
		if err := c.callBody("POST", "/api/v1/calendar/revoke", body, &r); err != nil {
			fmt.Fprintf(e.stderr, "hikyaku calendar revoke: %v\n", err)
			return exitFail
		}
		if c.output == "json" {
			return jsonExit(e, r)
		}
		what := r.Feed + " feed"
		if r.Feed == "" {
			what = "feeds"
		}
		fmt.Fprintf(e.stdout, "%d calendar link(s) of %s's %s revoked\n", r.Revoked, r.User, what)
		return exitOK
	}
}
