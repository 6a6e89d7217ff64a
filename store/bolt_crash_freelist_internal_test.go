package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// crashOptions are OpenBolt's: commits write no freelist, so bbolt's Close
// leaves the file as a crash would (only the store's Close writes one).
var crashOptions = &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType}

// boltModel is what a test wrote: bucket path ("a/b") → key → value.
type boltModel map[string]map[string]string

// mutate runs one transaction of random writes of every shape the walk
// must follow: nested buckets, inline ones (small), values spanning
// overflow pages, deletes of keys and of whole buckets (which free pages).
func mutate(t *testing.T, db *bolt.DB, rng *rand.Rand, model boltModel) {
	t.Helper()
	paths := []string{"a", "a/x", "a/x/deep", "b", "b/y", "c"}
	err := db.Update(func(tx *bolt.Tx) error {
		for range 200 {
			path := paths[rng.IntN(len(paths))]
			b, err := createPath(tx, path)
			if err != nil {
				return err
			}
			if model[path] == nil {
				model[path] = map[string]string{}
			}
			switch r := rng.IntN(100); {
			case r < 60:
				k := fmt.Sprintf("k%05d", rng.IntN(3000))
				size := 10 + rng.IntN(200)
				if rng.IntN(20) == 0 {
					size = 4000 + rng.IntN(20000) // overflow pages
				}
				v := strings.Repeat(string(rune('a'+rng.IntN(26))), size)
				if err := b.Put([]byte(k), []byte(v)); err != nil {
					return err
				}
				model[path][k] = v
			case r < 95:
				for k := range model[path] {
					if err := b.Delete([]byte(k)); err != nil {
						return err
					}
					delete(model[path], k)
					break
				}
			default:
				if path == "a" || path == "b" || path == "c" {
					continue
				}
				parent, name := path[:strings.LastIndex(path, "/")], path[strings.LastIndex(path, "/")+1:]
				pb, err := createPath(tx, parent)
				if err != nil {
					return err
				}
				if err := pb.DeleteBucket([]byte(name)); err != nil {
					return err
				}
				for p := range model {
					if p == path || strings.HasPrefix(p, path+"/") {
						delete(model, p)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func createPath(tx *bolt.Tx, path string) (*bolt.Bucket, error) {
	parts := strings.Split(path, "/")
	b, err := tx.CreateBucketIfNotExists([]byte(parts[0]))
	for _, p := range parts[1:] {
		if err != nil {
			return nil, err
		}
		b, err = b.CreateBucketIfNotExists([]byte(p))
	}
	return b, err
}

// verify checks bbolt's consistency check (every page either reachable or
// free, never both) and that the file holds what the model says.
func verify(t *testing.T, db *bolt.DB, model boltModel) {
	t.Helper()
	err := db.View(func(tx *bolt.Tx) error {
		var first error
		for err := range tx.Check() {
			if first == nil {
				first = err
			}
		}
		if first != nil {
			return fmt.Errorf("bbolt check: %w", first)
		}
		for path, kv := range model {
			b := tx.Bucket([]byte(strings.Split(path, "/")[0]))
			for _, p := range strings.Split(path, "/")[1:] {
				if b != nil {
					b = b.Bucket([]byte(p))
				}
			}
			if b == nil {
				return fmt.Errorf("bucket %s missing", path)
			}
			for k, v := range kv {
				if got := b.Get([]byte(k)); !bytes.Equal(got, []byte(v)) {
					return fmt.Errorf("%s %s: %d bytes, want %d", path, k, len(got), len(v))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCrashFreelistMatchesBboltScan: over rounds of random writes, each
// ended as a crash ends (no freelist written), the freelist written before
// the open holds exactly the free pages bbolt's own rebuild finds (the count
// of a copy opened by bbolt's scan; bbolt's check: none reachable, none
// lost), and every write made before the crash reads back.
func TestCrashFreelistMatchesBboltScan(t *testing.T) {
	dir := t.TempDir()
	path, scanned := filepath.Join(dir, "crash.db"), filepath.Join(dir, "scanned.db")
	rng := rand.New(rand.NewPCG(11, 2026))
	model := boltModel{}
	for round := range 12 {
		db, err := bolt.Open(path, 0o600, crashOptions)
		if err != nil {
			t.Fatal(err)
		}
		if round > 0 && db.Stats().FreePageN == 0 {
			t.Fatalf("round %d: the open found no free page; deletes freed some", round)
		}
		for range 1 + rng.IntN(4) {
			mutate(t, db, rng, model)
		}
		if err := db.Close(); err != nil { // with NoFreelistSync: no freelist, as after kill -9
			t.Fatal(err)
		}
		if got := newestMetaFreelist(t, path); got != noFreelist {
			t.Fatalf("round %d: the crashed file names freelist page %d, want none", round, got)
		}

		copyFile(t, path, scanned)
		ref, err := bolt.Open(scanned, 0o600, crashOptions) // bbolt's scan
		if err != nil {
			t.Fatal(err)
		}
		want := ref.Stats().FreePageN
		ref.Close()

		n, err := freelistForCrash(path)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if n == 0 {
			t.Fatalf("round %d: no freelist written for a crashed file", round)
		}
		if got := newestMetaFreelist(t, path); got == noFreelist {
			t.Fatalf("round %d: after freelistForCrash the newest meta names no freelist", round)
		}
		db, err = bolt.Open(path, 0o600, crashOptions)
		if err != nil {
			t.Fatal(err)
		}
		if got := db.Stats().FreePageN; got != want {
			t.Errorf("round %d: freelist holds %d pages, bbolt's scan found %d", round, got, want)
		}
		verify(t, db, model)
		mutate(t, db, rng, model) // the freelist read is the one bbolt allocates from
		verify(t, db, model)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCrashFreelistMetaTornOrLost: a crash after the freelist pages were
// written but before (or while) the meta page naming them was: bbolt uses
// the commit before, nothing is lost, and the next open writes the freelist.
func TestCrashFreelistMetaTornOrLost(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(t *testing.T, f *os.File, meta []byte, at int64)
	}{
		{"meta not written", func(*testing.T, *os.File, []byte, int64) {}},
		{"meta torn", func(t *testing.T, f *os.File, meta []byte, at int64) {
			if _, err := f.WriteAt(meta[:pageHeaderSize+40], at); err != nil { // up to the high-water mark, no txid or checksum
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "crash.db")
			db, err := bolt.Open(path, 0o600, crashOptions)
			if err != nil {
				t.Fatal(err)
			}
			model := boltModel{}
			rng := rand.New(rand.NewPCG(3, 7))
			mutate(t, db, rng, model)
			mutate(t, db, rng, model)
			db.Close()

			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			freelist, at, meta, ok, err := crashFreelist(data)
			if err != nil || !ok {
				t.Fatalf("crashFreelist: ok %v, %v", ok, err)
			}
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt(freelist, at); err != nil {
				t.Fatal(err)
			}
			m, _ := readMeta(meta)
			tc.write(t, f, meta, int64(m.txid%2)*int64(m.pageSize))
			f.Close()
			if got := newestMetaFreelist(t, path); got != noFreelist {
				t.Fatalf("the newest valid meta names freelist page %d, want none (the write did not finish)", got)
			}

			s, err := OpenBolt(path)
			if err != nil {
				t.Fatal(err)
			}
			verify(t, s.db, model)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCrashFreelistRefusesCorruptFile: a page the tree reaches twice is a
// corrupt file, which bbolt's own rebuild would panic on; the open fails
// with the reason instead.
func TestCrashFreelistRefusesCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	db, err := bolt.Open(path, 0o600, crashOptions)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("a"))
		if err != nil {
			return err
		}
		for i := range 2000 { // several leaves under a branch page
			if err := b.Put(fmt.Appendf(nil, "k%05d", i), make([]byte, 100)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var root uint64
	db.View(func(tx *bolt.Tx) error {
		root = uint64(tx.Bucket([]byte("a")).Root())
		return nil
	})
	db.Close()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := newestMeta(data)
	branch := data[int(root)*int(m.pageSize):]
	if ne.Uint16(branch[8:]) != pageBranch {
		t.Fatalf("bucket a's root page %d is not a branch page (flags %#x)", root, ne.Uint16(branch[8:]))
	}
	// The second child pointer now names the first child too.
	copy(branch[pageHeaderSize+branchElemSize+8:pageHeaderSize+branchElemSize+16], branch[pageHeaderSize+8:pageHeaderSize+16])
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = OpenBolt(path)
	if err == nil || !strings.Contains(err.Error(), "the file is corrupt") || !strings.Contains(err.Error(), "reached twice") {
		t.Fatalf("OpenBolt on a file with a page reached twice: %v, want an error saying the file is corrupt", err)
	}
}

// FuzzCrashFreelist: whatever the bytes, crashFreelist answers an error or
// a freelist, never a panic (an index out of range would stop the daemon's
// start with a stack trace instead of the reason).
func FuzzCrashFreelist(f *testing.F) {
	path := filepath.Join(f.TempDir(), "seed.db")
	db, err := bolt.Open(path, 0o600, crashOptions)
	if err != nil {
		f.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("a"))
		sub, _ := b.CreateBucket([]byte("sub"))
		sub.Put([]byte("k"), make([]byte, 5000))
		for i := range 300 {
			b.Put(fmt.Appendf(nil, "k%04d", i), []byte("v"))
		}
		return nil
	})
	db.Close()
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		freelist, _, meta, ok, err := crashFreelist(data)
		if ok && (err != nil || len(freelist) == 0 || len(meta) == 0) {
			t.Fatalf("ok with error %v, %d freelist bytes, %d meta bytes", err, len(freelist), len(meta))
		}
	})
}
