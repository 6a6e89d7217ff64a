package main

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	code, stdout, _ := runCmd(t, "version")
	if code != exitOK || !strings.HasPrefix(stdout, "hikyaku ") || !strings.Contains(stdout, runtime.Version()) {
		t.Errorf("exit %d, %q", code, stdout)
	}

	old := version
	version = "v9.8.7"
	t.Cleanup(func() { version = old })
	code, stdout, _ = runCmd(t, "version", "--output", "json")
	var v versionInfo
	if err := json.Unmarshal([]byte(stdout), &v); err != nil || code != exitOK {
		t.Fatalf("exit %d, decode %v: %s", code, err, stdout)
	}
	if v.Version != "v9.8.7" || v.Go != runtime.Version() || v.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("got %+v, want the -X version and this toolchain", v)
	}
}
