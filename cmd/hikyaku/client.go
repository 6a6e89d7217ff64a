package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The client commands talk to a running `hikyaku serve`, in the spirit of
// amtool: --server and the API token come from flags or the environment, so
// an engineer can ack from a terminal with nothing but the binary.

// client is the shared flag set of the client commands.
type client struct {
	fs        *flag.FlagSet
	server    string
	tokenFile string
	output    string
	// anonymous sends no API token: the admin listener's token API is
	// protected by the listener itself (docs/operations.md, "API tokens").
	anonymous bool
}

func newClient(e *env, name, usageLine string) *client {
	return newClientOf(e, name, usageLine, "HIKYAKU_SERVER", "http://localhost"+defaultListen, "public")
}

// newAdminClient is a client of the admin listener (the dead-letter API).
func newAdminClient(e *env, name, usageLine string) *client {
	return newClientOf(e, name, usageLine, "HIKYAKU_ADMIN_SERVER", "http://"+defaultAdminListen, "admin")
}

func newClientOf(e *env, name, usageLine, envName, def, listener string) *client {
	c := &client{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	c.fs.SetOutput(e.stderr)
	c.fs.StringVar(&c.server, "server", envOr(envName, def), "URL of hikyaku's "+listener+" listener (env "+envName+")")
	c.fs.StringVar(&c.tokenFile, "token-file", "", "`file` holding the API token (default: env HIKYAKU_API_TOKEN)")
	c.fs.StringVar(&c.output, "output", "text", "output format: text or json")
	c.fs.Func("by", "removed: the actor is the API token's user", func(string) error { return errBy })
	c.fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: hikyaku %s\n\nFlags:\n", usageLine)
		c.fs.PrintDefaults()
	}
	return c
}

