package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/policies"
)

const twoAlerts = "testdata/firing-two-alerts-ja.json"

func TestSimulatePagesPrimaryFirst(t *testing.T) {
	cfg := loadExample(t)
	code, stdout, stderr := runCmd(t, "simulate", "--config", exampleConfig, "--alert", twoAlerts, "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep simulateReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout)
	}
	msg, err := readWebhook(twoAlerts)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.At.Equal(msg.Alerts[0].StartsAt) {
		t.Errorf("at %v, want the first alert's startsAt %v", rep.At, msg.Alerts[0].StartsAt)
	}
	if len(rep.Decisions) != 1 {
		t.Fatalf("%d decisions, want 1: %s", len(rep.Decisions), stdout)
	}
	d := rep.Decisions[0]
	if d.Route != "payments-critical" || d.Action != "page" || d.Plan == nil || len(d.Plan.Steps) == 0 || len(d.Plan.Pages) == 0 {
		t.Fatalf("decision %+v: want payments-critical paging with a plan", d)
	}
	onCall, ok := policies.Compile(cfg).OnCall("eng-primary", rep.At)
	if !ok {
		t.Fatal("nobody on call in eng-primary when the alert fired")
	}
	first := d.Plan.Steps[0]
	if first.Step != 1 || first.Round != 1 || first.After != "0s" || !contains(first.Users, onCall.User) {
		t.Errorf("first step %+v, want step 1 of round 1 at 0s paging %s", first, onCall.User)
	}
	if p := d.Plan.Pages[0]; p.User != onCall.User && p.ChatChannel == "" {
		t.Errorf("first page %+v goes to neither %s nor a chat channel", p, onCall.User)
	}
	for _, p := range d.Plan.Pages {
		if p.User != "" {
			if p.User != onCall.User {
				t.Errorf("the first user paged is %s, want the eng-primary on call %s", p.User, onCall.User)
			}
			break
		}
	}

	code, text, _ := runCmd(t, "simulate", "--config", exampleConfig, "--alert", twoAlerts)
	if code != exitOK {
		t.Fatalf("text: exit %d", code)
	}
	for _, want := range []string{"route payments-critical:", "+0m", "step 1: " + person(cfg, onCall.User), "#eng-incidents"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
}

func TestSimulateAtOverridesStartsAt(t *testing.T) {
	code, stdout, stderr := runCmd(t, "simulate", "--config", exampleConfig, "--alert", twoAlerts, "--at", "2026-12-29 03:00", "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep simulateReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	// suzuki covers eng-primary over the new year by override.
	if got := rep.Decisions[0].Plan.Steps[0].Users; !contains(got, "suzuki") {
		t.Errorf("step 1 pages %v during suzuki's override", got)
	}
}

func TestSimulateBadPayloads(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct{ body, want string }{
		"truncated":  {`{"receiver": "hikyaku", "alerts": [`, "line 1, column"},
		"syntax":     {"{\n  \"alerts\": [}\n", "line 2, column 14"},
		"not-alerts": {`{"hello": "world"}`, `no "alerts"`},
		"wrong-type": {`{"alerts": "many"}`, `field "alerts"`},
		"empty":      {"  \n", "empty body"},
	}
	for name, c := range cases {
		path := filepath.Join(dir, name+".json")
		if err := os.WriteFile(path, []byte(c.body), 0o600); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runCmd(t, "simulate", "--config", exampleConfig, "--alert", path)
		if code != exitFail || stdout != "" || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, path) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q: want exit 1 naming the file and %q", name, code, stdout, stderr, c.want)
		}
	}
	if code, _, stderr := runCmd(t, "simulate", "--config", exampleConfig, "--alert", filepath.Join(dir, "missing.json")); code != exitFail || !strings.Contains(stderr, "missing.json") {
		t.Errorf("missing file: exit %d, %q", code, stderr)
	}
	if code, _, _ := runCmd(t, "simulate", "--config", exampleConfig); code != exitUsage {
		t.Errorf("no --alert: exit %d, want %d", code, exitUsage)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestSimulateWatchdogIsAHeartbeat: a group matching a heartbeat is
// reported as the heartbeat's, with no routing decision, as the daemon
// consumes it.
func TestSimulateWatchdogIsAHeartbeat(t *testing.T) {
	const watchdog = "testdata/watchdog-prod-tokyo.json"
	code, stdout, stderr := runCmd(t, "simulate", "--config", exampleConfig, "--alert", watchdog, "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep simulateReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout)
	}
	if len(rep.Decisions) != 0 || len(rep.Heartbeats) != 1 || rep.Heartbeats[0] != (heartbeatJSON{Name: "prod-tokyo", Timeout: "5m"}) {
		t.Errorf("decisions %+v, heartbeats %+v; want none and prod-tokyo (5m)", rep.Decisions, rep.Heartbeats)
	}
	code, text, _ := runCmd(t, "simulate", "--config", exampleConfig, "--alert", watchdog)
	if want := "heartbeat prod-tokyo: a sign of life, not an incident; hikyaku pages when none arrives within 5m"; code != exitOK || !strings.Contains(text, want) || strings.Contains(text, "route ") {
		t.Errorf("exit %d, text:\n%s\nwant %q and no route", code, text, want)
	}
}

// TestSimulateReports: the stakeholder reports of a resolved payload, in
// the department's zone (New York, while global.timezone is Tokyo) across
// the DST change of 2026-03-08 07:00 UTC: the initial one when the alert
// arrives, an update every 45m while it is open, the final one at the last
// endsAt (08:10 UTC), past the end of --for.
func TestSimulateReports(t *testing.T) {
	const cfg, alert = "testdata/reports.yml", "testdata/resolved-dst.json"
	code, stdout, stderr := runCmd(t, "simulate", "--config", cfg, "--alert", alert, "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep simulateReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout)
	}
	if len(rep.Decisions) != 1 || rep.Decisions[0].Reports == nil {
		t.Fatalf("decisions %+v: want one with reports", rep.Decisions)
	}
	r := rep.Decisions[0].Reports
	if r.TimeZone != "America/New_York" || r.Period != "45m" {
		t.Errorf("zone %q period %q, want America/New_York and 45m", r.TimeZone, r.Period)
	}
	wantTo := []reportToJSON{
		{User: "boss", Channel: "email", Language: "ja"},
		{User: "ops-only", Channel: "", Language: "en"},
		{ChatChannel: "status", Channel: "slack", Language: "en"},
	}
	if !slices.Equal(r.Recipients, wantTo) {
		t.Errorf("recipients %+v, want %+v", r.Recipients, wantTo)
	}
	want := []struct{ phase, title, at, after string }{
		{"initial", "Initial report", "2026-03-08T01:00:00-05:00", "0s"},
		{"update", "Update 2", "2026-03-08T01:45:00-05:00", "45m"},
		{"update", "Update 3", "2026-03-08T03:30:00-04:00", "1h30m"},
		{"final", "Final report", "2026-03-08T04:10:00-04:00", "2h10m"},
	}
	if len(r.Reports) != len(want) {
		t.Fatalf("%d reports, want %d: %+v", len(r.Reports), len(want), r.Reports)
	}
	for i, w := range want {
		g := r.Reports[i]
		if g.At == nil || g.Phase != w.phase || g.Title != w.title || g.At.Format(time.RFC3339) != w.at || g.After != w.after {
			t.Errorf("report %d: %+v at %v, want %+v", i, g, g.At, w)
		}
	}

	code, text, _ := runCmd(t, "simulate", "--config", cfg, "--alert", alert)
	if code != exitOK {
		t.Fatalf("text: exit %d", code)
	}
	for _, line := range []string{
		"  stakeholder reports, an update every 45m, times in America/New_York:",
		"    to: boss (Big Boss) email (ja), ops-only not informed (no written contact), #status slack (en)",
		"    Sun 2026-03-08 01:00 EST  +0m     Initial report",
		"    Sun 2026-03-08 01:45 EST  +45m    Update 2",
		"    Sun 2026-03-08 03:30 EDT  +1h30m  Update 3",
		"    Sun 2026-03-08 04:10 EDT  +2h10m  Final report",
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("text lacks the line %q:\n%s", line, text)
		}
	}
}

// TestSimulateReportsUnresolved: a firing payload's final report has no
// time, and the updates stop at the end of --for.
func TestSimulateReportsUnresolved(t *testing.T) {
	code, stdout, stderr := runCmd(t, "simulate", "--config", exampleConfig, "--alert", twoAlerts, "--for", "1h", "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep simulateReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	r := rep.Decisions[0].Reports
	if r == nil {
		t.Fatal("no reports")
	}
	// engineering 30m, exec 1h and finance 2h (both critical): the shortest wins.
	if r.TimeZone != "Asia/Tokyo" || r.Period != "30m" || len(r.Recipients) != 4 {
		t.Errorf("zone %q period %q recipients %+v", r.TimeZone, r.Period, r.Recipients)
	}
	var got []string
	for _, p := range r.Reports {
		at := "when resolved"
		if p.At != nil {
			at = p.At.Format(time.RFC3339)
		}
		got = append(got, p.Title+" "+at)
	}
	want := []string{"初報 2026-11-24T02:27:08+09:00", "第2報 (定時報) 2026-11-24T02:57:08+09:00", "完了報 when resolved"}
	if !slices.Equal(got, want) {
		t.Errorf("reports %q, want %q", got, want)
	}
	code, text, _ := runCmd(t, "simulate", "--config", exampleConfig, "--alert", twoAlerts, "--for", "1h")
	if line := "    when resolved                   完了報\n"; code != exitOK || !strings.Contains(text, line) {
		t.Errorf("exit %d, text lacks %q:\n%s", code, line, text)
	}
}
