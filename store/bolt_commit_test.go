package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/hikyaku/hikyaku/store"
)

// TestBoltGroupCommitIsolatesFailures writes from many goroutines at once, so
// writes share transactions, with every third one failing: the failures must
// get their own error and leave nothing behind, and every other write must land.
func TestBoltGroupCommitIsolatesFailures(t *testing.T) {
	s := openBolt(t)
	defer s.Close()
	errBoom := errors.New("boom")
	const n = 300
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.UpdateByKey(t.Context(), fmt.Sprint("k", i), func(cur *store.Incident) (*store.Change, error) {
				if i%3 == 0 {
					return nil, errBoom
				}
				return &store.Change{Incident: &store.Incident{},
					Events:   []store.Event{{Type: "created"}},
					Schedule: []store.Timer{{ID: fmt.Sprint("t", i)}}}, nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if want := i%3 == 0; errors.Is(err, errBoom) != want || !want && err != nil {
			t.Errorf("write %d: err = %v", i, err)
		}
	}
	all, err := s.List(t.Context(), store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := n - n/3; len(all) != want {
		t.Fatalf("%d incidents, want %d", len(all), want)
	}
	seen := map[int64]bool{}
	for _, inc := range all {
		if seen[inc.ID] || inc.ID < 1 || inc.ID > int64(len(all)) {
			t.Errorf("incident id %d duplicated or out of 1..%d", inc.ID, len(all))
		}
		seen[inc.ID] = true
		if evs, err := s.Timeline(t.Context(), inc.ID); err != nil || len(evs) != 1 {
			t.Errorf("incident %d: timeline %v, %v; want one event", inc.ID, evs, err)
		}
	}
	if p, err := s.Pending(t.Context()); err != nil || p != len(all) {
		t.Errorf("pending = %d, %v; want %d", p, err, len(all))
	}
}
