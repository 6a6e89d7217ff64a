// Command hikyaku routes Prometheus Alertmanager alerts to whoever is on call,
// and answers on-call questions about its one YAML file from the command line.
package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// env is what a command may touch besides its arguments, so tests run every
// command in-process with their own writers and clock.
type env struct {
	stdout, stderr io.Writer
	now            func() time.Time
}

// command is one subcommand; run returns the process exit code.
type command struct {
	name    string
	summary string
	run     func(e *env, args []string) int
}

// commands is the dispatch table: adding a subcommand is one line here.
var commands = []command{
	{"check", "validate the configuration and report on-call coverage gaps", runCheck},
	{"oncall", "show who is on call now (or at --at) in every rotation and schedule", runOncall},
	{"shifts", "list the final shifts of a rotation or schedule", runShifts},
	{"simulate", "route an Alertmanager webhook payload and show who would be paged when", runSimulate},
	{"serve", "run the daemon: webhook intake, escalation, API and metrics", runServe},
	{"incidents", "a running server's incidents: list, show, assign, unassign, note, severity, report, timeline", runIncidents},
	{"ack", "acknowledge an incident on a running server: stops its escalation", actCommand("ack")},
	{"resolve", "resolve an incident on a running server", actCommand("resolve")},
	{"escalate", "escalate an incident to its next step now", actCommand("escalate")},
	{"test-page", "send a person (or a rotation's on-call) a test page through the real path, acknowledged as any page", runTestPage},
	{"drills", "a department's drills (contact checks of every responder) on a running server: drills list, drills show ID, drills run DEPARTMENT (its admins)", runDrills},
	{"override", "make, list or remove stored overrides on a running server: who covers whose shifts (override add --for U --covered-by V)", runOverride},
	{"maintenance", "mute a route or department now on a running server, list or end mutes (maintenance start --route R --for 30m)", runMaintenance},
	{"calendar", "your calendar feed links on a running server: calendar url [--rotation D/R], calendar revoke", runCalendar},
	{"token", "create, list or revoke per-user API tokens on a running server's admin listener (token create --user U)", runToken},
	{"report", "a department's on-call health report over a period, from a running server (report --department D --from T --to T)", runReport},
	{"timers", "list, retry or discard a running server's dead-lettered timers (timers dead)", runTimers},
	{"store", "maintain a store: compact the embedded file (offline), reindex Redis (store compact, store reindex)", runStore},
	{"version", "print the version", runVersion},
}

// Exit codes shared by every command.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and found a problem (bad config, gaps with --strict, unreadable input)
	exitUsage = 2 // the command line itself is wrong
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return runEnv(&env{stdout: stdout, stderr: stderr, now: time.Now}, args)
}

func runEnv(e *env, args []string) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(e, args[1:])
		}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(e.stderr)
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "hikyaku: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: hikyaku <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "hikyaku <command> -h" for a command's flags. check, oncall, shifts,`)
	fmt.Fprintln(w, "simulate and serve take --config.file FILE (default hikyaku.yml); every command")
	fmt.Fprintln(w, "but store takes --output text|json (report also markdown).")
}
