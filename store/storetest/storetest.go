// Package storetest is the conformance suite every store.Store implementation must pass.
// Each implementation's tests call Run with a function that opens an empty store.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// t0 is the suite's fake "now"; tests pass explicit times and never sleep.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// Run runs the whole suite, one part of store.Store at a time; open must
// return a new, empty store, closed by the caller's cleanup or here.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Incidents", func(t *testing.T) { RunIncidents(t, open) })
	t.Run("Timelines", func(t *testing.T) { RunTimelines(t, open) })
	t.Run("Timers", func(t *testing.T) { RunTimers(t, open) })
	t.Run("DeadLetters", func(t *testing.T) { RunDeadLetters(t, open) })
	t.Run("RateWindows", func(t *testing.T) {
		RunRateWindows(t, func(t *testing.T) store.RateWindows { return open(t) })
	})
	t.Run("OptOuts", func(t *testing.T) { RunOptOuts(t, func(t *testing.T) store.OptOuts { return open(t) }) })
	t.Run("Replays", func(t *testing.T) { RunReplays(t, func(t *testing.T) store.Replays { return open(t) }) })
	t.Run("Tokens", func(t *testing.T) { RunTokens(t, open) })
	t.Run("CalendarTokens", func(t *testing.T) {
		RunCalendarTokens(t, func(t *testing.T) store.CalendarTokens { return open(t) })
	})
	t.Run("Deliveries", func(t *testing.T) { RunDeliveries(t, open) })
	t.Run("Overrides", func(t *testing.T) { RunOverrides(t, open) })
	t.Run("Reports", func(t *testing.T) { RunReports(t, open) })
	t.Run("Verifications", func(t *testing.T) {
		RunVerifications(t, func(t *testing.T) store.Verifications { return open(t) })
	})
}

// RunTokens tests store.Tokens.
func RunTokens(t *testing.T, open func(t *testing.T) store.Store) {
	runPart(t, open, []test[store.Store]{
		{"Tokens", testTokens},
		{"TokensConcurrentRevoke", testTokensConcurrentRevoke},
	})
}

// RunDeliveries tests store.Deliveries, written through a Change and
// deleted with their incident.
func RunDeliveries(t *testing.T, open func(t *testing.T) store.Store) {
	runPart(t, open, []test[store.Store]{
		{"DeliveriesByIncident", testDeliveries},
		{"PagedByPersonWhileNotResolved", testPaged},
		{"PostedByProviderID", testPosted},
		{"DeleteResolvedDeletesDeliveries", testDeleteResolvedDeliveries},
	})
}

// RunIncidents tests store.Incidents: writes, keys, queries, retention.
func RunIncidents(t *testing.T, open func(t *testing.T) store.Store) {
	runPart(t, open, []test[store.Store]{
		{"IDsStartAtOneAndIncrease", testIDs},
		{"UpdateByKeyCreatesOnceThenUpdates", testCreateThenUpdate},
		{"RoundTripsEveryField", testRoundTrip},
		{"NilChangeWritesNothing", testNilChange},
		{"FnErrorWritesNothing", testFnError},
		{"ResultCarriesTheOutcome", testResultOutcome},
		{"ConcurrentCreateMakesOneIncident", testConcurrentCreate},
		{"ResolvedFreesKey", testResolveFreesKey},
		{"KeyCannotChange", testKeyCannotChange},
		{"LongKeys", testLongKeys},
		{"GetAndUpdateMissing", testNotFound},
		{"ListByStatusNewestFirst", testList},
		{"QueryFilters", testQueryFilters},
		{"QueryPaginates", testQueryPaginates},
		{"QueryFollowsChanges", testQueryFollowsChanges},
		{"DeleteResolved", testDeleteResolved},
	})
}

// RunTimelines tests store.Timelines, and appending through a Change.
func RunTimelines(t *testing.T, open func(t *testing.T) store.Store) {
	runPart(t, open, []test[store.Store]{
		{"TimelineInOrder", testTimeline},
		{"AppendKeepsTheRecord", testAppendKeepsRecord},
	})
}

