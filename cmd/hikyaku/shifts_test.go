package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestShiftsContiguous(t *testing.T) {
	cfg := loadExample(t)
	r := cfg.Rotation("eng-primary")
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, r.Location)
	to := time.Date(2027, 1, 31, 0, 0, 0, 0, r.Location)
	code, stdout, stderr := runCmd(t, "shifts", "--config", exampleConfig, "--rotation", r.ID,
		"--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339), "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var shifts []shiftJSON
	if err := json.Unmarshal([]byte(stdout), &shifts); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout)
	}
	if len(shifts) == 0 {
		t.Fatal("no shifts")
	}
	// eng-primary is never inactive, so its shifts tile [from, to).
	if shifts[0].Start.After(from) || shifts[len(shifts)-1].End.Before(to) {
		t.Errorf("shifts span %v..%v, want all of %v..%v", shifts[0].Start, shifts[len(shifts)-1].End, from, to)
	}
	for i, sh := range shifts {
		if !sh.Start.Before(sh.End) {
			t.Errorf("shift %d is empty: %+v", i, sh)
		}
		if i > 0 && !shifts[i-1].End.Equal(sh.Start) {
			t.Errorf("shift %d starts at %v, the one before ends at %v", i, sh.Start, shifts[i-1].End)
		}
		if cfg.User(sh.User) == nil || sh.Layer == "" {
			t.Errorf("shift %d: unknown user or no layer: %+v", i, sh)
		}
	}
	// Every override in the window shows, as an override, for its user.
	for _, o := range r.Overrides {
		if !o.StartTime.Before(to) || !o.EndTime.After(from) {
			continue
		}
		found := false
		for _, sh := range shifts {
			if sh.Override && sh.User == o.User && sh.Start.Before(o.EndTime) && sh.End.After(o.StartTime) {
				found = true
			}
		}
		if !found {
			t.Errorf("override %s %v..%v missing from %s", o.User, o.StartTime, o.EndTime, stdout)
		}
	}
}

func TestShiftsErrors(t *testing.T) {
	if code, _, stderr := runCmd(t, "shifts", "--config", exampleConfig); code != exitUsage || !strings.Contains(stderr, "--rotation is required") {
		t.Errorf("no --rotation: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runCmd(t, "shifts", "--config", exampleConfig, "--rotation", "nope"); code != exitFail || !strings.Contains(stderr, `"nope"`) {
		t.Errorf("unknown rotation: exit %d, %q", code, stderr)
	}
	if code, _, _ := runCmd(t, "shifts", "--config", exampleConfig, "--rotation", "eng-primary", "--from", "2026-12-02 00:00", "--to", "2026-12-01 00:00"); code != exitUsage {
		t.Errorf("--to before --from: exit %d, want %d", code, exitUsage)
	}
}
