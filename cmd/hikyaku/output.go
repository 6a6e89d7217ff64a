package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/hikyaku/hikyaku/config"
)

// timeLayout is how text output shows an instant: weekday first, because
// on-call questions are asked in weekdays ("who has Saturday night?").
const timeLayout = "Mon 2006-01-02 15:04 MST"

// common holds the flags every configuration-reading command takes.
type common struct {
	fs     *flag.FlagSet
	config string
	output string
}

// newFlags makes a command's FlagSet with --config and --output; usageLine
// is the synopsis printed above the flag list by -h.
func newFlags(e *env, name, usageLine string) *common {
	c := &common{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	c.fs.SetOutput(e.stderr)
	c.fs.StringVar(&c.config, "config.file", "hikyaku.yml", "configuration `file`")
	c.fs.StringVar(&c.config, "config", "hikyaku.yml", "deprecated alias of --config.file")
	c.fs.StringVar(&c.output, "output", "text", "output format: text or json")
	c.fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: hikyaku %s\n\nFlags:\n", usageLine)
		c.fs.PrintDefaults()
	}
	return c
}

// parse parses args and checks the shared flags; a false return carries the
// exit code (usage errors and -h both exit 2, as the Go tools do for bad usage).
func (c *common) parse(e *env, args []string) (int, bool) {
	if err := c.fs.Parse(args); err != nil {
		return exitUsage, false
	}
	if c.fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "hikyaku %s: unexpected argument %q\n", c.fs.Name(), c.fs.Arg(0))
		c.fs.Usage()
		return exitUsage, false
	}
	if c.output != "text" && c.output != "json" {
		fmt.Fprintf(e.stderr, "hikyaku %s: --output %q: want text or json\n", c.fs.Name(), c.output)
		return exitUsage, false
	}
	return exitOK, true
}

func (c *common) json() bool { return c.output == "json" }

// usageErr reports a bad flag value and returns the usage exit code.
func (c *common) usageErr(e *env, format string, a ...any) int {
	fmt.Fprintf(e.stderr, "hikyaku %s: %s\n", c.fs.Name(), fmt.Sprintf(format, a...))
	return exitUsage
}

// fail reports a runtime problem and returns the failure exit code.
func (c *common) fail(e *env, err error) int {
	fmt.Fprintf(e.stderr, "hikyaku %s: %v\n", c.fs.Name(), err)
	return exitFail
}

// load reads the configuration. Load errors are printed one FILE:LINE:COL per
// line, so editors and CI annotations can jump to each of them.
func (c *common) load(e *env) (*config.Config, bool) {
	cfg, err := config.Load(c.config)
	if err != nil {
		printLoadError(e.stderr, err)
		return nil, false
	}
	return cfg, true
}

func printLoadError(w io.Writer, err error) {
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(w, e.Error())
		}
		return
	}
	fmt.Fprintln(w, err)
}

// parseTime reads a command-line time: RFC 3339, or wall-clock
// "2006-01-02 15:04" in loc (global.timezone), as the config file writes them.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	return config.Timestamp(s).In(loc)
}

// timeFlag is an optional time flag, parsed after the config (and so its
// time zone) is known.
type timeFlag struct{ raw string }

func (f *timeFlag) String() string     { return f.raw }
func (f *timeFlag) Set(s string) error { f.raw = s; return nil }

// get returns the flag's time, or def when it was not given.
func (f *timeFlag) get(loc *time.Location, def time.Time) (time.Time, error) {
	if f.raw == "" {
		return def, nil
	}
	return parseTime(f.raw, loc)
}

// durationFlag is a Prometheus-style duration (28d, 2h, 1h30m).
type durationFlag time.Duration

func (d *durationFlag) String() string { return model.Duration(*d).String() }
func (d *durationFlag) Set(s string) error {
	v, err := model.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("use a number and a unit, e.g. 30m, 2h, 28d, 1w")
	}
	if v <= 0 {
		return fmt.Errorf("must be positive")
	}
	*d = durationFlag(v)
	return nil
}

// fmtTime shows t in loc with the zone abbreviation.
func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format(timeLayout)
}

// fmtOffset shows d as the simulate plan's "+3m", "+1h15m".
func fmtOffset(d time.Duration) string {
	if d < 0 {
		return "-" + model.Duration(-d).String()
	}
	if d == 0 {
		return "+0m"
	}
	return "+" + model.Duration(d).String()
}

// person shows a user as "yamada (山田 太郎)", or the bare id when the name adds nothing.
func person(cfg *config.Config, id string) string {
	u := cfg.User(id)
	if u == nil || u.Name == "" || u.Name == id {
		return id
	}
	return id + " (" + u.Name + ")"
}

// userName is the user's display name, "" when unknown.
func userName(cfg *config.Config, id string) string {
	if u := cfg.User(id); u != nil && u.Name != id {
		return u.Name
	}
	return ""
}

// chatName shows a chat channel by its name ("#eng-incidents"), else its id.
func chatName(cfg *config.Config, id string) string {
	if ch := cfg.ChatChannel(id); ch != nil && ch.Name != "" {
		return ch.Name
	}
	return id
}

// zoneOf is the time zone for times about a rotation or schedule: the
// rotation's own, and global.timezone for schedules, whose layers may differ.
func zoneOf(cfg *config.Config, id string) *time.Location {
	if r := cfg.Rotation(id); r != nil && r.Location != nil {
		return r.Location
	}
	return cfg.Global.Location
}

// writeJSON writes v indented, without HTML escaping: output is read by
// people and jq, never embedded in HTML.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// plural is "1 user", "2 users".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}
