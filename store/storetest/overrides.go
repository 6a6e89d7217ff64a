package storetest

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// RunOverrides tests store.Overrides: covers and mutes made at run time.
func RunOverrides(t *testing.T, open func(t *testing.T) store.Store) {
	runPart(t, open, []test[store.Store]{
		{"Overrides", testOverrides},
		{"Mutes", testMutes},
		{"MutesConcurrentEnd", testMutesConcurrentEnd},
		{"DeleteEnded", testDeleteEnded},
	})
}

// testOverrides: an override is stored whole, listed oldest first, never
// added twice, refused when incomplete, and removed once.
func testOverrides(t *testing.T, s store.Store) {
	if got, err := s.ListOverrides(ctx(t)); err != nil || len(got) != 0 {
		t.Fatalf("ListOverrides of an empty store = %v, %v", got, err)
	}
	a := store.Override{ID: "o1", For: "alice", By: "bob", Rotation: "web", Start: t0, End: t0.Add(2 * time.Hour),
		Reason: "dentist", CreatedBy: "alice", CreatedAt: t0.Add(time.Minute)}
	b := store.Override{ID: "o2", For: "carol", By: "dave", Start: t0, End: t0.Add(time.Hour), CreatedBy: "admin", CreatedAt: t0}
	for _, o := range []store.Override{a, b} {
		if err := s.AddOverride(ctx(t), o); err != nil {
			t.Fatalf("AddOverride(%s): %v", o.ID, err)
		}
	}
	dup := a
	dup.By = "mallory"
	if err := s.AddOverride(ctx(t), dup); !errors.Is(err, store.ErrOverrideExists) {
		t.Fatalf("AddOverride of a taken id: %v, want ErrOverrideExists", err)
	}
	full := a
	for _, bad := range []func(o *store.Override){
		func(o *store.Override) { o.ID = "" },
		func(o *store.Override) { o.For = "" },
		func(o *store.Override) { o.By = "" },
		func(o *store.Override) { o.By = o.For },
		func(o *store.Override) { o.End = o.Start },
		func(o *store.Override) { o.CreatedBy = "" },
		func(o *store.Override) { o.CreatedAt = time.Time{} },
	} {
		o := full
		o.ID = "o3"
		bad(&o)
		if err := s.AddOverride(ctx(t), o); err == nil {
			t.Errorf("AddOverride(%+v) succeeded", o)
		}
	}
	list, err := s.ListOverrides(ctx(t))
	if err != nil || len(list) != 2 || !sameOverride(list[0], b) || !sameOverride(list[1], a) {
		t.Fatalf("ListOverrides = %+v, %v; want o2 then o1, whole", list, err)
	}
	both, mutes, err := s.ListStored(ctx(t))
	if err != nil || len(both) != 2 || !sameOverride(both[0], b) || !sameOverride(both[1], a) || len(mutes) != 0 {
		t.Fatalf("ListStored = %+v, %+v, %v; want o2 then o1, no mutes", both, mutes, err)
	}
	got, err := s.RemoveOverride(ctx(t), "o1")
	if err != nil || !sameOverride(got, a) {
		t.Fatalf("RemoveOverride(o1) = %+v, %v; want o1 whole", got, err)
	}
	if _, err := s.RemoveOverride(ctx(t), "o1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RemoveOverride of a removed one: %v, want ErrNotFound", err)
	}
	if list, _ := s.ListOverrides(ctx(t)); len(list) != 1 || list[0].ID != "o2" {
		t.Fatalf("ListOverrides after remove = %+v, want o2 alone", list)
	}
}

// testMutes: a mute is stored whole, ended once (the first end kept), an
// end after it ran out changes nothing, and ended mutes stay listed.
func testMutes(t *testing.T, s store.Store) {
	if got, err := s.ListMutes(ctx(t)); err != nil || len(got) != 0 {
		t.Fatalf("ListMutes of an empty store = %v, %v", got, err)
	}
	m := store.Mute{ID: "m1", Route: "payments", Start: t0, End: t0.Add(30 * time.Minute), Reason: "deploying payments",
		CreatedBy: "admin", CreatedAt: t0}
	if err := s.AddMute(ctx(t), m); err != nil {
		t.Fatalf("AddMute: %v", err)
	}
	if err := s.AddMute(ctx(t), m); !errors.Is(err, store.ErrOverrideExists) {
		t.Fatalf("AddMute of a taken id: %v, want ErrOverrideExists", err)
	}
	for _, bad := range []func(m *store.Mute){
		func(m *store.Mute) { m.ID = "" },
		func(m *store.Mute) { m.Route = "" },
		func(m *store.Mute) { m.Department = "ops" },
		func(m *store.Mute) { m.End = m.Start },
		func(m *store.Mute) { m.Reason = "" },
		func(m *store.Mute) { m.CreatedBy = "" },
		func(m *store.Mute) { m.EndedAt = t0 },
	} {
		b := m
		b.ID = "m2"
		bad(&b)
		if err := s.AddMute(ctx(t), b); err == nil {
			t.Errorf("AddMute(%+v) succeeded", b)
		}
	}
	d := store.Mute{ID: "m0", Department: "ops", Start: t0, End: t0.Add(time.Hour), Reason: "db", CreatedBy: "admin", CreatedAt: t0}
	if err := s.AddMute(ctx(t), d); err != nil {
		t.Fatalf("AddMute(m0): %v", err)
	}
	if _, err := s.EndMute(ctx(t), "nope", "admin", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("EndMute of an unknown id: %v, want ErrNotFound", err)
	}
	ended, err := s.EndMute(ctx(t), "m1", "bob", t0.Add(10*time.Minute))
	want := m
	want.End, want.EndedBy, want.EndedAt = t0.Add(10*time.Minute), "bob", t0.Add(10*time.Minute)
	if err != nil || !sameMute(ended, want) {
		t.Fatalf("EndMute = %+v, %v; want %+v", ended, err, want)
	}
	again, err := s.EndMute(ctx(t), "m1", "carol", t0.Add(20*time.Minute))
	if err != nil || !sameMute(again, want) {
		t.Fatalf("EndMute again = %+v, %v; want the first end kept %+v", again, err, want)
	}
	late, err := s.EndMute(ctx(t), "m0", "bob", t0.Add(2*time.Hour))
	if err != nil || !sameMute(late, d) {
		t.Fatalf("EndMute after it ran out = %+v, %v; want it unchanged %+v", late, err, d)
	}
	list, err := s.ListMutes(ctx(t))
	if err != nil || len(list) != 2 || !sameMute(list[0], d) || !sameMute(list[1], want) {
		t.Fatalf("ListMutes = %+v, %v; want m0 then m1 (ended), whole", list, err)
	}
	os, ms, err := s.ListStored(ctx(t))
	if err != nil || len(os) != 0 || len(ms) != 2 || !sameMute(ms[0], d) || !sameMute(ms[1], want) {
		t.Fatalf("ListStored = %+v, %+v, %v; want no overrides, m0 then m1", os, ms, err)
	}
}