// RunTimers tests store.Timers: an incident's, and standalone ones.
func RunTimers(t *testing.T, open func(t *testing.T) store.Store) {
	runPart(t, open, []test[store.Store]{
		{"ScheduleIsIdempotent", testScheduleIdempotent},
		{"ScheduleFillsIncidentID", testScheduleFillsIncidentID},
		{"ClaimOrderAndDueness", testClaimOrder},
		{"ConcurrentClaimsAreExclusive", testConcurrentClaims},
		{"LeaseExpiryAndStaleClaim", testLeaseExpiry},
		{"LeaseExpiryCountsAnAttempt", testLeaseExpiryCountsAttempt},
		{"FencedCompleteWritesNothingForAStaleClaim", testFencedComplete},
		{"RenewExtendsAHeldClaimOnly", testRenew},
		{"RetryBumpsAttempt", testRetry},
		{"RetryKeepsTakenOverOfTheCaller", testRetryKeepsTakenOver},
		{"Release", testRelease},
		{"Cancel", testCancel},
		{"CancelIncidentTimers", testCancelIncidentTimers},
		{"NextDueAndPending", testNextDue},
		{"StandaloneTimers", testStandaloneTimers},
	})
}

// RunDeadLetters tests store.DeadLetters.
func RunDeadLetters(t *testing.T, open func(t *testing.T) store.Store) {
	runPart(t, open, []test[store.Store]{
		{"DeadLetterLeavesTheDueSet", testDeadLetter},
		{"DeadLetterRetryAndDiscard", testDeadLetterRetryDiscard},
	})
}

// RunRateWindows tests store.RateWindows alone.
func RunRateWindows(t *testing.T, open func(t *testing.T) store.RateWindows) {
	runPart(t, open, []test[store.RateWindows]{
		{"TakeSlidingWindow", testTakeSlidingWindow},
		{"TakeConcurrentNeverExceeds", testTakeConcurrentNeverExceeds},
	})
}

// RunOptOuts tests store.OptOuts alone.
func RunOptOuts(t *testing.T, open func(t *testing.T) store.OptOuts) {
	runPart(t, open, []test[store.OptOuts]{{"OptOut", testOptOut}})
}

// RunReplays tests store.Replays alone.
func RunReplays(t *testing.T, open func(t *testing.T) store.Replays) {
	runPart(t, open, []test[store.Replays]{
		{"SeenOnceUntilExpiry", testSeenOnceUntilExpiry},
		{"SeenConcurrentOneFirst", testSeenConcurrentOneFirst},
		{"SeenSweepsExpired", testSeenSweepsExpired},
		{"WasSeenReadsWithoutWriting", testWasSeenReadsWithoutWriting},
	})
}

type test[S any] struct {
	name string
	fn   func(t *testing.T, s S)
}

// runPart runs each test on a fresh store from open, closed after it when
// it has a Close.
func runPart[S any](t *testing.T, open func(t *testing.T) S, tests []test[S]) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			if c, ok := any(s).(interface{ Close() error }); ok {
				t.Cleanup(func() { c.Close() })
			}
			tc.fn(t, s)
		})
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

// create opens a new incident for key and fails the test unless one is created.
func create(t *testing.T, s store.Store, key string, events ...store.Event) *store.Incident {
	t.Helper()
	incRes, err := s.UpdateByKey(ctx(t), key, func(cur *store.Incident) (*store.Change, error) {
		if cur != nil {
			return nil, fmt.Errorf("key %q already has incident %d", key, cur.ID)
		}
		return &store.Change{Incident: newIncident(), Events: events}, nil
	})
	inc := incRes.Incident
	if err != nil {
		t.Fatalf("create %q: %v", key, err)
	}
	return inc
}

func newIncident() *store.Incident {
	return &store.Incident{Status: store.StatusOpen, CreatedAt: t0, UpdatedAt: t0, Escalation: store.Escalation{Step: -1}}
}

// change applies fn to incident id and fails the test on error.
func change(t *testing.T, s store.Store, id int64, fn func(inc *store.Incident) *store.Change) *store.Incident {
	t.Helper()
	incRes, err := s.Update(ctx(t), id, func(cur *store.Incident) (*store.Change, error) { return fn(cur), nil })
	inc := incRes.Incident
	if err != nil {
		t.Fatalf("update %d: %v", id, err)
	}
	return inc
}

func setStatus(t *testing.T, s store.Store, id int64, st store.Status) *store.Incident {
	t.Helper()
	return change(t, s, id, func(inc *store.Incident) *store.Change {
		inc.Status = st
		return &store.Change{Incident: inc}
	})
}

// schedule adds timers to incident id.
func schedule(t *testing.T, s store.Store, id int64, timers ...store.Timer) {
	t.Helper()
	change(t, s, id, func(inc *store.Incident) *store.Change {
		return &store.Change{Incident: inc, Schedule: timers}
	})
}

func timer(id string, due time.Time) store.Timer {
	return store.Timer{ID: id, Due: due, Kind: "step", Payload: []byte(`{"step":1}`)}
}

