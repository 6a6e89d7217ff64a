package store

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// noFreelist is bbolt's marker, in a meta page, for "the freelist was not
// written: rebuild it by scanning the file".
const noFreelist = ^uint64(0)

// newestMetaFreelist reads the bbolt file's two meta pages and returns the
// freelist page id of the newer one (the higher transaction id), read off the
// bytes on disk rather than through bbolt, which does not export it.
func newestMetaFreelist(t *testing.T, path string) uint64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A page starts with a 16-byte header; the meta then holds magic,
	// version, page size, flags (4 bytes each), the root bucket (16 bytes),
	// then the freelist, high-water and transaction ids (8 bytes each).
	meta := func(off int) (freelist, txid uint64) {
		m := data[off+16:]
		if magic := binary.LittleEndian.Uint32(m[0:]); magic != 0xED0CDAED {
			t.Fatalf("meta page at %d: magic %#x, not bbolt's", off, magic)
		}
		return binary.LittleEndian.Uint64(m[32:]), binary.LittleEndian.Uint64(m[48:])
	}
	pageSize := int(binary.LittleEndian.Uint32(data[16+8:]))
	f0, tx0 := meta(0)
	f1, tx1 := meta(pageSize)
	if tx1 > tx0 {
		return f1
	}
	return f0
}

// TestBoltCleanCloseWritesTheFreelist: commits while open leave the freelist
// unwritten (it churns with timers); Close writes it once so the next open
// reads it instead of scanning; a process that dies without Close leaves it
// marked unwritten, so the next open writes it first from a walk of the
// file (freelistForCrash; TestCrashFreelist*). Either way the reopened file
// passes bbolt's consistency check (no page both free and in use).
func TestBoltCleanCloseWritesTheFreelist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hikyaku.db")
	write := func(db *bolt.DB, n int) {
		t.Helper()
		err := db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketTimeline)
			for i := range n {
				if err := b.Put(fmt.Appendf(nil, "k%06d", i), make([]byte, 3000)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(db *bolt.DB) {
		t.Helper()
		err := db.View(func(tx *bolt.Tx) error {
			var first error
			for err := range tx.Check() { // drained: the checker writes until done
				if first == nil {
					first = err
				}
			}
			return first
		})
		if err != nil {
			t.Fatalf("bbolt check after reopen: %v", err)
		}
	}

	s, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	write(s.db, 2000)
	write(s.db, 10) // rewrites the pages: the first write's pages become free
	if got := newestMetaFreelist(t, path); got != noFreelist {
		t.Fatalf("while open, the newest meta names freelist page %d, want none written", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := newestMetaFreelist(t, path); got == noFreelist {
		t.Fatal("after Close, the newest meta names no freelist: the next open would scan the file")
	}

	s, err = OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	check(s.db)
	if s.db.Stats().FreePageN == 0 {
		t.Error("the freelist read at open holds no free page; the rewrite freed some")
	}
	write(s.db, 10)
	if got := newestMetaFreelist(t, path); got != noFreelist {
		t.Fatalf("after a write on the reopened file, the newest meta names freelist page %d, want none", got)
	}
	// Die without Close: shut the writer down and close bbolt directly.
	s.w.shutdown()
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := newestMetaFreelist(t, path); got != noFreelist {
		t.Fatalf("after a stop without Close, the newest meta names freelist page %d, want none (a scan at open)", got)
	}
	s, err = OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	check(s.db)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
