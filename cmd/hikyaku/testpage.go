package main

import (
	"fmt"
	"strings"
)

// runTestPage is `hikyaku test-page USER|ROTATION [--channel C]`: a contact
// check through the running server's real path, acknowledged as any page.
func runTestPage(e *env, args []string) int {
	c := newClient(e, "test-page", "test-page USER|ROTATION [--channel C] [--server URL] [--token-file FILE]")
	channel := c.fs.String("channel", "", "test this one contact `method` only (sms, voice, email, slack, ntfy…); default: the person's notification rules")
	// Accept the target before or after the flags, as ack takes its id.
	var target string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		target, args = args[0], args[1:]
	}
	if err := c.fs.Parse(args); err != nil {
		return exitUsage
	}
	if target == "" && c.fs.NArg() == 1 {
		target = c.fs.Arg(0)
	} else if c.fs.NArg() > 0 || target == "" {
		c.fs.Usage()
		return exitUsage
	}
	var inc struct {
		incidentJSON
		Test *struct {
			User    string `json:"user"`
			Channel string `json:"channel"`
		} `json:"test"`
	}
	body := map[string]string{"target": target}
	if *channel != "" {
		body["channel"] = *channel
	}
	if err := c.callBody("POST", "/api/v1/test-pages", body, &inc); err != nil {
		fmt.Fprintf(e.stderr, "hikyaku test-page: %v\n", err)
		return exitFail
	}
	if c.output == "json" {
		if err := writeJSON(e.stdout, inc); err != nil {
			return exitFail
		}
		return exitOK
	}
	how := "their notification rules"
	if *channel != "" {
		how = *channel
	}
	who := target
	if inc.Test != nil {
		who = inc.Test.User
	}
	fmt.Fprintf(e.stdout, "test page #%d sent to %s on %s: it is acknowledged as any page; `hikyaku incidents show %d` shows the result\n",
		inc.ID, who, how, inc.ID)
	return exitOK
}