func claim(t *testing.T, s store.Store, now time.Time, owner string, lease time.Duration, max int) []store.Claim {
	t.Helper()
	cs, err := s.ClaimDue(ctx(t), now, owner, lease, max)
	if err != nil {
		t.Fatalf("ClaimDue(%s, %s): %v", now.Format(time.TimeOnly), owner, err)
	}
	return cs
}

func claimIDs(cs []store.Claim) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func wantPending(t *testing.T, s store.Store, want int) {
	t.Helper()
	n, err := s.Pending(ctx(t))
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	if n != want {
		t.Fatalf("Pending = %d, want %d", n, want)
	}
}

func testIDs(t *testing.T, s store.Store) {
	for i, key := range []string{"r/a", "r/b", "r/c"} {
		inc := create(t, s, key)
		if inc.ID != int64(i+1) || inc.Version != 1 || inc.Key != key {
			t.Fatalf("incident %d: got id %d version %d key %q", i+1, inc.ID, inc.Version, inc.Key)
		}
	}
}

func testCreateThenUpdate(t *testing.T, s store.Store) {
	first := create(t, s, "r/g")
	gotRes, err := s.UpdateByKey(ctx(t), "r/g", func(cur *store.Incident) (*store.Change, error) {
		if cur == nil || cur.ID != first.ID {
			return nil, fmt.Errorf("want incident %d, got %+v", first.ID, cur)
		}
		cur.Severity = "critical"
		return &store.Change{Incident: cur}, nil
	})
	got := gotRes.Incident
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != first.ID || got.Version != 2 || got.Severity != "critical" {
		t.Fatalf("update returned %+v", got)
	}
	stored, err := s.Get(ctx(t), first.ID)
	if err != nil || stored.Version != 2 || stored.Severity != "critical" {
		t.Fatalf("Get after update = %+v, %v", stored, err)
	}
	if all, _ := s.List(ctx(t), store.ListOptions{}); len(all) != 1 {
		t.Fatalf("List has %d incidents, want 1", len(all))
	}
}

func testRoundTrip(t *testing.T, s store.Store) {
	want := &store.Incident{
		Key: "r/rt", Status: store.StatusAcked, CreatedAt: t0, UpdatedAt: t0.Add(time.Minute),
		AckedAt: t0.Add(time.Minute), AckedBy: "alice", Department: "ops", Policy: "p", Route: "rt", Severity: "warning",
		Escalation: store.Escalation{Step: 2, Round: 1, Generation: 3, Exhausted: true},
		Message:    json.RawMessage(`{"status":"firing","alerts":[{"labels":{"a":"b"}}]}`),
		Handled:    []string{"SM1"}, Group: "r/rt", Continued: []string{"r/rt#audit"},
		Wait: &store.Wait{Reason: "maintenance", Window: "w", Until: t0.Add(time.Hour), Reporting: true},
	}
	gotRes, err := s.UpdateByKey(ctx(t), "r/rt", func(cur *store.Incident) (*store.Change, error) {
		inc := *want
		return &store.Change{Incident: &inc}, nil
	})
	got := gotRes.Incident
	if err != nil {
		t.Fatal(err)
	}
	want.ID, want.Version = got.ID, 1
	stored, err := s.Get(ctx(t), got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stored, want) {
		t.Fatalf("Get = %+v\nwant  %+v", stored, want)
	}
}

func testNilChange(t *testing.T, s store.Store) {
	incRes, err := s.UpdateByKey(ctx(t), "r/none", func(cur *store.Incident) (*store.Change, error) { return nil, nil })
	inc := incRes.Incident
	if err != nil || inc != nil {
		t.Fatalf("nil change on a new key = %+v, %v; want nil, nil", inc, err)
	}
	first := create(t, s, "r/none")
	incRes, err = s.UpdateByKey(ctx(t), "r/none", func(cur *store.Incident) (*store.Change, error) {
		return &store.Change{Events: []store.Event{{At: t0, Type: "ignored"}}}, nil
	})
	inc = incRes.Incident
	if err != nil || inc.ID != first.ID || inc.Version != 1 {
		t.Fatalf("Change without Incident = %+v, %v; want the unchanged incident", inc, err)
	}
	if evs, _ := s.Timeline(ctx(t), first.ID); len(evs) != 0 {
		t.Fatalf("Change without Incident wrote events: %+v", evs)
	}
}

