package store_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
	"github.com/hikyaku/hikyaku/store/storetest"
)

func openBolt(t *testing.T) store.Store {
	s, err := store.Open(t.Context(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBolt(t *testing.T) { storetest.Run(t, openBolt) }

func TestBoltSecondOpenFailsFast(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = store.Open(t.Context(), "", dir)
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("second Open: err = %v, want a clear lock error", err)
	}
}

// TestBoltReopenReleasesDeadClaims: the file lock makes one process the only
// user of the file, so claims found at open belong to a process that died
// (kill -9) and must be claimable at once, not after their lease.
func TestBoltReopenReleasesDeadClaims(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	s, err := store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateByKey(t.Context(), "k", func(*store.Incident) (*store.Change, error) {
		return &store.Change{Incident: &store.Incident{Key: "k", Status: store.StatusOpen},
			Schedule: []store.Timer{{ID: "t1", Kind: "step", Due: now.Add(-time.Second)}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.ClaimDue(t.Context(), now, "dead-process", time.Hour, 10); err != nil || len(c) != 1 {
		t.Fatalf("first claim: %d claims, %v", len(c), err)
	}
	s.Close() // no Release: the process was killed

	s, err = store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.ClaimDue(t.Context(), now, "restarted", time.Hour, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 1 || c[0].ID != "t1" || !c[0].Due.Equal(now.Add(-time.Second)) {
		t.Fatalf("after reopening: claims %+v, want t1 at its own due time, not after the dead owner's lease", c)
	}
	// The dead process's attempt counts, as an expired lease does: a timer
	// that kills the process each time must not crash-loop it for ever.
	if c[0].Attempt != 1 {
		t.Fatalf("after reopening: attempt %d, want 1 (the killed process's attempt)", c[0].Attempt)
	}
	// It may have been mid-send when killed: the next holder must ask first.
	if !c[0].TakenOver {
		t.Fatal("after reopening: TakenOver is false, want true (the killed process may have sent)")
	}
}
