package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

const exampleConfig = "../../examples/hikyaku.yml"

// runCmd runs a command line in-process with a fixed clock, so defaults
// that read "now" are reproducible.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	now := func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) }
	code = runEnv(&env{stdout: &out, stderr: &errb, now: now}, args)
	return code, out.String(), errb.String()
}

func loadExample(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load(exampleConfig)
	if err != nil {
		t.Fatalf("load %s: %v", exampleConfig, err)
	}
	return cfg
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"-h"}, {"--help"}, {"frobnicate"}} {
		code, stdout, stderr := runCmd(t, args...)
		if code != exitUsage {
			t.Errorf("hikyaku %q: exit %d, want %d", args, code, exitUsage)
		}
		if stdout != "" {
			t.Errorf("hikyaku %q: usage went to stdout: %q", args, stdout)
		}
		for _, c := range commands {
			if !strings.Contains(stderr, "  "+c.name+" ") {
				t.Errorf("hikyaku %q: usage does not list %q:\n%s", args, c.name, stderr)
			}
		}
	}
	if _, _, stderr := runCmd(t, "frobnicate"); !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command not named: %s", stderr)
	}
}

func TestCommandHelpAndBadFlags(t *testing.T) {
	for _, c := range commands {
		code, _, stderr := runCmd(t, c.name, "-h")
		if code != exitUsage || !strings.Contains(stderr, "Usage: hikyaku "+c.name) {
			t.Errorf("%s -h: exit %d, stderr %q", c.name, code, stderr)
		}
		if code, _, _ := runCmd(t, c.name, "--no-such-flag"); code != exitUsage {
			t.Errorf("%s --no-such-flag: exit %d, want %d", c.name, code, exitUsage)
		}
		if code, _, _ := runCmd(t, c.name, "--output", "yaml"); code != exitUsage {
			t.Errorf("%s --output yaml: exit %d, want %d", c.name, code, exitUsage)
		}
	}
}

func TestMissingConfig(t *testing.T) {
	code, _, stderr := runCmd(t, "oncall", "--config", "testdata/no-such-file.yml")
	if code != exitFail || !strings.Contains(stderr, "no-such-file.yml") {
		t.Errorf("exit %d, stderr %q: want exit 1 naming the file", code, stderr)
	}
}