func testFnError(t *testing.T, s store.Store) {
	boom := errors.New("boom")
	_, err := s.UpdateByKey(ctx(t), "r/err", func(cur *store.Incident) (*store.Change, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if all, _ := s.List(ctx(t), store.ListOptions{}); len(all) != 0 {
		t.Fatalf("failed update wrote %d incidents", len(all))
	}
}

func testConcurrentCreate(t *testing.T, s store.Store) {
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := s.UpdateByKey(ctx(t), "r/race", func(cur *store.Incident) (*store.Change, error) {
				ev := store.Event{At: t0, Type: "updated", Actor: fmt.Sprint(i)}
				if cur == nil {
					cur = newIncident()
					ev.Type = "created"
				}
				return &store.Change{Incident: cur, Events: []store.Event{ev}}, nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.List(ctx(t), store.ListOptions{})
	if err != nil || len(all) != 1 {
		t.Fatalf("List = %d incidents (%v), want exactly 1", len(all), err)
	}
	// Only the create wrote the incident's record; the others appended.
	if all[0].Version != 1 {
		t.Fatalf("Version = %d, want 1 (bumped by record writes only)", all[0].Version)
	}
	evs, err := s.Timeline(ctx(t), all[0].ID)
	if err != nil || len(evs) != n || evs[0].Type != "created" {
		t.Fatalf("timeline = %d events, first %+v (%v); want %d starting with created", len(evs), evs[0], err, n)
	}
}

func testResolveFreesKey(t *testing.T, s store.Store) {
	first := create(t, s, "r/k")
	resolved := setStatus(t, s, first.ID, store.StatusResolved)
	if resolved.Status != store.StatusResolved {
		t.Fatalf("status = %s", resolved.Status)
	}
	second := create(t, s, "r/k")
	if second.ID <= first.ID {
		t.Fatalf("new incident after resolve got id %d, want > %d", second.ID, first.ID)
	}
	if old, _ := s.Get(ctx(t), first.ID); old.Status != store.StatusResolved {
		t.Fatalf("first incident status = %s, want resolved", old.Status)
	}
	// Updating the resolved one again (e.g. a late event) must not steal the key back.
	change(t, s, first.ID, func(inc *store.Incident) *store.Change { return &store.Change{Incident: inc} })
	gotRes, err := s.UpdateByKey(ctx(t), "r/k", func(cur *store.Incident) (*store.Change, error) {
		if cur == nil || cur.ID != second.ID {
			return nil, fmt.Errorf("key resolves to %+v, want incident %d", cur, second.ID)
		}
		return nil, nil
	})
	got := gotRes.Incident
	if err != nil || got.ID != second.ID {
		t.Fatal(got, err)
	}
	// Reopening the resolved one while the key is taken is refused.
	_, err = s.Update(ctx(t), first.ID, func(cur *store.Incident) (*store.Change, error) {
		cur.Status = store.StatusOpen
		return &store.Change{Incident: cur}, nil
	})
	if !errors.Is(err, store.ErrKeyConflict) {
		t.Fatalf("reopen with key taken: err = %v, want ErrKeyConflict", err)
	}
}

// testLongKeys: a group key of 40 KiB (over bbolt's 32 KiB key limit) is
// stored, found again, told apart from another long key sharing its first
// kilobyte, and freed by resolve, like any key.
func testLongKeys(t *testing.T, s store.Store) {
	long := "r/{}:{" + strings.Repeat("x", 40<<10)
	other := long[:len(long)-1] + "y}"
	long += "}"
	boundary := "r/" + strings.Repeat("b", store.MaxIndexedKey-2) // the longest key indexed as it is
	var ids []int64
	for _, key := range []string{long, other, boundary, boundary + "c"} {
		inc := create(t, s, key)
		if inc.Key != key {
			t.Fatalf("created incident %d has a key of %d bytes, want the full %d", inc.ID, len(inc.Key), len(key))
		}
		ids = append(ids, inc.ID)
	}
	for i, key := range []string{long, other, boundary, boundary + "c"} {
		gotRes, err := s.UpdateByKey(ctx(t), key, func(cur *store.Incident) (*store.Change, error) {
			if cur == nil || cur.ID != ids[i] || cur.Key != key {
				return nil, fmt.Errorf("key %d (%d bytes) found %+v, want incident %d", i, len(key), cur, ids[i])
			}
			cur.Severity = "critical"
			return &store.Change{Incident: cur}, nil
		})
		got := gotRes.Incident
		if err != nil || got.Version != 2 {
			t.Fatalf("update by key %d: %+v, %v", i, got, err)
		}
		if stored, err := s.Get(ctx(t), ids[i]); err != nil || stored.Key != key {
			t.Fatalf("Get(%d): key of %d bytes, %v; want the full %d", ids[i], len(stored.Key), err, len(key))
		}
	}
	setStatus(t, s, ids[0], store.StatusResolved)
	if again := create(t, s, long); again.ID <= ids[3] {
		t.Fatalf("after resolve the long key opened incident %d, want a new one after %d", again.ID, ids[3])
	}
	gotRes, err := s.UpdateByKey(ctx(t), other, func(cur *store.Incident) (*store.Change, error) { return nil, nil })
	got := gotRes.Incident
	if err != nil || got == nil || got.ID != ids[1] {
		t.Fatalf("resolving one long key touched the other: %+v, %v", got, err)
	}
}

func testKeyCannotChange(t *testing.T, s store.Store) {
	inc := create(t, s, "r/one")
	_, err := s.Update(ctx(t), inc.ID, func(cur *store.Incident) (*store.Change, error) {
		cur.Key = "r/two"
		return &store.Change{Incident: cur}, nil
	})
	if !errors.Is(err, store.ErrKeyConflict) {
		t.Fatalf("changing Key: err = %v, want ErrKeyConflict", err)
	}
}

func testTimeline(t *testing.T, s store.Store) {
	inc := create(t, s, "r/tl", store.Event{At: t0, Type: "created"}, store.Event{At: t0, Type: "routed", Detail: map[string]string{"policy": "p"}})
	other := create(t, s, "r/other", store.Event{At: t0, Type: "created"})
	for i := range 3 {
		change(t, s, inc.ID, func(cur *store.Incident) *store.Change {
			return &store.Change{Incident: cur, Events: []store.Event{{At: t0.Add(time.Duration(i) * time.Second), Type: "step_fired", Actor: fmt.Sprint(i)}}}
		})
	}
	evs, err := s.Timeline(ctx(t), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Type+ev.Actor)
	}
	if want := []string{"created", "routed", "step_fired0", "step_fired1", "step_fired2"}; !slices.Equal(got, want) {
		t.Fatalf("timeline = %v, want %v", got, want)
	}
	if evs[1].Detail["policy"] != "p" || !evs[4].At.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("event fields lost: %+v", evs)
	}
	if evs, _ := s.Timeline(ctx(t), other.ID); len(evs) != 1 {
		t.Fatalf("other incident's timeline has %d events, want 1", len(evs))
	}
	if _, err := s.Timeline(ctx(t), 999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Timeline(999): err = %v, want ErrNotFound", err)
	}
}

func testNotFound(t *testing.T, s store.Store) {
	if _, err := s.Get(ctx(t), 42); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(42): err = %v, want ErrNotFound", err)
	}
	called := false
	_, err := s.Update(ctx(t), 42, func(cur *store.Incident) (*store.Change, error) { called = true; return nil, nil })
	if !errors.Is(err, store.ErrNotFound) || called {
		t.Fatalf("Update(42): err = %v, fn called %v; want ErrNotFound without calling fn", err, called)
	}
}

func testList(t *testing.T, s store.Store) {
	a, b, c := create(t, s, "r/a"), create(t, s, "r/b"), create(t, s, "r/c")
	setStatus(t, s, b.ID, store.StatusAcked)
	setStatus(t, s, a.ID, store.StatusResolved)
	for _, tc := range []struct {
		opt  store.ListOptions
		want []int64
	}{
		{store.ListOptions{}, []int64{c.ID, b.ID, a.ID}},
		{store.ListOptions{Limit: 2}, []int64{c.ID, b.ID}},
		{store.ListOptions{Status: store.StatusOpen}, []int64{c.ID}},
		{store.ListOptions{Status: store.StatusAcked}, []int64{b.ID}},
		{store.ListOptions{Status: store.StatusResolved}, []int64{a.ID}},
	} {
		got, err := s.List(ctx(t), tc.opt)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, inc := range got {
			ids = append(ids, inc.ID)
			if tc.opt.Status != "" && inc.Status != tc.opt.Status {
				t.Fatalf("List(%+v) returned incident %d in status %s", tc.opt, inc.ID, inc.Status)
			}
		}
		if !slices.Equal(ids, tc.want) {
			t.Fatalf("List(%+v) = %v, want %v", tc.opt, ids, tc.want)
		}
	}
	// Status moves: an acked incident going back to open leaves the acked list.
	setStatus(t, s, b.ID, store.StatusOpen)
	if got, _ := s.List(ctx(t), store.ListOptions{Status: store.StatusAcked}); len(got) != 0 {
		t.Fatalf("acked list after un-ack = %d incidents, want 0", len(got))
	}
	if got, _ := s.List(ctx(t), store.ListOptions{Status: store.StatusOpen}); len(got) != 2 || got[0].ID != c.ID {
		t.Fatalf("open list after un-ack = %+v", got)
	}
}

func testScheduleIdempotent(t *testing.T, s store.Store) {
	inc := create(t, s, "r/s")
	schedule(t, s, inc.ID, timer("a", t0))
	schedule(t, s, inc.ID, timer("a", t0.Add(time.Hour)))
	wantPending(t, s, 1)
	cs := claim(t, s, t0, "w1", time.Minute, 10)
	if len(cs) != 1 || !cs[0].Due.Equal(t0) || string(cs[0].Payload) != `{"step":1}` || cs[0].Kind != "step" {
		t.Fatalf("claims = %+v, want timer a due at t0", cs)
	}
	// Scheduling an ID that is claimed is a no-op too: it does not become claimable again.
	schedule(t, s, inc.ID, timer("a", t0))
	if again := claim(t, s, t0, "w2", time.Minute, 10); len(again) != 0 {
		t.Fatalf("re-scheduling a claimed timer made it claimable: %+v", again)
	}
	if err := s.Complete(ctx(t), cs[0]); err != nil {
		t.Fatal(err)
	}
	wantPending(t, s, 0)
}

func testScheduleFillsIncidentID(t *testing.T, s store.Store) {
	incRes, err := s.UpdateByKey(ctx(t), "r/new", func(cur *store.Incident) (*store.Change, error) {
		return &store.Change{Incident: newIncident(), Schedule: []store.Timer{timer("new-step-0", t0)}}, nil
	})
	inc := incRes.Incident
	if err != nil {
		t.Fatal(err)
	}
	cs := claim(t, s, t0, "w", time.Minute, 10)
	if len(cs) != 1 || cs[0].IncidentID != inc.ID {
		t.Fatalf("claims = %+v, want one for incident %d", cs, inc.ID)
	}
}

func testClaimOrder(t *testing.T, s store.Store) {
	inc := create(t, s, "r/o")
	schedule(t, s, inc.ID, timer("c", t0), timer("a", t0), timer("later", t0.Add(time.Second)), timer("b", t0), timer("z", t0.Add(-time.Minute)))
	if cs := claim(t, s, t0.Add(-time.Hour), "w", time.Minute, 10); len(cs) != 0 {
		t.Fatalf("claimed %v before anything was due", claimIDs(cs))
	}
	cs := claim(t, s, t0, "w", time.Minute, 3)
	if got, want := claimIDs(cs), []string{"z", "a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("first claims = %v, want %v (Due, then ID)", got, want)
	}
	for _, c := range cs {
		if c.Owner != "w" || c.Token == "" || !c.LeaseUntil.Equal(t0.Add(time.Minute)) || c.IncidentID != inc.ID {
			t.Fatalf("claim fields: %+v", c)
		}
	}
	if got := claimIDs(claim(t, s, t0, "w", time.Minute, 10)); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("second claims = %v, want [c] (later is not due)", got)
	}
	if cs := claim(t, s, t0, "w", time.Minute, 0); len(cs) != 0 {
		t.Fatalf("max 0 claimed %v", claimIDs(cs))
	}
}

