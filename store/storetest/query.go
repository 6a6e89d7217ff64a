package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// createWith opens a new incident for key, shaped by fn before it is written.
func createWith(t *testing.T, s store.Store, key string, fn func(inc *store.Incident)) *store.Incident {
	t.Helper()
	incRes, err := s.UpdateByKey(ctx(t), key, func(cur *store.Incident) (*store.Change, error) {
		n := newIncident()
		fn(n)
		return &store.Change{Incident: n, Events: []store.Event{{At: n.CreatedAt, Type: "created"}}}, nil
	})
	inc := incRes.Incident
	if err != nil {
		t.Fatalf("create %q: %v", key, err)
	}
	return inc
}

func queryIDs(t *testing.T, s store.Store, opt store.ListOptions) ([]int64, string) {
	t.Helper()
	page, err := s.Query(ctx(t), opt)
	if err != nil {
		t.Fatalf("Query(%+v): %v", opt, err)
	}
	var ids []int64
	for _, inc := range page.Incidents {
		ids = append(ids, inc.ID)
	}
	return ids, page.Next
}

// queryAll follows the cursors of opt to the end, with pages of limit.
func queryAll(t *testing.T, s store.Store, opt store.ListOptions, limit int) []int64 {
	t.Helper()
	opt.Limit = limit
	var all []int64
	for range 100 {
		ids, next := queryIDs(t, s, opt)
		if len(ids) > limit {
			t.Fatalf("Query(%+v) returned %d incidents, over the limit %d", opt, len(ids), limit)
		}
		all = append(all, ids...)
		if next == "" {
			return all
		}
		opt.Cursor = next
	}
	t.Fatalf("Query(%+v) did not end after 100 pages", opt)
	return nil
}

// facetFixture: six incidents an hour apart from t0, ids returned in creation order.
//
//	i  dept  sev   route  policy  status    acked_by  resolved at  drill
//	0  db    crit  r1     p1      resolved            t0+10h
//	1  db    warn  r2     p1      acked     alice                  yes
//	2  web   crit  r1     p2      open
//	3  web   crit  r2     p2      resolved  bob       t0+8h        yes
//	4  db    crit  r1     p1      acked     bob
//	5  web   warn  r1     p1      open
func facetFixture(t *testing.T, s store.Store) []int64 {
	rows := []struct {
		dept, sev, route, policy string
		status                   store.Status
		ackedBy                  string
		resolved                 time.Duration
		drill                    bool
	}{
		{"db", "critical", "r1", "p1", store.StatusResolved, "", 10 * time.Hour, false},
		{"db", "warning", "r2", "p1", store.StatusAcked, "alice", 0, true},
		{"web", "critical", "r1", "p2", store.StatusOpen, "", 0, false},
		{"web", "critical", "r2", "p2", store.StatusResolved, "bob", 8 * time.Hour, true},
		{"db", "critical", "r1", "p1", store.StatusAcked, "bob", 0, false},
		{"web", "warning", "r1", "p1", store.StatusOpen, "", 0, false},
	}
	var ids []int64
	for i, r := range rows {
		inc := createWith(t, s, "q/"+string(rune('a'+i)), func(inc *store.Incident) {
			inc.CreatedAt = t0.Add(time.Duration(i) * time.Hour)
			inc.Department, inc.Severity, inc.Route, inc.Policy = r.dept, r.sev, r.route, r.policy
			if r.drill {
				inc.Drill = &store.Drill{RequestedBy: "alice"}
			}
		})
		ids = append(ids, inc.ID)
		if r.ackedBy != "" {
			change(t, s, inc.ID, func(inc *store.Incident) *store.Change {
				inc.Status, inc.AckedBy, inc.AckedAt = store.StatusAcked, r.ackedBy, t0.Add(time.Duration(i)*time.Hour+time.Minute)
				return &store.Change{Incident: inc}
			})
		}
		if r.status == store.StatusResolved {
			change(t, s, inc.ID, func(inc *store.Incident) *store.Change {
				inc.Status, inc.ResolvedAt = store.StatusResolved, t0.Add(r.resolved)
				return &store.Change{Incident: inc}
			})
		}
	}
	return ids
}

func pick(ids []int64, idx ...int) []int64 {
	out := make([]int64, len(idx))
	for i, j := range idx {
		out[i] = ids[j]
	}
	return out
}

