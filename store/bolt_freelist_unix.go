//go:build linux || darwin || freebsd

package store

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// freelistForCrash writes the freelist of a file whose last stop was a crash
// (see bolt_freelist.go) so that bbolt's open reads it instead of scanning.
// It holds the file's lock, as bbolt does, while it reads and writes; a file
// another process holds is left to bbolt's open to report. It returns how
// many bytes of freelist it wrote (0: nothing to do).
func freelistForCrash(path string) (int, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return 0, nil // bbolt's open waits for the lock and says who holds it
	}
	defer unix.Flock(int(f.Fd()), unix.LOCK_UN)
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Size() < 2*pageHeaderSize+2*metaSize || st.Size() != int64(int(st.Size())) {
		return 0, nil
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, fmt.Errorf("map the file: %w", err)
	}
	freelist, at, meta, ok, err := crashFreelist(data)
	if uerr := unix.Munmap(data); uerr != nil && err == nil {
		err = fmt.Errorf("unmap the file: %w", uerr)
	}
	if err != nil || !ok {
		return 0, err
	}
	if _, err := f.WriteAt(freelist, at); err != nil {
		return 0, fmt.Errorf("write the freelist: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("sync the freelist: %w", err)
	}
	m, _ := readMeta(meta)
	if _, err := f.WriteAt(meta, int64(m.txid%2)*int64(m.pageSize)); err != nil {
		return 0, fmt.Errorf("write the meta page naming the freelist: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("sync the meta page naming the freelist: %w", err)
	}
	return len(freelist), nil
}
