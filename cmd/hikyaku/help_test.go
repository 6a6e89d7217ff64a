package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// leafCommands are every command line that takes flags, subcommands spelled out.
var leafCommands = [][]string{
	{"check"}, {"oncall"}, {"shifts"}, {"simulate"}, {"serve"},
	{"incidents", "list"}, {"incidents", "show"}, {"incidents", "assign"}, {"incidents", "unassign"},
	{"incidents", "note"}, {"incidents", "severity"}, {"incidents", "timeline"}, {"incidents", "report"},
	{"ack"}, {"resolve"}, {"escalate"}, {"test-page"},
	{"drills", "list"}, {"drills", "show"}, {"drills", "run"},
	{"override", "add"}, {"override", "list"}, {"override", "remove"},
	{"maintenance", "start"}, {"maintenance", "list"}, {"maintenance", "end"},
	{"calendar", "url"}, {"calendar", "revoke"},
	{"token", "create"}, {"token", "list"}, {"token", "revoke"},
	{"report"}, {"timers", "dead"}, {"store", "compact"}, {"store", "reindex"}, {"version"},
}

// TestUsageFooterIsTrue: what hikyaku's usage says every command takes,
// each command's -h shows (--config.file on the configuration commands,
// --output on all but store), and no flag prints a sentinel as its default.
func TestUsageFooterIsTrue(t *testing.T) {
	_, _, usage := runCmd(t)
	if !strings.Contains(usage, "check, oncall, shifts,\nsimulate and serve take --config.file FILE") ||
		!strings.Contains(usage, "every command\nbut store takes --output text|json") {
		t.Fatalf("the usage's footer changed; update this test with it:\n%s", usage)
	}
	configCommands := []string{"check", "oncall", "shifts", "simulate", "serve"}
	seen := map[string]bool{}
	for _, args := range leafCommands {
		seen[args[0]] = true
		code, _, help := runCmd(t, append(slices.Clone(args), "-h")...)
		name := strings.Join(args, " ")
		if code != exitUsage {
			t.Errorf("%s -h: exit %d, want %d", name, code, exitUsage)
		}
		if got, want := strings.Contains(help, "\n  -config.file "), slices.Contains(configCommands, args[0]); got != want {
			t.Errorf("%s -h: --config.file shown %v, the usage says %v:\n%s", name, got, want, help)
		}
		if got, want := strings.Contains(help, "\n  -output "), args[0] != "store"; got != want {
			t.Errorf("%s -h: --output shown %v, the usage says %v:\n%s", name, got, want, help)
		}
		if strings.Contains(help, `\x00`) {
			t.Errorf("%s -h prints a sentinel default:\n%s", name, help)
		}
	}
	for _, c := range commands {
		if !seen[c.name] {
			t.Errorf("command %s is not in leafCommands", c.name)
		}
	}
	_, _, help := runCmd(t, "report", "-h")
	if !strings.Contains(help, "output format: text, json or markdown") {
		t.Errorf("report -h does not say --output takes markdown:\n%s", help)
	}
}

// TestServeFlagsMatchDocs: docs/operations.md's table of serve's flags has
// every flag serve -h shows but the deprecated ones, with the same default
// (a backquoted value; "empty" or "off" for none).
func TestServeFlagsMatchDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	_, _, help := runCmd(t, "serve", "-h")
	flagLine := regexp.MustCompile(`(?m)^  -([a-z.-]+)(?: [A-Za-z]+)?\n\s+(.*)$`)
	defaults := map[string]string{}
	for _, m := range flagLine.FindAllStringSubmatch(help, -1) {
		if strings.HasPrefix(m[2], "deprecated") || m[1] == "output" {
			continue
		}
		def := ""
		if d := regexp.MustCompile(`\(default "?([^")]*)"?\)$`).FindStringSubmatch(m[2]); d != nil {
			def = d[1]
		}
		defaults[m[1]] = def
	}
	if len(defaults) < 12 {
		t.Fatalf("read %d flags from serve -h:\n%s", len(defaults), help)
	}
	row := regexp.MustCompile("(?m)^\\| `--([a-z.-]+)` \\| ([^|]*) \\|")
	documented := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		name, cell := m[1], m[2]
		want, ok := defaults[name]
		if !ok {
			t.Errorf("docs/operations.md documents --%s, which serve -h does not show", name)
			continue
		}
		documented[name] = true
		var got string
		if v := regexp.MustCompile("^`([^`]*)`").FindStringSubmatch(cell); v != nil {
			got = v[1]
		} else if !strings.HasPrefix(cell, "empty") && !strings.HasPrefix(cell, "off") {
			t.Errorf("docs/operations.md: --%s's default %q is neither a `value`, empty nor off", name, cell)
			continue
		}
		if got != want {
			t.Errorf("docs/operations.md: --%s defaults to %q, serve -h says %q", name, got, want)
		}
	}
	for name := range defaults {
		if !documented[name] {
			t.Errorf("docs/operations.md's flag table does not list --%s", name)
		}
	}
}
