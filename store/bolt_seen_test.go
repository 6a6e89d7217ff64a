package store_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hikyaku/hikyaku/store"
)

// TestBoltSeenSweepBoundsTheFile: expired replay records leave the file as
// Seen is used, a bounded batch per call, so the record does not grow
// forever with every SMS ever received.
func TestBoltSeenSweepBoundsTheFile(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if _, err := s.Seen(t.Context(), fmt.Sprint("old", i), 10*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	// Each call sweeps at most 64: four calls drop all 200.
	for i := range 4 {
		if _, err := s.Seen(t.Context(), fmt.Sprint("new", i), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, store.BoltFileName), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		for _, name := range []string{"seen", "seen_expiry"} {
			if n := tx.Bucket([]byte(name)).Stats().KeyN; n != 4 {
				t.Errorf("bucket %s holds %d entries, want the 4 unexpired", name, n)
			}
		}
		return nil
	})
}