func testQueryFilters(t *testing.T, s store.Store) {
	ids := facetFixture(t, s)
	for _, tc := range []struct {
		name string
		opt  store.ListOptions
		want []int64 // newest first
	}{
		{"all", store.ListOptions{}, pick(ids, 5, 4, 3, 2, 1, 0)},
		{"status", store.ListOptions{Status: store.StatusAcked}, pick(ids, 4, 1)},
		{"department", store.ListOptions{Department: "db"}, pick(ids, 4, 1, 0)},
		{"severity", store.ListOptions{Severity: "warning"}, pick(ids, 5, 1)},
		{"route", store.ListOptions{Route: "r2"}, pick(ids, 3, 1)},
		{"policy", store.ListOptions{Policy: "p2"}, pick(ids, 3, 2)},
		{"acked_by", store.ListOptions{AckedBy: "bob"}, pick(ids, 4, 3)},
		{"combined", store.ListOptions{Department: "web", Severity: "critical", Status: store.StatusOpen}, pick(ids, 2)},
		{"drills", store.ListOptions{Drills: true}, pick(ids, 3, 1)},
		{"drills of a department", store.ListOptions{Drills: true, Department: "db"}, pick(ids, 1)},
		{"drills resolved", store.ListOptions{Drills: true, ResolvedAfter: t0}, pick(ids, 3)},
		{"combined none", store.ListOptions{Department: "db", Policy: "p2"}, nil},
		{"unknown value", store.ListOptions{Department: "nope"}, nil},
		{"opened between", store.ListOptions{OpenedAfter: t0.Add(time.Hour), OpenedBefore: t0.Add(4 * time.Hour)}, pick(ids, 3, 2, 1)},
		{"opened after, exact instant included", store.ListOptions{OpenedAfter: t0.Add(4 * time.Hour)}, pick(ids, 5, 4)},
		{"opened before with a facet", store.ListOptions{OpenedBefore: t0.Add(2 * time.Hour), Department: "db"}, pick(ids, 1, 0)},
		// A resolved range orders by resolved time: 0 at t0+10h, 3 at t0+8h.
		{"resolved any", store.ListOptions{ResolvedAfter: t0}, pick(ids, 0, 3)},
		{"resolved between", store.ListOptions{ResolvedAfter: t0.Add(9 * time.Hour), ResolvedBefore: t0.Add(11 * time.Hour)}, pick(ids, 0)},
		{"resolved with facet", store.ListOptions{ResolvedBefore: t0.Add(24 * time.Hour), AckedBy: "bob"}, pick(ids, 3)},
		{"resolved range and open status", store.ListOptions{ResolvedAfter: t0, Status: store.StatusOpen}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, next := queryIDs(t, s, tc.opt)
			if !slices.Equal(got, tc.want) || next != "" {
				t.Fatalf("newest first: got %v next %q, want %v and no next", got, next, tc.want)
			}
			tc.opt.Oldest = true
			want := slices.Clone(tc.want)
			slices.Reverse(want)
			if got := queryAll(t, s, tc.opt, 1); !slices.Equal(got, want) {
				t.Fatalf("oldest first, pages of 1: got %v, want %v", got, want)
			}
		})
	}
}

func testQueryPaginates(t *testing.T, s store.Store) {
	var want []int64
	for i := range 11 {
		inc := createWith(t, s, "p/"+string(rune('a'+i)), func(inc *store.Incident) {
			// Pairs share a creation time: ties go by id.
			inc.CreatedAt = t0.Add(time.Duration(i/2) * time.Minute)
			inc.Department = "db"
		})
		want = append(want, inc.ID)
	}
	createWith(t, s, "p/other", func(inc *store.Incident) { inc.CreatedAt = t0; inc.Department = "web" })
	for _, limit := range []int{1, 3, 5, 11, 50} {
		got := queryAll(t, s, store.ListOptions{Department: "db", Oldest: true}, limit)
		if !slices.Equal(got, want) {
			t.Fatalf("oldest first in pages of %d: %v, want %v", limit, got, want)
		}
		rev := slices.Clone(want)
		slices.Reverse(rev)
		if got := queryAll(t, s, store.ListOptions{Department: "db"}, limit); !slices.Equal(got, rev) {
			t.Fatalf("newest first in pages of %d: %v, want %v", limit, got, rev)
		}
	}
	// A page written after the cursor was handed out: new incidents come
	// after it in oldest-first order, not twice.
	_, next := queryIDs(t, s, store.ListOptions{Department: "db", Oldest: true, Limit: 4})
	late := createWith(t, s, "p/late", func(inc *store.Incident) { inc.CreatedAt = t0.Add(time.Hour); inc.Department = "db" })
	rest := queryAll(t, s, store.ListOptions{Department: "db", Oldest: true, Cursor: next}, 100)
	if wantRest := append(slices.Clone(want[4:]), late.ID); !slices.Equal(rest, wantRest) {
		t.Fatalf("after the cursor: %v, want %v", rest, wantRest)
	}
	for _, opt := range []store.ListOptions{
		{Department: "web", Cursor: next},              // other filters
		{Department: "db", Cursor: next},               // other order
		{Department: "db", Oldest: true, Cursor: "!!"}, // not base64
		{Department: "db", Oldest: true, Cursor: "AAAA"},
	} {
		if _, err := s.Query(ctx(t), opt); !errors.Is(err, store.ErrBadCursor) {
			t.Fatalf("Query(%+v): err = %v, want ErrBadCursor", opt, err)
		}
	}
	if _, err := s.Query(ctx(t), store.ListOptions{Status: "closed"}); err == nil {
		t.Fatal("Query with status closed: no error")
	}
}

