package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestOncallFollowsRotationArithmetic checks oncall against the rotation's
// own definition: eng-primary (Asia/Tokyo, no DST) hands over every shift,
// members in order from start, so at t the member on call is
// members[floor((t-start)/shift) mod len(members)].
func TestOncallFollowsRotationArithmetic(t *testing.T) {
	cfg := loadExample(t)
	r := cfg.Rotation("eng-primary")
	if r == nil || len(r.Changes) > 0 {
		t.Fatal("the example's eng-primary must exist and have no roster changes")
	}
	shift := r.Shift.D()
	// Probe the middle of several turns, and a turn's first minute.
	probes := []time.Time{
		r.StartTime.Add(shift / 2),
		r.StartTime.Add(46*shift + 8*time.Hour),
		r.StartTime.Add(47 * shift),
		r.StartTime.Add(49*shift + shift - time.Minute),
	}
	for _, at := range probes {
		for _, o := range r.Overrides {
			if !at.Before(o.StartTime) && at.Before(o.EndTime) {
				t.Fatalf("probe %v falls in an override: pick another", at)
			}
		}
		k := int(at.Sub(r.StartTime) / shift)
		want := r.Members[k%len(r.Members)]
		wantStart := r.StartTime.Add(time.Duration(k) * shift)

		code, stdout, stderr := runCmd(t, "oncall", "--config", exampleConfig, "--department", "engineering", "--at", at.Format(time.RFC3339), "--output", "json")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var entries []oncallEntry
		if err := json.Unmarshal([]byte(stdout), &entries); err != nil {
			t.Fatalf("decode: %v\n%s", err, stdout)
		}
		var got *oncallEntry
		for i := range entries {
			if entries[i].Department != "engineering" {
				t.Errorf("--department engineering listed %+v", entries[i])
			}
			if entries[i].Rotation == r.ID {
				got = &entries[i]
			}
		}
		if got == nil {
			t.Fatalf("at %v: no entry for %s in %s", at, r.ID, stdout)
		}
		if got.User != want || got.Start == nil || !got.Start.Equal(wantStart) || got.End == nil || !got.End.Equal(wantStart.Add(shift)) {
			t.Errorf("at %v: got %s %v..%v, want %s %v..%v", at, got.User, got.Start, got.End, want, wantStart, wantStart.Add(shift))
		}
		if got.Name != cfg.User(want).Name {
			t.Errorf("at %v: name %q, want %q", at, got.Name, cfg.User(want).Name)
		}

		code, text, _ := runCmd(t, "oncall", "--config", exampleConfig, "--at", at.In(r.Location).Format("2006-01-02 15:04"))
		line := lineWith(text, "rotation eng-primary ")
		wantFields := append([]string{"rotation", r.ID, want, "until"}, strings.Fields(fmtTime(wantStart.Add(shift), r.Location))...)
		if code != exitOK || !strings.HasPrefix(strings.Join(strings.Fields(line), " "), strings.Join(wantFields, " ")) {
			t.Errorf("at %v: text line %q, want it to start %q", at, line, strings.Join(wantFields, " "))
		}
	}
}

func TestOncallNobody(t *testing.T) {
	cfg := loadExample(t)
	// support-day is active on weekdays 09:00-18:00 Tokyo: on a Saturday
	// nobody is on call until Monday 09:00.
	sat := time.Date(2026, 11, 28, 12, 0, 0, 0, cfg.Global.Location)
	code, stdout, stderr := runCmd(t, "oncall", "--config", exampleConfig, "--department", "support", "--at", sat.Format(time.RFC3339), "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var entries []oncallEntry
	if err := json.Unmarshal([]byte(stdout), &entries); err != nil {
		t.Fatal(err)
	}
	monday := time.Date(2026, 11, 30, 9, 0, 0, 0, cfg.Global.Location)
	for _, en := range entries {
		if en.Rotation != "support-day" {
			continue
		}
		if en.User != "" || en.NextStart == nil || !en.NextStart.Equal(monday) {
			t.Errorf("support-day on Saturday: %+v, want nobody until %v", en, monday)
		}
		return
	}
	t.Errorf("no support-day entry in %s", stdout)
}

func TestOncallUnknownDepartment(t *testing.T) {
	code, _, stderr := runCmd(t, "oncall", "--config", exampleConfig, "--department", "marketing")
	if code != exitFail || !strings.Contains(stderr, `unknown department "marketing"`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if code, _, _ := runCmd(t, "oncall", "--config", exampleConfig, "--at", "next tuesday"); code != exitUsage {
		t.Errorf("--at garbage: exit %d, want %d", code, exitUsage)
	}
}

// lineWith is the first line of text containing s.
func lineWith(text, s string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
