package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binary is the hikyaku built once for the whole run, so every replica and
// restart runs the code under test and no test pays for a build.
var binary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// HIKYAKU_E2E_BINARY runs the tests against another build, e.g. an older
	// release, to measure what a change made better.
	if bin := os.Getenv("HIKYAKU_E2E_BINARY"); bin != "" {
		binary = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "hikyaku-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "hikyaku")
	build := exec.Command("go", "build", "-o", binary, "github.com/hikyaku/hikyaku/cmd/hikyaku")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building hikyaku:", err)
		return 1
	}
	return m.Run()
}
