package e2e

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

// TestOverduePagesInDueOrderAfterRestart kills -9 the embedded daemon while
// 20 incidents wait for step 2 (due 30 ms apart, all to bob), keeps it down
// past every due time, and restarts it: the catch-up burst pages bob in the
// order his pages came due. "Pairs swapped" (docs/reliability.md): of all
// pairs of overdue pages to one person, those sent in the opposite order to
// their due times. Old code: 33–65% of pairs swapped.
func TestOverduePagesInDueOrderAfterRestart(t *testing.T) {
	const groups = 20
	cfg := writeConfig(t)
	dataDir := t.TempDir()
	before := startDaemon(t, "before-crash", cfg, "--data-dir", dataDir)
	for g := range groups {
		if _, err := postUntilAccepted(before.Addr, groupMessage(t, fmt.Sprintf("Order%02d", g), true), 10*time.Second); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	incs, err := listIncidents(before.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != groups {
		t.Fatalf("%d incidents, want %d", len(incs), groups)
	}
	due := map[int64]time.Time{} // step 2's due time, by incident
	var firstDue, lastDue time.Time
	for _, inc := range incs {
		fired := waitIncident(t, before.Addr, inc.Key, func(v *incidentView) bool { return len(v.events("recorded")) == 1 }).events("step_fired")
		at := fired[0].At.Add(escalateAfter)
		due[inc.ID] = at
		if firstDue.IsZero() || at.Before(firstDue) {
			firstDue = at
		}
		if at.After(lastDue) {
			lastDue = at
		}
	}
	before.Kill()
	t.Logf("killed %s before the first step 2 was due", time.Until(firstDue).Round(time.Millisecond))
	if time.Until(firstDue) < 100*time.Millisecond {
		t.Fatalf("step 1 took so long that step 2 was nearly due at the crash: the machine is too slow for this test")
	}
	time.Sleep(time.Until(lastDue.Add(escalateAfter / 2)))

	after := startDaemon(t, "after-restart", cfg, "--data-dir", dataDir)
	for id := range due {
		if _, ok := after.WaitLog(func(l *logLine) bool { return l.Incident == id && isPage(0, 1)(l) }, catchUp+5*time.Second); !ok {
			t.Fatalf("incident %d: step 2 not sent after the restart", id)
		}
	}
	var order []int64 // incidents in the order bob's step-2 pages were sent
	for _, l := range after.Sends() {
		if isPage(0, 1)(&l) {
			order = append(order, l.Incident)
		}
	}
	if len(order) != groups {
		t.Fatalf("%d step-2 pages after the restart, want %d", len(order), groups)
	}
	swapped, pairs := swappedPairs(order, due)
	t.Logf("catch-up after a restart: %d of %d pairs of bob's overdue pages swapped", swapped, pairs)
	if swapped != 0 {
		byDue := append([]int64(nil), order...)
		sort.Slice(byDue, func(i, j int) bool { return due[byDue[i]].Before(due[byDue[j]]) })
		t.Errorf("sent for incidents %v, due order %v: %d of %d pairs swapped, want 0", order, byDue, swapped, pairs)
	}
}

// swappedPairs counts the pairs of sends in order whose due times are the other way round.
func swappedPairs(order []int64, due map[int64]time.Time) (swapped, pairs int) {
	for i := range order {
		for j := i + 1; j < len(order); j++ {
			pairs++
			if due[order[i]].After(due[order[j]]) {
				swapped++
			}
		}
	}
	return swapped, pairs
}
