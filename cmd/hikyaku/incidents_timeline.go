package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"
	"time"
)

// timelineJSON is the part of GET /api/v1/incidents/{id}/timeline that the
// text form prints; --output json prints the answer as the server gave it.
type timelineJSON struct {
	Incident int64  `json:"incident"`
	Title    string `json:"title"`
	Status   string `json:"status"`
	TimeZone string `json:"time_zone"`
	Figures  struct {
		TimeToAcknowledge *float64 `json:"time_to_acknowledge_seconds"`
		TimeToResolve     *float64 `json:"time_to_resolve_seconds"`
		PeoplePaged       int      `json:"people_paged"`
		StepsFired        int      `json:"steps_fired"`
		ReportsSent       int      `json:"reports_sent"`
	} `json:"figures"`
	Events []struct {
		Time     string `json:"time"`
		Type     string `json:"type"`
		Actor    string `json:"actor"`
		Channel  string `json:"channel"`
		Result   string `json:"result"`
		Decision bool   `json:"decision"`
	} `json:"events"`
}

// runTimeline: hikyaku incidents timeline ID [--format text|markdown] [--lang en|ja].
func runTimeline(e *env, args []string) int {
	c := newClient(e, "incidents timeline", "incidents timeline ID [--format text|markdown] [--lang en|ja] [--server URL] [--output text|json]")
	format := c.fs.String("format", "text", "`text` (a table) or markdown (for the postmortem)")
	lang := c.fs.String("lang", "", "language of the texts: en or ja (default: the server's global.language)")
	id, words, ok := parseWithID(e, c, "timeline", args)
	if !ok {
		return exitUsage
	}
	if len(words) > 0 || (*format != "text" && *format != "markdown") || (*format == "markdown" && c.output == "json") {
		c.fs.Usage()
		return exitUsage
	}
	q := url.Values{}
	if *lang != "" {
		q.Set("lang", *lang)
	}
	if *format == "markdown" {
		q.Set("format", "markdown")
	}
	path := fmt.Sprintf("/api/v1/incidents/%d/timeline", id)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	body, err := c.fetch("GET", path, nil)
	if err != nil {
		fmt.Fprintf(e.stderr, "hikyaku incidents timeline: %v\n", err)
		return exitFail
	}
	if *format == "markdown" || c.output == "json" {
		e.stdout.Write(body)
		return exitOK
	}
	var tl timelineJSON
	if err := json.Unmarshal(body, &tl); err != nil {
		fmt.Fprintf(e.stderr, "hikyaku incidents timeline: the server's answer is not the API's JSON: %v\n", err)
		return exitFail
	}
	writeTimeline(e.stdout, &tl)
	return exitOK
}

func writeTimeline(w io.Writer, tl *timelineJSON) {
	f := tl.Figures
	fmt.Fprintf(w, "incident %d: %s (%s)\n", tl.Incident, tl.Title, tl.Status)
	fmt.Fprintf(w, "  acknowledged after %s, resolved after %s; %d paged, %d steps fired, %d reports sent\n",
		after(f.TimeToAcknowledge), after(f.TimeToResolve), f.PeoplePaged, f.StepsFired, f.ReportsSent)
	fmt.Fprintf(w, "timeline (%s, %d events):\n", tl.TimeZone, len(tl.Events))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, ev := range tl.Events {
		mark := ""
		if ev.Decision {
			mark = "DECISION "
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s%s\n", ev.Time, ev.Type, ev.Actor, ev.Channel, mark, ev.Result)
	}
	tw.Flush()
}

func after(sec *float64) string {
	if sec == nil {
		return "-"
	}
	return (time.Duration(*sec * float64(time.Second))).Round(time.Second).String()
}
