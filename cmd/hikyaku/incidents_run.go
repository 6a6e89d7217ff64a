package main

import (
	"fmt"
	"strconv"
	"strings"
)

// The incident-running subcommands: roles, notes and severity, through the
// incident API of a running server, acting as the API token's user.

// incidentRunCommands are the incidents subcommands beyond list and show.
var incidentRunCommands = map[string]func(e *env, args []string) int{
	"assign":   runAssign(false),
	"unassign": runAssign(true),
	"note":     runNote,
	"severity": runSeverity,
	"report":   runIncidentReport,
	"timeline": runTimeline,
}

// runIncident is what the role, note and severity commands answer with.
type runIncident struct {
	incidentJSON
	Roles  map[string]string `json:"roles"`
	Report *struct {
		CurrentSeverity string `json:"current_severity"`
	} `json:"report"`
}

// parseWithID parses args that hold the incident id and positional words
// anywhere among the flags ("note 12 'text' --decision" as well as
// "note --decision 12 'text'"); it returns the id and the other words.
func parseWithID(e *env, c *client, name string, args []string) (int64, []string, bool) {
	var words []string
	for {
		if err := c.fs.Parse(args); err != nil {
			return 0, nil, false
		}
		if c.fs.NArg() == 0 {
			break
		}
		words = append(words, c.fs.Arg(0))
		args = c.fs.Args()[1:]
	}
	if len(words) == 0 {
		c.fs.Usage()
		return 0, nil, false
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(words[0], "#"), 10, 64)
	if err != nil || n <= 0 {
		fmt.Fprintf(e.stderr, "hikyaku incidents %s: incident id %q: want a positive number\n", name, words[0])
		return 0, nil, false
	}
	if c.output != "text" && c.output != "json" {
		c.fs.Usage()
		return 0, nil, false
	}
	return n, words[1:], true
}

// post sends one incident-running request and prints the incident it answers.
func post(e *env, c *client, name string, id int64, action string, body any) int {
	return send(e, c, name, "POST", id, action, body)
}

// send is post with the method given.
func send(e *env, c *client, name, method string, id int64, action string, body any) int {
	var inc runIncident
	if err := c.callBody(method, fmt.Sprintf("/api/v1/incidents/%d/%s", id, action), body, &inc); err != nil {
		fmt.Fprintf(e.stderr, "hikyaku incidents %s: %v\n", name, err)
		return exitFail
	}
	if c.output == "json" {
		if err := writeJSON(e.stdout, inc); err != nil {
			return exitFail
		}
		return exitOK
	}
	sev := inc.Severity
	if inc.Report != nil && inc.Report.CurrentSeverity != "" {
		sev = inc.Report.CurrentSeverity
	}
	fmt.Fprintf(e.stdout, "incident %d: %s, severity %s, roles: %s\n", inc.ID, inc.Status, sev, rolesLine(inc.Roles))
	return exitOK
}

