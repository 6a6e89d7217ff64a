package main

import (
	"fmt"
	"net/url"
	"text/tabwriter"
	"time"
)

// tokenJSON is a per-user API token as the admin listener answers it;
// Token is the value, in create's answer only.
type tokenJSON struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Name      string    `json:"name,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Token     string    `json:"token,omitempty"`
}

const tokenUsage = `Usage: hikyaku token create --user USER [--name NAME] [--server ADMIN-URL]
       hikyaku token list [--server ADMIN-URL]
       hikyaku token revoke ID [--server ADMIN-URL]`

// runToken: hikyaku token create|list|revoke, on the admin listener.
func runToken(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, tokenUsage)
		return exitUsage
	}
	c := newAdminClient(e, "token "+args[0], "token "+args[0]+" (see hikyaku token)")
	c.anonymous = true
	switch args[0] {
	case "create":
		user := c.fs.String("user", "", "the configured `user` the token acts as (required)")
		name := c.fs.String("name", "", "what the token is for, shown by token list (a `name`)")
		if err := c.fs.Parse(args[1:]); err != nil {
			return exitUsage
		}
		if c.fs.NArg() > 0 || *user == "" || !okOutput(c.output) {
			fmt.Fprintln(e.stderr, tokenUsage)
			return exitUsage
		}
		var t tokenJSON
		if err := c.callBody("POST", "/api/v1/tokens", map[string]string{"user": *user, "name": *name}, &t); err != nil {
			fmt.Fprintf(e.stderr, "hikyaku token create: %v\n", err)
			return exitFail
		}
		if c.output == "json" {
			return jsonExit(e, t)
		}
		fmt.Fprintln(e.stdout, t.Token)
		fmt.Fprintf(e.stderr, "token %s for %s: shown this once; keep it in HIKYAKU_API_TOKEN or a --token-file\n", t.ID, t.User)
		return exitOK
	case "list":
		if err := c.fs.Parse(args[1:]); err != nil {
			return exitUsage
		}
		if c.fs.NArg() > 0 || !okOutput(c.output) {
			fmt.Fprintln(e.stderr, tokenUsage)
			return exitUsage
		}
		ts := []tokenJSON{}
		if err := c.call("GET", "/api/v1/tokens", &ts); err != nil {
			fmt.Fprintf(e.stderr, "hikyaku token list: %v\n", err)
			return exitFail
		}
		if c.output == "json" {
			return jsonExit(e, ts)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tNAME\tCREATED\tREVOKED")
		for _, t := range ts {
			revoked := "-"
			if !t.RevokedAt.IsZero() {
				revoked = t.RevokedAt.Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, t.Name, t.CreatedAt.Local().Format("2006-01-02 15:04"), revoked)
		}
		tw.Flush()
		return exitOK
	case "revoke":
		var id string
		rest := args[1:]
		if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
			id, rest = rest[0], rest[1:]
		}
		if err := c.fs.Parse(rest); err != nil {
			return exitUsage
		}
		if id == "" && c.fs.NArg() == 1 {
			id = c.fs.Arg(0)
		} else if c.fs.NArg() > 0 || id == "" || !okOutput(c.output) {
			fmt.Fprintln(e.stderr, tokenUsage)
			return exitUsage
		}
		var t tokenJSON
		if err := c.call("POST", "/api/v1/tokens/"+url.PathEscape(id)+"/revoke", &t); err != nil {
			fmt.Fprintf(e.stderr, "hikyaku token revoke: %v\n", err)
			return exitFail
		}
		if c.output == "json" {
			return jsonExit(e, t)
		}
		fmt.Fprintf(e.stdout, "token %s of %s revoked at %s\n", t.ID, t.User, t.RevokedAt.Local().Format(time.RFC3339))
		return exitOK
	}
	fmt.Fprintln(e.stderr, tokenUsage)
	return exitUsage
}

func okOutput(o string) bool { return o == "text" || o == "json" }