// errBy is the answer to --by, which named whoever the caller liked.
var errBy = errors.New("--by is gone: the timeline names the API token's user; make yourself a token with hikyaku token create --user YOU")

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (c *client) token() (string, error) {
	if c.tokenFile != "" {
		b, err := os.ReadFile(c.tokenFile)
		if err != nil {
			return "", fmt.Errorf("token file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if t := os.Getenv("HIKYAKU_API_TOKEN"); t != "" {
		return t, nil
	}
	return "", errors.New("no API token: set HIKYAKU_API_TOKEN or pass --token-file")
}

// call sends one API request and decodes the JSON answer into out.
func (c *client) call(method, path string, out any) error { return c.callBody(method, path, nil, out) }

// callBody is call with in sent as the JSON body (none when nil).
func (c *client) callBody(method, path string, in, out any) error {
	body, err := c.fetch(method, path, in)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("the server's answer is not the API's JSON: %w", err)
	}
	return nil
}

// fetch sends one API request and returns the answer's body when it is 2xx.
func (c *client) fetch(method, path string, in any) ([]byte, error) {
	var reqBody io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encoding the request: %w", err)
		}
		reqBody = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.server, "/")+path, reqBody)
	if err != nil {
		return nil, fmt.Errorf("--server: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !c.anonymous {
		tok, err := c.token()
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// incidentJSON is the part of the API's incident the client shows.
type incidentJSON struct {
	ID         int64     `json:"id"`
	Status     string    `json:"status"`
	Severity   string    `json:"severity"`
	Department string    `json:"department"`
	Route      string    `json:"route"`
	CreatedAt  time.Time `json:"created_at"`
	AckedBy    string    `json:"acked_by"`
	Message    *struct {
		CommonLabels      map[string]string `json:"commonLabels"`
		CommonAnnotations map[string]string `json:"commonAnnotations"`
	} `json:"message"`
}

func (i incidentJSON) summary() string {
	if i.Message == nil {
		return ""
	}
	if s := i.Message.CommonAnnotations["summary"]; s != "" {
		return s
	}
	return i.Message.CommonLabels["alertname"]
}

// incidentsUsage lists the incidents subcommands.
const incidentsUsage = `Usage: hikyaku incidents list [filters] [--limit N] [--cursor C] [--server URL]
       hikyaku incidents show ID [--tz ZONE | --config FILE] [--server URL]
       hikyaku incidents assign ID --role ic|ops|comm|rec --user USER
       hikyaku incidents unassign ID --role ic|ops|comm|rec
       hikyaku incidents note ID TEXT [--decision] [--impact T] [--cause T] [--action-provisional T] [--action-permanent T] [--prevention TICKET]
       hikyaku incidents severity ID SEVERITY --reason TEXT
       hikyaku incidents timeline ID [--format text|markdown] [--lang en|ja]`

// runIncidents: hikyaku incidents list|show.
func runIncidents(e *env, args []string) int {
	if len(args) > 0 && args[0] == "show" {
		return runShow(e, args[1:])
	}
	if len(args) > 0 {
		if run := incidentRunCommands[args[0]]; run != nil {
			return run(e, args[1:])
		}
	}
	if len(args) == 0 || args[0] != "list" {
		fmt.Fprintln(e.stderr, incidentsUsage)
		return exitUsage
	}
	c := newClient(e, "incidents list", "incidents list [--status S] [--department D] [--severity S] [--route R] [--policy P] [--acked-by USER] [--opened-after T] [--opened-before T] [--resolved-after T] [--resolved-before T] [--order newest|oldest] [--limit N] [--cursor C] [--server URL]")
	q := url.Values{}
	for _, f := range []struct{ flag, param, usage string }{
		{"status", "status", "only incidents in this `status`: open, acked or resolved"},
		{"department", "department", "only this `department`'s incidents"},
		{"severity", "severity", "only incidents of this `severity`"},
		{"route", "route", "only incidents this `route` opened"},
		{"policy", "policy", "only incidents escalated by this `policy`"},
		{"acked-by", "acked_by", "only incidents this `user` acknowledged"},
		{"opened-after", "opened_after", "opened at or after this RFC 3339 `time`"},
		{"opened-before", "opened_before", "opened before this RFC 3339 `time`"},
		{"resolved-after", "resolved_after", "resolved at or after this RFC 3339 `time` (orders by resolve time)"},
		{"resolved-before", "resolved_before", "resolved before this RFC 3339 `time` (orders by resolve time)"},
		{"order", "order", "`newest` or oldest first"},
		{"cursor", "cursor", "continue from this `cursor` (printed after a full page)"},
	} {
		c.fs.Func(f.flag, f.usage, func(v string) error { q.Set(f.param, v); return nil })
	}
	limit := c.fs.Int("limit", 50, "at most `N` incidents (0: all, page by page)")
	if err := c.fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if c.fs.NArg() > 0 || (c.output != "text" && c.output != "json") || *limit < 0 {
		c.fs.Usage()
		return exitUsage
	}
	var all incidentPage
	for {
		q.Set("limit", strconv.Itoa(min(*limit, 500)))
		if *limit == 0 {
			q.Set("limit", "500")
		}
		var page incidentPage
		if err := c.call("GET", "/api/v1/incidents?"+q.Encode(), &page); err != nil {
			fmt.Fprintf(e.stderr, "hikyaku incidents list: %v\n", err)
			return exitFail
		}
		all.Items = append(all.Items, page.Items...)
		all.NextCursor = page.NextCursor
		if page.NextCursor == "" || (*limit > 0 && len(all.Items) >= *limit) {
			break
		}
		q.Set("cursor", page.NextCursor)
	}
	if c.output == "json" {
		if err := writeJSON(e.stdout, all); err != nil {
			return exitFail
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tSEVERITY\tDEPARTMENT\tOPENED\tACKED BY\tSUMMARY")
	for _, i := range all.Items {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", i.ID, i.Status, i.Severity, i.Department,
			i.CreatedAt.Local().Format("2006-01-02 15:04"), i.AckedBy, i.summary())
	}
	tw.Flush()
	if all.NextCursor != "" {
		fmt.Fprintf(e.stderr, "more: add --cursor %s\n", all.NextCursor)
	}
	return exitOK
}

// incidentPage is GET /api/v1/incidents's answer.
type incidentPage struct {
	Items      []incidentJSON `json:"items"`
	NextCursor string         `json:"next_cursor"`
}

// actCommand makes ack, resolve and escalate.
func actCommand(action string) func(e *env, args []string) int {
	return func(e *env, args []string) int {
		c := newClient(e, action, action+" ID [--server URL] [--token-file FILE]")
		// Accept the id before or after the flags: "hikyaku ack 12 --server URL".
		var id string
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			id, args = args[0], args[1:]
		}
		if err := c.fs.Parse(args); err != nil {
			return exitUsage
		}
		if id == "" && c.fs.NArg() == 1 {
			id = c.fs.Arg(0)
		} else if c.fs.NArg() > 0 || id == "" {
			c.fs.Usage()
			return exitUsage
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(id, "#"), 10, 64)
		if err != nil || n <= 0 {
			fmt.Fprintf(e.stderr, "hikyaku %s: incident id %q: want a positive number\n", action, id)
			return exitUsage
		}
		var inc incidentJSON
		path := fmt.Sprintf("/api/v1/incidents/%d/%s", n, action)
		if err := c.call("POST", path, &inc); err != nil {
			fmt.Fprintf(e.stderr, "hikyaku %s: %v\n", action, err)
			return exitFail
		}
		if c.output == "json" {
			if err := writeJSON(e.stdout, inc); err != nil {
				return exitFail
			}
			return exitOK
		}
		fmt.Fprintf(e.stdout, "incident %d: %s %s\n", inc.ID, inc.Status, inc.summary())
		return exitOK
	}
}
