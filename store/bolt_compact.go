package store

import (
	"errors"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// compactTxSize bounds the copy's transactions, so compacting a large file
// does not hold all of it in memory at once.
const compactTxSize = 64 << 20

// CompactBolt rewrites the embedded store's file without the pages deletes
// freed, which bbolt reuses but never gives back to the disk. It is offline:
// it refuses while another process (the daemon) holds the file's lock. The
// copy is written beside the file and renamed over it only once complete
// and synced, so a crash midway leaves the original. It returns the file's
// size before and after.
func CompactBolt(path string) (before, after int64, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	before = st.Size()
	src, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, ReadOnly: true})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return before, 0, fmt.Errorf("store: compact: %s is locked by another process: stop the hikyaku using it first: %w", path, err)
	}
	if err != nil {
		return before, 0, fmt.Errorf("store: compact: open %s: %w", path, err)
	}
	defer src.Close()
	tmp := path + ".compact"
	os.Remove(tmp) // a previous run's leftover
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return before, 0, fmt.Errorf("store: compact: create %s: %w", tmp, err)
	}
	if err := bolt.Compact(dst, src, compactTxSize); err != nil {
		dst.Close()
		os.Remove(tmp)
		return before, 0, fmt.Errorf("store: compact %s: %w", path, err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		os.Remove(tmp)
		return before, 0, fmt.Errorf("store: compact: sync %s: %w", tmp, err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return before, 0, fmt.Errorf("store: compact: close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return before, 0, fmt.Errorf("store: compact: replace %s: %w", path, err)
	}
	if st, err := os.Stat(path); err == nil {
		after = st.Size()
	}
	return before, after, nil
}