// testQueryFollowsChanges: an incident moves between indexes with its fields.
func testQueryFollowsChanges(t *testing.T, s store.Store) {
	inc := createWith(t, s, "m/a", func(inc *store.Incident) { inc.Department = "db"; inc.Route = "r1" })
	change(t, s, inc.ID, func(inc *store.Incident) *store.Change {
		inc.Department, inc.Status, inc.AckedBy = "web", store.StatusAcked, "carol"
		return &store.Change{Incident: inc}
	})
	for _, tc := range []struct {
		opt  store.ListOptions
		want []int64
	}{
		{store.ListOptions{Department: "db"}, nil},
		{store.ListOptions{Department: "web"}, []int64{inc.ID}},
		{store.ListOptions{Status: store.StatusOpen}, nil},
		{store.ListOptions{AckedBy: "carol", Route: "r1"}, []int64{inc.ID}},
	} {
		if got, _ := queryIDs(t, s, tc.opt); !slices.Equal(got, tc.want) {
			t.Fatalf("Query(%+v) = %v, want %v", tc.opt, got, tc.want)
		}
	}
}

func testDeleteResolved(t *testing.T, s store.Store) {
	old := t0.Add(-500 * 24 * time.Hour)
	mk := func(key string, st store.Status, resolved time.Time) *store.Incident {
		inc := createWith(t, s, key, func(inc *store.Incident) { inc.CreatedAt = old; inc.Department = "db" })
		schedule(t, s, inc.ID, timer(key+"/step", t0))
		if st == store.StatusResolved {
			change(t, s, inc.ID, func(inc *store.Incident) *store.Change {
				inc.Status, inc.ResolvedAt = st, resolved
				return &store.Change{Incident: inc, Events: []store.Event{{At: resolved, Type: "resolved"}}, CancelIncidentTimers: true}
			})
		} else if st != store.StatusOpen {
			setStatus(t, s, inc.ID, st)
		}
		return inc
	}
	cutoff := t0.Add(-400 * 24 * time.Hour)
	var doomed []int64
	for i := range 5 {
		doomed = append(doomed, mk("d/"+string(rune('a'+i)), store.StatusResolved, cutoff.Add(-time.Duration(5-i)*time.Hour)).ID)
	}
	kept := mk("d/recent", store.StatusResolved, cutoff) // exactly at the cutoff: kept
	open := mk("d/open", store.StatusOpen, time.Time{})
	acked := mk("d/acked", store.StatusAcked, time.Time{})
	timerHeld := createWith(t, s, "d/timer", func(inc *store.Incident) { inc.CreatedAt = old })
	schedule(t, s, timerHeld.ID, timer("d/timer/step", t0))
	change(t, s, timerHeld.ID, func(inc *store.Incident) *store.Change {
		// Resolved with a timer left (a report still due): it goes too.
		inc.Status, inc.ResolvedAt = store.StatusResolved, cutoff.Add(-time.Minute)
		return &store.Change{Incident: inc}
	})
	doomed = append(doomed, timerHeld.ID)

	n, err := s.DeleteResolved(ctx(t), cutoff, 3)
	if err != nil || n != 3 {
		t.Fatalf("DeleteResolved(max 3) = %d, %v; want 3", n, err)
	}
	// Oldest first: the first three resolved are gone.
	for _, id := range doomed[:3] {
		if _, err := s.Get(ctx(t), id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("incident %d after the first batch: err = %v, want ErrNotFound", id, err)
		}
	}
	total := 3
	for {
		n, err := s.DeleteResolved(ctx(t), cutoff, 3)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		total += n
	}
	if total != len(doomed) {
		t.Fatalf("deleted %d in all, want %d", total, len(doomed))
	}
	for _, id := range doomed {
		if _, err := s.Get(ctx(t), id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get(%d) after retention: err = %v, want ErrNotFound", id, err)
		}
		if _, err := s.Timeline(ctx(t), id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Timeline(%d) after retention: err = %v, want ErrNotFound", id, err)
		}
	}
	for _, inc := range []*store.Incident{kept, open, acked} {
		if _, err := s.Get(ctx(t), inc.ID); err != nil {
			t.Fatalf("incident %d (%s) was deleted: %v", inc.ID, inc.Status, err)
		}
	}
	if got, _ := queryIDs(t, s, store.ListOptions{Oldest: true}); !slices.Equal(got, []int64{kept.ID, open.ID, acked.ID}) {
		t.Fatalf("Query after retention = %v, want %v", got, []int64{kept.ID, open.ID, acked.ID})
	}
	if got, _ := queryIDs(t, s, store.ListOptions{Department: "db", Oldest: true}); !slices.Equal(got, []int64{kept.ID, open.ID, acked.ID}) {
		t.Fatalf("Query(department) after retention = %v", got)
	}
	if got, _ := queryIDs(t, s, store.ListOptions{ResolvedBefore: t0}); !slices.Equal(got, []int64{kept.ID}) {
		t.Fatalf("Query(resolved) after retention = %v, want [%d]", got, kept.ID)
	}
	// Timers of the open incident stay; the deleted ones' went with them.
	wantPending(t, s, 2) // d/open/step and d/acked/step
	if got, _ := s.List(ctx(t), store.ListOptions{Status: store.StatusResolved}); len(got) != 1 {
		t.Fatalf("List(resolved) after retention = %d incidents, want 1", len(got))
	}
}
