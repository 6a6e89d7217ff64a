package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesABadWebConfig: a web config exporter-toolkit would refuse
// (here a certificate file that does not exist) stops serve at start,
// naming the flag and the file, instead of a listener failing later.
func TestServeRefusesABadWebConfig(t *testing.T) {
	t.Setenv("HIKYAKU_WEBHOOK_TOKEN", "hook-token")
	web := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(web, []byte("tls_server_config:\n  cert_file: /nonexistent/admin.crt\n  key_file: /nonexistent/admin.key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	msg := serveRefusal(t, serveOptions{config: exampleConfig, dataDir: t.TempDir(), dryRun: true,
		adminListen: "127.0.0.1:0", adminWebConfig: web})
	if !strings.Contains(msg, "--web.admin-config.file "+web) {
		t.Errorf("error does not name the flag and file:\n%s", msg)
	}
}

// TestDeprecatedServeFlags: the old names still work with a WARN, and an old
// name given with its new one is a usage error.
func TestDeprecatedServeFlags(t *testing.T) {
	file := writeFile(t, smsWithoutTwilio) // refused after the flags: serve never listens
	code, _, stderr := runCmd(t, "serve", "--config", file, "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0")
	if code != exitFail {
		t.Fatalf("exit %d, want %d (the config is refused): %s", code, exitFail, stderr)
	}
	for _, want := range []string{"flag=--config use=--config.file", "flag=--data-dir use=--storage.path", "deprecated flag --listen"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("no warning %q in:\n%s", want, stderr)
		}
	}
	for _, args := range [][]string{
		{"--config", file, "--config.file", file},
		{"--data-dir", "a", "--storage.path", "b"},
		{"--listen", ":1", "--web.listen-address", ":2"},
		{"--listen", ":1", "--web.admin-config.file", "x.yml"},
	} {
		if code, _, stderr := runCmd(t, append([]string{"serve"}, args...)...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, code, exitUsage, stderr)
		}
	}
}
