package store

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// smallDisk mounts a tmpfs of size bytes for the test and unmounts it
// after; it skips the test where mounting is not allowed (not root).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs here (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until the disk is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			return
		}
	}
}

// TestBoltPingFailsOnAFullDisk: with the disk full, a small write still
// fits in the file's free pages but an incident's write cannot grow the
// file; Ping must say the store cannot write, and recover when space does.
func TestBoltPingFailsOnAFullDisk(t *testing.T) {
	dir := smallDisk(t, "48m")
	s, err := OpenBolt(filepath.Join(dir, BoltFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping on an empty disk: %v", err)
	}
	filler := filepath.Join(dir, "filler")
	fill(t, filler)
	big := `{"summary":"` + strings.Repeat("x", 1<<20) + `"}`
	_, werr := s.UpdateByKey(ctx, "k", func(*Incident) (*Change, error) {
		return &Change{Incident: &Incident{Key: "k", Status: StatusOpen, CreatedAt: time.Now(), Message: []byte(big)}}, nil
	})
	if werr == nil {
		t.Fatal("a 1 MiB incident was written to a full disk: the test does not fill it")
	}
	if err := s.Ping(ctx); err == nil {
		t.Errorf("Ping with the disk full succeeded, while an incident write failed: %v", werr)
	}
	os.Remove(filler)
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping after space came back: %v", err)
	}
}
