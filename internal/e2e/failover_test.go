package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/internal/redistest"
)

// lease bounds how long a dead replica's claimed work waits: the engine's
// 4 s lease (router.Options.Lease as serve leaves it) and a second of slack
// for a loaded machine.
const lease = 5 * time.Second

// TestKillReplicaMidEscalation kills -9 the replica that took the alert and
// checks the other one carries the escalation on, on time, with nothing lost.
func TestKillReplicaMidEscalation(t *testing.T) {
	t.Run("just before step 2 is due", testKillBeforeDue)
	t.Run("while it sends step 2", testKillWhileSending)
}

func testKillBeforeDue(t *testing.T) {
	rd := redistest.Start(t, redistest.Options{})
	cfg := writeConfig(t)
	a := startDaemon(t, "replica-a", cfg, "--store", rd.URL())
	b := startDaemon(t, "replica-b", cfg, "--store", rd.URL())

	if _, err := postUntilAccepted(a.Addr, groupMessage(t, "KillBeforeDue", true), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// Step 1 goes out from either replica: both work off the same timers.
	inc := waitIncident(t, b.Addr, groupKey("KillBeforeDue"), func(v *incidentView) bool { return len(v.events("recorded")) == 1 })
	fired := inc.events("step_fired")
	if len(fired) != 1 {
		t.Fatalf("%d steps fired before the kill, want 1", len(fired))
	}
	due := fired[0].At.Add(escalateAfter)
	time.Sleep(time.Until(due.Add(-300 * time.Millisecond)))
	a.Kill()
	killed := time.Now()
	if killed.After(due) {
		t.Fatalf("killed %s after step 2 was due: the machine is too slow for this test", killed.Sub(due))
	}

	step2, ok := b.WaitLog(isPage(0, 1), lease+2*time.Second)
	if !ok {
		t.Fatalf("replica B did not send step 2 within %s of A's death", lease+2*time.Second)
	}
	delay := step2.Time.Sub(due)
	t.Logf("failover: step 2 sent by B %s after it was due (A killed %s before)", delay.Round(time.Millisecond), due.Sub(killed).Round(time.Millisecond))
	if delay > lease {
		t.Errorf("step 2 sent %s after due, want within one lease (%s)", delay, lease)
	}

	waitExhausted(t, []*daemon{a, b}, 1, rd.URL())
	got, problems := byPage(sendsOf(a, b), []int64{inc.ID}, testPlan, nil)
	reportProblems(t, problems)
	checkSchedule(t, b.Addr, got, testPlan, lease)
}

// testKillWhileSending kills A the moment it logs its first step-2 page of
// many, so it dies holding claims, and only then starts B, so no claim is
// B's: A's come back to B when their lease ends, the rest at once. A page A
// logged but had not marked done may be sent again by B (at least once: the
// idempotency key lets the provider drop it); any other repeat, and any
// loss, fails.
func testKillWhileSending(t *testing.T) {
	const groups = 40
	rd := redistest.Start(t, redistest.Options{})
	cfg := writeConfig(t)
	a := startDaemon(t, "replica-a", cfg, "--store", rd.URL())

	for g := range groups {
		if _, err := postUntilAccepted(a.Addr, groupMessage(t, fmt.Sprintf("KillWhileSending%02d", g), true), 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := a.WaitLog(isPage(0, 1), 10*time.Second); !ok {
		t.Fatal("replica A never sent step 2")
	}
	a.Kill()
	killed := time.Now()
	b := startDaemon(t, "replica-b", cfg, "--store", rd.URL())

	incs, err := listIncidents(b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != groups {
		t.Fatalf("%d incidents, want %d", len(incs), groups)
	}
	ids := make([]int64, len(incs))
	for i, inc := range incs {
		ids[i] = inc.ID
	}
	waitExhausted(t, []*daemon{a, b}, groups, rd.URL())

	resent := 0
	got, problems := byPage(sendsOf(a, b), ids, testPlan, func(first, again sent) bool {
		ok := first.Replica == a.name && again.Replica == b.name && !first.Time.After(killed)
		if ok {
			resent++
		}
		return ok
	})
	reportProblems(t, problems)
	timings := checkSchedule(t, b.Addr, got, testPlan, lease+time.Second)

	var byA, byB, afterLease int
	var worst time.Duration
	for pg, s := range got {
		if pg.Round != 0 || pg.Step != 1 {
			continue
		}
		if s.Replica == a.name {
			byA++
			continue
		}
		byB++
		worst = max(worst, timings[pg].Delay)
		if s.Time.Sub(killed) > lease*3/4 {
			afterLease++
		}
	}
	t.Logf("step 2 of %d incidents: %d sent by A before the kill, %d by B (%d of them waited for A's lease); worst delay after due %s; %d pages A had logged were sent again by B",
		groups, byA, byB, afterLease, worst.Round(time.Millisecond), resent)
}

// isPage matches the log line of a page of the given round and step (0-based).
func isPage(round, step int) func(*logLine) bool {
	return func(l *logLine) bool {
		if l.Msg != msgRecorded {
			return false
		}
		pg, err := pageOf(sent{logLine: *l})
		return err == nil && pg.Round == round && pg.Step == step
	}
}