// rolesLine is "ic=alice ops=bob" in role order, "none" when nobody holds one.
func rolesLine(roles map[string]string) string {
	var parts []string
	for _, r := range []string{"ic", "ops", "comm", "rec"} {
		if u := roles[r]; u != "" {
			parts = append(parts, r+"="+u)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// runAssign: hikyaku incidents assign ID --role R --user U, and unassign.
func runAssign(unassign bool) func(e *env, args []string) int {
	name, usage := "assign", "incidents assign ID --role ic|ops|comm|rec --user USER [--server URL]"
	if unassign {
		name, usage = "unassign", "incidents unassign ID --role ic|ops|comm|rec [--server URL]"
	}
	return func(e *env, args []string) int {
		c := newClient(e, "incidents "+name, usage)
		role := c.fs.String("role", "", "the `role`: ic, ops, comm or rec")
		var user *string
		if !unassign {
			user = c.fs.String("user", "", "the configured `user` who takes the role")
		}
		id, words, ok := parseWithID(e, c, name, args)
		if !ok {
			return exitUsage
		}
		if len(words) > 0 || *role == "" || (user != nil && *user == "") {
			c.fs.Usage()
			return exitUsage
		}
		body := map[string]any{"role": *role}
		if unassign {
			body["unassign"] = true
		} else {
			body["user"] = *user
		}
		return post(e, c, name, id, "roles", body)
	}
}

// runNote: hikyaku incidents note ID TEXT [--decision] [--impact …] ….
func runNote(e *env, args []string) int {
	c := newClient(e, "incidents note", "incidents note ID TEXT [--decision] [--impact TEXT] [--cause TEXT] [--action-provisional TEXT] [--action-permanent TEXT] [--prevention TICKET] [--server URL]")
	decision := c.fs.Bool("decision", false, "the note is a decision (highlighted in the timeline)")
	body := map[string]any{}
	for _, f := range []struct{ flag, field, usage string }{
		{"impact", "impact", "set the report's impact to `text`"},
		{"cause", "cause", "set the report's cause to `text`"},
		{"action-provisional", "action_provisional", "set the provisional action taken to `text`"},
		{"action-permanent", "action_permanent", "set the permanent action to `text`"},
		{"prevention", "prevention", "set the prevention `ticket`"},
	} {
		c.fs.Func(f.flag, f.usage, func(v string) error {
			if v == "" {
				return fmt.Errorf("empty: give the text")
			}
			body[f.field] = v
			return nil
		})
	}
	id, words, ok := parseWithID(e, c, "note", args)
	if !ok {
		return exitUsage
	}
	if len(words) != 1 || strings.TrimSpace(words[0]) == "" {
		fmt.Fprintln(e.stderr, "hikyaku incidents note: give the note's TEXT as one argument (quote it)")
		return exitUsage
	}
	body["text"], body["decision"] = words[0], *decision
	return post(e, c, "note", id, "notes", body)
}

// runSeverity: hikyaku incidents severity ID SEVERITY --reason TEXT [--escalate].
func runSeverity(e *env, args []string) int {
	c := newClient(e, "incidents severity", "incidents severity ID SEVERITY --reason TEXT [--escalate] [--server URL]")
	reason := c.fs.String("reason", "", "why the severity changes (required, on the timeline)")
	escalate := c.fs.Bool("escalate", false, "also fire the next escalation step now")
	id, words, ok := parseWithID(e, c, "severity", args)
	if !ok {
		return exitUsage
	}
	if len(words) != 1 || *reason == "" {
		c.fs.Usage()
		return exitUsage
	}
	body := map[string]any{"severity": words[0], "reason": *reason}
	if *escalate {
		body["escalate"] = true
	}
	return post(e, c, "severity", id, "severity", body)
}

// runIncidentReport: hikyaku incidents report ID --now | --draft TEXT [--replace] | --period D,
// the Comm role's stakeholder-report actions (docs/incidents.md#reports).
func runIncidentReport(e *env, args []string) int {
	c := newClient(e, "incidents report", "incidents report ID (--now | --draft TEXT [--replace] | --period DURATION) [--server URL]")
	now := c.fs.Bool("now", false, "send a report to the stakeholders now; the next periodic one moves a period after it")
	var draft optionalString // --draft "" clears the draft: given empty is not absent
	c.fs.Var(&draft, "draft", "`text` for the next report's status part (\"\" clears the draft)")
	replace := c.fs.Bool("replace", false, "with --draft: the text replaces the status part instead of adding to it")
	period := c.fs.String("period", "", "report every `duration` (1m to 24h) from now on")
	id, words, ok := parseWithID(e, c, "report", args)
	if !ok {
		return exitUsage
	}
	hasDraft := draft.set
	n := 0
	for _, set := range []bool{*now, hasDraft, *period != ""} {
		if set {
			n++
		}
	}
	if len(words) != 0 || n != 1 || (*replace && !hasDraft) {
		fmt.Fprintln(e.stderr, "hikyaku incidents report: give exactly one of --now, --draft TEXT or --period DURATION")
		c.fs.Usage()
		return exitUsage
	}
	switch {
	case *now:
		return send(e, c, "report", "POST", id, "reports", map[string]any{"send_now": true})
	case hasDraft:
		return send(e, c, "report", "PUT", id, "reports/draft", map[string]any{"text": draft.s, "replace": *replace})
	}
	return send(e, c, "report", "PUT", id, "reports/period", map[string]any{"period": *period})
}

// optionalString is a string flag that tells whether it was given at all,
// with no default to print in -h.
type optionalString struct {
	s   string
	set bool
}

func (o *optionalString) String() string { return o.s }

func (o *optionalString) Set(v string) error {
	o.s, o.set = v, true
	return nil
}