// testMutesConcurrentEnd: of concurrent ends one is kept, whole.
func testMutesConcurrentEnd(t *testing.T, s store.Store) {
	m := store.Mute{ID: "m1", Route: "r", Start: t0, End: t0.Add(time.Hour), Reason: "x", CreatedBy: "admin", CreatedAt: t0}
	if err := s.AddMute(ctx(t), m); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	got := make([]store.Mute, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			got[i], errs[i] = s.EndMute(ctx(t), "m1", string(rune('a'+i)), t0.Add(time.Duration(i+1)*time.Minute))
		})
	}
	wg.Wait()
	final, err := s.ListMutes(ctx(t))
	if err != nil || len(final) != 1 {
		t.Fatalf("ListMutes = %+v, %v", final, err)
	}
	for i := range n {
		if errs[i] != nil || !sameMute(got[i], final[0]) {
			t.Errorf("EndMute %d = %+v, %v; want the kept end %+v", i, got[i], errs[i], final[0])
		}
	}
	if k := int(final[0].EndedBy[0] - 'a'); !final[0].EndedAt.Equal(t0.Add(time.Duration(k+1)*time.Minute)) || !final[0].End.Equal(final[0].EndedAt) {
		t.Fatalf("kept end %+v mixes two callers", final[0])
	}
}

// testDeleteEnded: only what ended before the cutoff goes.
func testDeleteEnded(t *testing.T, s store.Store) {
	add := func(id string, end time.Time) {
		o := store.Override{ID: id, For: "a", By: "b", Start: t0.Add(-48 * time.Hour), End: end, CreatedBy: "a", CreatedAt: t0}
		if err := s.AddOverride(ctx(t), o); err != nil {
			t.Fatal(err)
		}
		m := store.Mute{ID: id, Route: "r", Start: t0.Add(-48 * time.Hour), End: end, Reason: "x", CreatedBy: "a", CreatedAt: t0}
		if err := s.AddMute(ctx(t), m); err != nil {
			t.Fatal(err)
		}
	}
	add("old", t0.Add(-time.Hour))
	add("edge", t0)
	add("new", t0.Add(time.Hour))
	n, err := s.DeleteEnded(ctx(t), t0)
	if err != nil || n != 2 {
		t.Fatalf("DeleteEnded = %d, %v; want 2 (one override, one mute)", n, err)
	}
	os, _ := s.ListOverrides(ctx(t))
	ms, _ := s.ListMutes(ctx(t))
	if len(os) != 2 || os[0].ID != "edge" || os[1].ID != "new" || len(ms) != 2 || ms[0].ID != "edge" || ms[1].ID != "new" {
		t.Fatalf("after DeleteEnded: overrides %+v, mutes %+v; want edge and new of each", os, ms)
	}
}

func sameOverride(a, b store.Override) bool {
	return a.Start.Equal(b.Start) && a.End.Equal(b.End) && a.CreatedAt.Equal(b.CreatedAt) &&
		reflect.DeepEqual(stripOverride(a), stripOverride(b))
}

func stripOverride(o store.Override) store.Override {
	o.Start, o.End, o.CreatedAt = time.Time{}, time.Time{}, time.Time{}
	return o
}

func sameMute(a, b store.Mute) bool {
	return a.Start.Equal(b.Start) && a.End.Equal(b.End) && a.CreatedAt.Equal(b.CreatedAt) && a.EndedAt.Equal(b.EndedAt) &&
		reflect.DeepEqual(stripMute(a), stripMute(b))
}

func stripMute(m store.Mute) store.Mute {
	m.Start, m.End, m.CreatedAt, m.EndedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return m
}