func testConcurrentClaims(t *testing.T, s store.Store) {
	const incidents, perIncident, owners = 6, 50, 5
	for i := range incidents {
		inc := create(t, s, fmt.Sprintf("r/%d", i))
		var ts []store.Timer
		for j := range perIncident {
			ts = append(ts, timer(fmt.Sprintf("t-%d-%d", i, j), t0.Add(time.Duration(j)*time.Millisecond)))
		}
		schedule(t, s, inc.ID, ts...)
	}
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for o := range owners {
		owner := fmt.Sprintf("owner-%d", o)
		wg.Go(func() {
			for {
				cs, err := s.ClaimDue(ctx(t), t0.Add(time.Second), owner, time.Hour, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					if prev, dup := seen[c.ID]; dup {
						t.Errorf("timer %s claimed by %s and %s", c.ID, prev, owner)
					}
					seen[c.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != incidents*perIncident {
		t.Fatalf("claimed %d distinct timers, want %d", len(seen), incidents*perIncident)
	}
}

func testLeaseExpiry(t *testing.T, s store.Store) {
	inc := create(t, s, "r/l")
	schedule(t, s, inc.ID, timer("a", t0))
	old := claim(t, s, t0, "dead", time.Minute, 10)
	if len(old) != 1 {
		t.Fatalf("claims = %v", claimIDs(old))
	}
	if cs := claim(t, s, t0.Add(30*time.Second), "alive", time.Minute, 10); len(cs) != 0 {
		t.Fatalf("claimed %v while the lease holds", claimIDs(cs))
	}
	if at, ok, err := s.NextDue(ctx(t)); err != nil || !ok || !at.Equal(t0.Add(time.Minute)) {
		t.Fatalf("NextDue = %v %v %v, want the lease end", at, ok, err)
	}
	cs := claim(t, s, t0.Add(time.Minute), "alive", time.Minute, 10)
	if len(cs) != 1 || cs[0].Owner != "alive" || cs[0].Token == old[0].Token || !cs[0].Due.Equal(t0) {
		t.Fatalf("after lease expiry: %+v", cs)
	}
	if err := s.Complete(ctx(t), old[0]); !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("old claim's Complete: err = %v, want ErrStaleClaim", err)
	}
	if err := s.Retry(ctx(t), old[0], t0); !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("old claim's Retry: err = %v, want ErrStaleClaim", err)
	}
	if err := s.Complete(ctx(t), cs[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx(t), cs[0]); !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("second Complete: err = %v, want ErrStaleClaim", err)
	}
	wantPending(t, s, 0)
}

func testRetry(t *testing.T, s store.Store) {
	inc := create(t, s, "r/r")
	schedule(t, s, inc.ID, store.Timer{ID: "n", Due: t0, Kind: "notify", Payload: []byte("sms")})
	cs := claim(t, s, t0, "w", time.Minute, 1)
	if err := s.Retry(ctx(t), cs[0], t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	wantPending(t, s, 1)
	if got := claim(t, s, t0.Add(4*time.Minute), "w", time.Minute, 1); len(got) != 0 {
		t.Fatalf("claimed %v before the retry was due", claimIDs(got))
	}
	again := claim(t, s, t0.Add(5*time.Minute), "w2", time.Minute, 1)
	if len(again) != 1 || again[0].Attempt != 1 || !again[0].Due.Equal(t0.Add(5*time.Minute)) || string(again[0].Payload) != "sms" {
		t.Fatalf("after Retry: %+v, want attempt 1 due t0+5m", again)
	}
	if err := s.Complete(ctx(t), cs[0]); !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("Complete with the pre-retry claim: err = %v, want ErrStaleClaim", err)
	}
	if err := s.Retry(ctx(t), again[0], t0.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if third := claim(t, s, t0.Add(6*time.Minute), "w", time.Minute, 1); len(third) != 1 || third[0].Attempt != 2 {
		t.Fatalf("second retry: %+v, want attempt 2", third)
	}
}

// testRetryKeepsTakenOver: a holder whose send got no answer retries it
// with TakenOver set, so the next attempt asks the provider first; the
// mark stays on through later retries that do not set it.
func testRetryKeepsTakenOver(t *testing.T, s store.Store) {
	inc := create(t, s, "r/unanswered")
	schedule(t, s, inc.ID, store.Timer{ID: "n", Due: t0, Kind: "notify", Payload: []byte("sms")})
	cs := claim(t, s, t0, "w", time.Minute, 1)
	if len(cs) != 1 || cs[0].TakenOver {
		t.Fatalf("first claim: %+v, want one not taken over", cs)
	}
	c := cs[0]
	c.TakenOver = true
	if err := s.Retry(ctx(t), c, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	again := claim(t, s, t0.Add(time.Second), "w", time.Minute, 1)
	if len(again) != 1 || !again[0].TakenOver || again[0].Attempt != 1 {
		t.Fatalf("after a Retry with TakenOver: %+v, want attempt 1 taken over", again)
	}
	c = again[0]
	c.TakenOver = false
	if err := s.Retry(ctx(t), c, t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if third := claim(t, s, t0.Add(2*time.Second), "w", time.Minute, 1); len(third) != 1 || !third[0].TakenOver || third[0].Attempt != 2 {
		t.Fatalf("after a second Retry: %+v, want attempt 2 still taken over", third)
	}
}

func testRelease(t *testing.T, s store.Store) {
	inc := create(t, s, "r/rel")
	schedule(t, s, inc.ID, timer("a", t0), timer("b", t0), timer("c", t0))
	mine := claim(t, s, t0, "leaving", time.Hour, 2)
	theirs := claim(t, s, t0, "staying", time.Hour, 2)
	if len(mine) != 2 || len(theirs) != 1 {
		t.Fatalf("claims: mine %v theirs %v", claimIDs(mine), claimIDs(theirs))
	}
	if err := s.Release(ctx(t), "leaving"); err != nil {
		t.Fatal(err)
	}
	got := claim(t, s, t0, "other", time.Hour, 10)
	if !slices.Equal(claimIDs(got), claimIDs(mine)) {
		t.Fatalf("after Release: claimed %v, want %v (and not the staying owner's)", claimIDs(got), claimIDs(mine))
	}
	if !got[0].Due.Equal(t0) {
		t.Fatalf("released timer due %v, want its original %v", got[0].Due, t0)
	}
	if err := s.Complete(ctx(t), mine[0]); !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("released claim's Complete: err = %v, want ErrStaleClaim", err)
	}
	if err := s.Complete(ctx(t), theirs[0]); err != nil {
		t.Fatalf("Release touched another owner's claim: %v", err)
	}
}

func testCancel(t *testing.T, s store.Store) {
	inc := create(t, s, "r/c")
	schedule(t, s, inc.ID, timer("a", t0), timer("b", t0), timer("c", t0.Add(time.Minute)))
	held := claim(t, s, t0, "w", time.Hour, 1) // a
	change(t, s, inc.ID, func(cur *store.Incident) *store.Change {
		return &store.Change{Incident: cur, Cancel: []string{"a", "c", "missing"}}
	})
	wantPending(t, s, 1)
	if err := s.Complete(ctx(t), held[0]); !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("Complete of a cancelled claim: err = %v, want ErrStaleClaim", err)
	}
	if got := claimIDs(claim(t, s, t0.Add(time.Hour), "w", time.Hour, 10)); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("claimable after cancel = %v, want [b]", got)
	}
	// Cancel then Schedule of the same ID in one Change replaces the timer.
	schedule(t, s, inc.ID, timer("d", t0))
	change(t, s, inc.ID, func(cur *store.Incident) *store.Change {
		return &store.Change{Incident: cur, Cancel: []string{"d"}, Schedule: []store.Timer{timer("d", t0.Add(time.Minute))}}
	})
	if next, _, _ := s.NextDue(ctx(t)); !next.Equal(t0.Add(time.Minute)) {
		t.Fatalf("replaced timer due %v, want t0+1m", next)
	}
}

func testCancelIncidentTimers(t *testing.T, s store.Store) {
	one, two := create(t, s, "r/1"), create(t, s, "r/2")
	schedule(t, s, one.ID, timer("1a", t0), timer("1b", t0), timer("keep", t0))
	schedule(t, s, two.ID, timer("2a", t0))
	held := claim(t, s, t0, "w", time.Hour, 1) // 1a
	change(t, s, one.ID, func(cur *store.Incident) *store.Change {
		cur.Status = store.StatusAcked
		return &store.Change{Incident: cur, CancelIncidentTimers: true,
			Schedule: []store.Timer{timer("keep", t0.Add(time.Hour)), timer("new", t0)}}
	})
	wantPending(t, s, 3) // keep, new, 2a
	if err := s.Complete(ctx(t), held[0]); !errors.Is(err, store.ErrStaleClaim) {
		t.Fatalf("Complete of a cancelled claim: err = %v, want ErrStaleClaim", err)
	}
	cs := claim(t, s, t0, "w", time.Hour, 10)
	if got, want := claimIDs(cs), []string{"2a", "keep", "new"}; !slices.Equal(got, want) {
		t.Fatalf("left after CancelIncidentTimers = %v, want %v", got, want)
	}
	for _, c := range cs {
		if c.ID == "keep" && !c.Due.Equal(t0) {
			t.Fatalf("kept timer was replaced: due %v, want t0", c.Due)
		}
	}
}

func testNextDue(t *testing.T, s store.Store) {
	if _, ok, err := s.NextDue(ctx(t)); ok || err != nil {
		t.Fatalf("NextDue on empty store: ok %v err %v", ok, err)
	}
	wantPending(t, s, 0)
	inc := create(t, s, "r/n")
	schedule(t, s, inc.ID, timer("late", t0.Add(10*time.Minute)), timer("soon", t0.Add(5*time.Minute)))
	if at, ok, err := s.NextDue(ctx(t)); err != nil || !ok || !at.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("NextDue = %v %v %v, want t0+5m", at, ok, err)
	}
	wantPending(t, s, 2)
	claim(t, s, t0.Add(5*time.Minute), "w", time.Minute, 10)
	if at, _, _ := s.NextDue(ctx(t)); !at.Equal(t0.Add(6 * time.Minute)) {
		t.Fatalf("NextDue with soon claimed = %v, want its lease end t0+6m", at)
	}
	wantPending(t, s, 2) // claimed timers are pending until completed
}

// RunCalendarTokens tests store.CalendarTokens alone.
func RunCalendarTokens(t *testing.T, open func(t *testing.T) store.CalendarTokens) {
	runPart(t, open, []test[store.CalendarTokens]{
		{"CalendarTokens", testCalendarTokens},
		{"CalendarTokensConcurrentIssue", testCalendarTokensConcurrentIssue},
	})
}
