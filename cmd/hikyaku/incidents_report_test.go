package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestIncidentReportCommand: each form reaches its endpoint (the shared
// api_token is the service "api", which is not the incident's Comm, so the
// server's 403 says who may: a wrong path or method would be 404 or 405),
// and a command line naming none or two of them exits 2 without a request.
func TestIncidentReportCommand(t *testing.T) {
	url := startServer(t)
	cli := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(append(args, "--server", url), &out, &errb)
		return code, errb.String()
	}
	for _, args := range [][]string{
		{"incidents", "report", "1", "--now"},
		{"incidents", "report", "1", "--draft", "DB を切り替え中"},
		{"incidents", "report", "--draft", "", "--replace", "1"},
		{"incidents", "report", "1", "--period", "30m"},
	} {
		if code, errs := cli(args...); code != exitFail || !strings.Contains(errs, "403") || !strings.Contains(errs, "Only the Comm of incident #1") {
			t.Errorf("%v: exit %d, stderr %q; want 1 with the server's 403 naming who may", args, code, errs)
		}
	}
	for _, args := range [][]string{
		{"incidents", "report", "1"},
		{"incidents", "report", "1", "--now", "--period", "30m"},
		{"incidents", "report", "1", "--now", "--replace"},
		{"incidents", "report", "1", "extra", "--now"},
		{"incidents", "report", "x", "--now"},
	} {
		if code, _ := cli(args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}
