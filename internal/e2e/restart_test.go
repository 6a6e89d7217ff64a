package e2e

import (
	"fmt"
	"testing"
	"time"
)

// catchUp bounds how soon after restart a step that came due during the
// outage must go out: at once, not after a poll period or a lease.
const catchUp = time.Second

// TestEmbeddedRestartResumes kills -9 the single daemon on the embedded store
// and restarts it: the escalation goes on where it was, at once.
func TestEmbeddedRestartResumes(t *testing.T) {
	t.Run("step due during the outage", testRestartAfterOutage)
	t.Run("killed while sending", testRestartWhileSending)
}

// testRestartAfterOutage kills the daemon while its incidents wait for step
// 2 and keeps it down past step 2's due time: after the restart step 2 goes
// out at once and nothing sent before is sent again.
func testRestartAfterOutage(t *testing.T) {
	const groups = 3
	cfg := writeConfig(t)
	dataDir := t.TempDir()
	before := startDaemon(t, "before-crash", cfg, "--data-dir", dataDir)

	for g := range groups {
		if _, err := postUntilAccepted(before.Addr, groupMessage(t, fmt.Sprintf("Restart%d", g), true), 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	incs, err := listIncidents(before.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != groups {
		t.Fatalf("%d incidents, want %d", len(incs), groups)
	}
	// Crash while everything is quiet: step 1 sent and recorded everywhere,
	// step 2 not yet due anywhere.
	ids := make([]int64, len(incs))
	var firstDue, lastDue time.Time
	for i, inc := range incs {
		ids[i] = inc.ID
		fired := waitIncident(t, before.Addr, inc.Key, func(v *incidentView) bool { return len(v.events("recorded")) == 1 }).events("step_fired")
		due := fired[0].At.Add(escalateAfter)
		if firstDue.IsZero() || due.Before(firstDue) {
			firstDue = due
		}
		if due.After(lastDue) {
			lastDue = due
		}
	}
	before.Kill()
	t.Logf("killed %s before the first step 2 was due", time.Until(firstDue).Round(time.Millisecond))
	if time.Until(firstDue) < 100*time.Millisecond {
		t.Fatalf("step 1 took so long that step 2 was nearly due at the crash: the machine is too slow for this test")
	}
	time.Sleep(time.Until(lastDue.Add(escalateAfter / 2))) // every step 2 comes due while nobody runs

	after := startDaemon(t, "after-restart", cfg, "--data-dir", dataDir)
	var slowest time.Duration
	for _, id := range ids {
		s, ok := after.WaitLog(func(l *logLine) bool { return l.Incident == id && isPage(0, 1)(l) }, catchUp+time.Second)
		if !ok {
			t.Fatalf("incident %d: step 2, due during the outage, not sent within %s of the restart", id, catchUp+time.Second)
		}
		slowest = max(slowest, s.Time.Sub(after.Serving))
	}
	t.Logf("restart catch-up: step 2 of %d incidents sent at most %s after the daemon served again", groups, slowest.Round(time.Millisecond))
	if slowest > catchUp {
		t.Errorf("step 2 sent %s after the restart, want within %s", slowest, catchUp)
	}

	waitExhausted(t, []*daemon{before, after}, groups, "")
	got, problems := byPage(sendsOf(before, after), ids, testPlan, nil)
	reportProblems(t, problems)
	// Pages after the outage are late by the outage; none may be early.
	checkSchedule(t, after.Addr, got, testPlan, 2*escalateAfter)
	for pg, s := range got {
		if pg.Round == 0 && pg.Step == 0 && s.Replica != before.name {
			t.Errorf("%s sent by %s: step 1 went out again after the restart", pg, s.Replica)
		}
	}
}

// testRestartWhileSending kills the daemon in the middle of a burst of step-2
// pages and restarts it at once. The pages it had claimed must not wait for
// the dead process's lease: nobody else can hold a claim on the embedded
// store's file. A page it logged but had not marked sent may go out again
// (at least once); nothing is lost.
func testRestartWhileSending(t *testing.T) {
	const groups = 40
	cfg := writeConfig(t)
	dataDir := t.TempDir()
	before := startDaemon(t, "before-crash", cfg, "--data-dir", dataDir)
	for g := range groups {
		if _, err := postUntilAccepted(before.Addr, groupMessage(t, fmt.Sprintf("CrashMidSend%02d", g), true), 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := before.WaitLog(isPage(0, 1), 10*time.Second); !ok {
		t.Fatal("step 2 never sent")
	}
	before.Kill()
	killed := time.Now()
	after := startDaemon(t, "after-restart", cfg, "--data-dir", dataDir)

	incs, err := listIncidents(after.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(incs))
	for i, inc := range incs {
		ids[i] = inc.ID
	}
	waitExhausted(t, []*daemon{before, after}, groups, "")
	resent := 0
	got, problems := byPage(sendsOf(before, after), ids, testPlan, func(first, again sent) bool {
		ok := first.Replica == before.name && again.Replica == after.name && !first.Time.After(killed)
		if ok {
			resent++
		}
		return ok
	})
	reportProblems(t, problems)
	var slowest time.Duration
	for pg, s := range got {
		if pg.Round == 0 && pg.Step == 1 && s.Replica == after.name {
			slowest = max(slowest, s.Time.Sub(after.Serving))
		}
	}
	t.Logf("restart mid-send: step 2 pages left by the crash sent at most %s after the restart; %d logged before the crash went out again",
		slowest.Round(time.Millisecond), resent)
	if slowest > catchUp {
		t.Errorf("a step-2 page went out %s after the restart, want within %s: it waited for a dead process's lease", slowest, catchUp)
	}
}
