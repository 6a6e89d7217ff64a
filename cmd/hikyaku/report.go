package main

import (
	"fmt"
	"net/url"
)

// runReport: hikyaku report --department D --from T --to T. The server
// computes and words the report (GET /api/v1/reports/health), so the text
// and Markdown are the catalog's in the language asked, as a scheduled
// report would say them.
func runReport(e *env, args []string) int {
	c := newClient(e, "report", "report --department D --from T --to T [--output text|json|markdown] [--lang en|ja] [--server URL]")
	dept := c.fs.String("department", "", "the department's id (required)")
	from := c.fs.String("from", "", "start of the period, an RFC 3339 time such as 2026-11-02T00:00:00+09:00 (required)")
	to := c.fs.String("to", "", "end of the period (not included), RFC 3339 (required)")
	lang := c.fs.String("lang", "", "language of the text and Markdown: en or ja (default: the server's global.language)")
	c.fs.Lookup("output").Usage = "output format: text, json or markdown"
	if err := c.fs.Parse(args); err != nil {
		return exitUsage
	}
	if c.fs.NArg() > 0 || *dept == "" || *from == "" || *to == "" {
		fmt.Fprintln(e.stderr, "hikyaku report: give --department, --from and --to, and nothing else")
		c.fs.Usage()
		return exitUsage
	}
	format := c.output
	switch format {
	case "text", "json", "markdown":
	default:
		fmt.Fprintf(e.stderr, "hikyaku report: --output %q: want text, json or markdown\n", format)
		return exitUsage
	}
	q := url.Values{"department": {*dept}, "from": {*from}, "to": {*to}, "format": {format}}
	if *lang != "" {
		q.Set("lang", *lang)
	}
	body, err := c.fetch("GET", "/api/v1/reports/health?"+q.Encode(), nil)
	if err != nil {
		fmt.Fprintf(e.stderr, "hikyaku report: %v\n", err)
		return exitFail
	}
	e.stdout.Write(body)
	return exitOK
}
