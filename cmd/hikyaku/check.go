package main

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
)

// defaultHorizon is how far ahead check looks for coverage gaps: four weeks
// covers every weekly rotation's full cycle for a typical team of four.
const defaultHorizon = 28 * 24 * time.Hour

// checkReport is check's JSON output.
type checkReport struct {
	File     string         `json:"file"`
	OK       bool           `json:"ok"`
	Errors   []config.Error `json:"errors"`
	Warnings []config.Error `json:"warnings"`
	From     time.Time      `json:"from,omitzero"`
	To       time.Time      `json:"to,omitzero"`
	Gaps     []gapJSON      `json:"gaps"`
	Counts   *checkCounts   `json:"counts,omitempty"`
}

type gapJSON struct {
	Policy string    `json:"policy"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
}

type checkCounts struct {
	Users       int `json:"users"`
	Departments int `json:"departments"`
	Rotations   int `json:"rotations"`
	Schedules   int `json:"schedules"`
	Policies    int `json:"policies"`
	Routes      int `json:"routes"`
}

func runCheck(e *env, args []string) int {
	c := newFlags(e, "check", "check [--config FILE] [--horizon 28d] [--from TIME] [--strict] [--server URL] [--output text|json]")
	horizon := durationFlag(defaultHorizon)
	var from timeFlag
	c.fs.Var(&horizon, "horizon", "how far ahead to look for coverage gaps")
	c.fs.Var(&from, "from", "start of the gap search: RFC 3339 or \"2006-01-02 15:04\" in global.timezone (default now)")
	strict := c.fs.Bool("strict", false, "exit 1 on warnings and coverage gaps too")
	stored := addStoredFlags(c.fs)
	if code, ok := c.parse(e, args); !ok {
		return code
	}
	rep := checkReport{File: c.config, Errors: []config.Error{}, Warnings: []config.Error{}, Gaps: []gapJSON{}}

	cfg, err := config.Load(c.config)
	if err != nil {
		printLoadError(e.stderr, err)
		if c.json() {
			rep.Errors = loadErrors(err, c.config)
			if err := writeJSON(e.stdout, rep); err != nil {
				return c.fail(e, err)
			}
		}
		return exitFail
	}
	start, err := from.get(cfg.Global.Location, e.now())
	if err != nil {
		return c.usageErr(e, "--from: %v", err)
	}
	end := start.Add(time.Duration(horizon))
	// JSON shows every time in global.timezone, as text does, rather than in
	// whichever zone each computation happened to produce it.
	loc := cfg.Global.Location
	rep.From, rep.To = start.In(loc), end.In(loc)
	rep.Warnings = append(rep.Warnings, checkWarnings(cfg)...)
	os, err := stored.overrides()
	if err != nil {
		return c.fail(e, err)
	}
	rep.Warnings = append(rep.Warnings, storedWarnings(cfg, stored.server, os)...)
	for _, w := range rep.Warnings {
		fmt.Fprintf(e.stderr, "%s:%d:%d: warning: %s\n", w.File, w.Line, w.Column, w.Msg)
	}

	for _, g := range policies.Compile(cfg).CoverageGaps(start, end) {
		rep.Gaps = append(rep.Gaps, gapJSON{Policy: g.Policy, Start: g.Start.In(loc), End: g.End.In(loc)})
	}
	counts := countConfig(cfg)
	rep.Counts = &counts
	rep.OK = !*strict || (len(rep.Warnings) == 0 && len(rep.Gaps) == 0)

	if c.json() {
		if err := writeJSON(e.stdout, rep); err != nil {
			return c.fail(e, err)
		}
	} else {
		for _, g := range rep.Gaps {
			fmt.Fprintf(e.stdout, "policy %s: nobody would be paged from %s to %s\n", g.Policy, fmtTime(g.Start, loc), fmtTime(g.End, loc))
		}
		fmt.Fprintf(e.stdout, "%s: %s, %s, %s, %s, %s, %s; %s and %s from %s to %s\n",
			c.config,
			plural(counts.Users, "user"), plural(counts.Departments, "department"),
			plural(counts.Rotations, "rotation"), plural(counts.Schedules, "schedule"),
			plural(counts.Policies, "policy"), plural(counts.Routes, "route"),
			plural(len(rep.Warnings), "warning"), plural(len(rep.Gaps), "coverage gap"),
			fmtTime(start, loc), fmtTime(end, loc))
	}
	if !rep.OK {
		return exitFail
	}
	return exitOK
}

// checkWarnings are the file's warnings and what serve would refuse to
// start with, in file order. The latter are warnings here, not errors, so
// a config can be checked where its secrets are not (CI); each says that
// serve refuses it. An unset secret that serve refuses is said once, as that.
func checkWarnings(cfg *config.Config) []config.Error {
	refused := append(append(config.Errors(nil), cfg.ReceiverProblems...), cfg.ProviderProblems...)
	at := map[[2]int]bool{}
	for _, r := range refused {
		at[[2]int{r.Line, r.Column}] = true
	}
	out := refused
	for _, w := range cfg.Warnings {
		if !at[[2]int{w.Line, w.Column}] {
			out = append(out, w)
		}
	}
	slices.SortStableFunc(out, func(a, b config.Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return out
}

// loadErrors turns a load failure into the report's errors; a failure that
// is not a list of positioned errors (an unreadable file) points at the file.
func loadErrors(err error, file string) []config.Error {
	var errs config.Errors
	if errors.As(err, &errs) {
		return errs
	}
	return []config.Error{{File: file, Msg: err.Error()}}
}

func countConfig(cfg *config.Config) checkCounts {
	n := checkCounts{Users: len(cfg.Users), Departments: len(cfg.Departments), Policies: len(cfg.Policies), Routes: len(cfg.Routes)}
	for _, d := range cfg.Departments {
		n.Rotations += len(d.Rotations)
		n.Schedules += len(d.Schedules)
	}
	if cfg.DefaultRoute != nil {
		n.Routes++
	}
	return n
}
