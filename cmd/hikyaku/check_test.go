package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestCheckExample(t *testing.T) {
	cfg := loadExample(t)
	code, stdout, stderr := runCmd(t, "check", "--config", exampleConfig, "--from", "2026-11-23 00:00")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	want := fmt.Sprintf("%s: %s, %s,", exampleConfig, plural(len(cfg.Users), "user"), plural(len(cfg.Departments), "department"))
	if !strings.HasPrefix(stdout, want) {
		t.Errorf("summary %q does not start with %q", stdout, want)
	}
	// Each warning (the example's secrets come from unset environment
	// variables) is printed where an editor can jump to it; one that serve
	// refuses says so instead (TestCheckSaysWhatServeRefuses).
	for _, w := range cfg.Warnings {
		line := fmt.Sprintf("%s:%d:%d: warning: ", w.File, w.Line, w.Column)
		if !strings.Contains(stderr, line) {
			t.Errorf("stderr lacks %q:\n%s", line, stderr)
		}
	}
}

func TestCheckBrokenConfig(t *testing.T) {
	const file = "testdata/broken.yml"
	code, stdout, stderr := runCmd(t, "check", "--config", file)
	if code != exitFail {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitFail, stderr)
	}
	if stdout != "" {
		t.Errorf("a failed check printed to stdout: %q", stdout)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// Each mistake must be reported at the line and column where its text is.
	for _, bad := range []string{"contacs", "1 week", "nobody-by-that-name"} {
		pos := fmt.Sprintf("%s:%s: ", file, lineCol(t, string(data), bad))
		if !strings.Contains(stderr, pos) {
			t.Errorf("no error at %s (%q) in:\n%s", pos, bad, stderr)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !strings.HasPrefix(l, file+":") {
			t.Errorf("error line without FILE:LINE:COL: %q", l)
		}
	}
}

// lineCol is the 1-based "LINE:COL" of the first occurrence of s in text.
func lineCol(t *testing.T, text, s string) string {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if j := strings.Index(l, s); j >= 0 {
			return fmt.Sprintf("%d:%d", i+1, j+1)
		}
	}
	t.Fatalf("%q not in the file", s)
	return ""
}

func TestCheckGaps(t *testing.T) {
	const file = "testdata/gap.yml"
	args := []string{"check", "--config", file, "--from", "2026-11-23 00:00", "--horizon", "3d"}

	code, stdout, stderr := runCmd(t, args...)
	if code != exitOK {
		t.Fatalf("without --strict: exit %d, want 0; stderr:\n%s", code, stderr)
	}
	// The rotation is active 09:00-18:00 on weekdays, so the Monday evening
	// handoff to Tuesday morning is uncovered.
	gap := "policy support-day-only: nobody would be paged from Mon 2026-11-23 18:00 JST to Tue 2026-11-24 09:00 JST"
	if !strings.Contains(stdout, gap) {
		t.Errorf("stdout lacks %q:\n%s", gap, stdout)
	}

	code, _, _ = runCmd(t, append(args, "--strict")...)
	if code != exitFail {
		t.Errorf("with --strict: exit %d, want %d", code, exitFail)
	}

	code, stdout, _ = runCmd(t, append(args, "--strict", "--output", "json")...)
	if code != exitFail {
		t.Errorf("with --strict --output json: exit %d, want %d", code, exitFail)
	}
	var rep checkReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout)
	}
	if rep.OK || len(rep.Gaps) == 0 {
		t.Fatalf("report ok=%v with %d gaps, want not ok with gaps", rep.OK, len(rep.Gaps))
	}
	for _, g := range rep.Gaps {
		if g.Policy != "support-day-only" || !g.Start.Before(g.End) || g.Start.Before(rep.From) || g.End.After(rep.To) {
			t.Errorf("gap %+v is not a window of support-day-only inside [%v, %v)", g, rep.From, rep.To)
		}
		if h := g.Start.In(time.FixedZone("JST", 9*3600)).Hour(); h != 18 && h != 0 {
			t.Errorf("gap %+v starts at %d:00 JST, want the 18:00 close or the window's midnight start", g, h)
		}
	}
}

func TestCheckJSONOnErrors(t *testing.T) {
	code, stdout, _ := runCmd(t, "check", "--config", "testdata/broken.yml", "--output", "json")
	if code != exitFail {
		t.Fatalf("exit %d, want %d", code, exitFail)
	}
	var rep checkReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout)
	}
	if rep.OK || len(rep.Errors) < 3 {
		t.Errorf("ok=%v with %d errors, want not ok with every error", rep.OK, len(rep.Errors))
	}
	for _, e := range rep.Errors {
		if e.Line == 0 || e.Column == 0 || e.Msg == "" {
			t.Errorf("error without a position or message: %+v", e)
		}
	}
}
