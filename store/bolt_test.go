package store_test

import (
	"path/filepath"
	"strings"
	"testing"

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
