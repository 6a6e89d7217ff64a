package store_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// TestBoltCompactShrinksAfterRetention: deleting resolved incidents frees
// pages the file keeps; CompactBolt gives them back, keeps what is left,
// and refuses while the file is open elsewhere.
func TestBoltCompactShrinksAfterRetention(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, store.BoltFileName)
	s, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte(`{"pad":"` + strings.Repeat("x", 16<<10) + `"}`)
	resolvedAt := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var keep int64
	for i := range 400 {
		incRes, err := s.UpdateByKey(t.Context(), fmt.Sprintf("c/%d", i), func(*store.Incident) (*store.Change, error) {
			st := store.StatusResolved
			if i == 399 {
				st = store.StatusOpen
			}
			return &store.Change{Incident: &store.Incident{Status: st, ResolvedAt: resolvedAt, Message: msg},
				Events: []store.Event{{At: resolvedAt, Type: "created"}}}, nil
		})
		inc := incRes.Incident
		if err != nil {
			t.Fatal(err)
		}
		keep = inc.ID
	}
	for {
		n, err := s.DeleteResolved(t.Context(), resolvedAt.Add(time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if _, _, err := store.CompactBolt(path); err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("compact while open: err = %v, want a lock refusal", err)
	}
	s.Close()
	before, after, err := store.CompactBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	// 400 × 16 KiB went in, one incident is left: the copy is a small file.
	if before < 6<<20 || after > 1<<20 {
		t.Fatalf("compact: %d bytes before, %d after; want over 6 MiB shrunk under 1 MiB", before, after)
	}
	if st, _ := os.Stat(path); st.Size() != after {
		t.Fatalf("file is %d bytes, compact said %d", st.Size(), after)
	}
	s, err = store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inc, err := s.Get(t.Context(), keep)
	if err != nil || inc.Status != store.StatusOpen || string(inc.Message) != string(msg) {
		t.Fatalf("after compact: %v, %v", inc, err)
	}
	if page, err := s.Query(t.Context(), store.ListOptions{}); err != nil || len(page.Incidents) != 1 {
		t.Fatalf("query after compact: %v, %v", page, err)
	}
}
