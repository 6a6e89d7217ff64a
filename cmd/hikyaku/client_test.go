package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/router"
	"github.com/hikyaku/hikyaku/store"
)

// startServer runs the real HTTP API on the example config with one incident.
func startServer(t *testing.T) string {
	t.Helper()
	t.Setenv("HIKYAKU_API_TOKEN", "cli-test-token")
	t.Setenv("HIKYAKU_WEBHOOK_TOKEN", "hook")
	cfg, err := config.Load("../../examples/hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng := router.New(policies.Compile(cfg), router.Options{Store: st})
	body, _ := os.ReadFile("testdata/firing-two-alerts-ja.json")
	msg, err := router.DecodeMessage(body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Ingest(context.Background(), msg, body); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&router.Server{Engine: eng}).Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestClientCommands(t *testing.T) {
	url := startServer(t)
	var out, errb bytes.Buffer
	if code := run([]string{"incidents", "list", "--server", url, "--output", "json"}, &out, &errb); code != 0 {
		t.Fatalf("list: %d %s", code, errb.String())
	}
	var page incidentPage
	if err := json.Unmarshal(out.Bytes(), &page); err != nil || len(page.Items) != 1 || page.Items[0].Status != "open" {
		t.Fatalf("list: %v %s", err, out.String())
	}
	errb.Reset()
	if code := run([]string{"ack", "1", "--server", url, "--by", "tanaka"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--by is gone") {
		t.Fatalf("ack --by: %d %q, want exit 2 saying --by is gone", code, errb.String())
	}
	out.Reset()
	if code := run([]string{"token", "create", "--user", "tanaka", "--name", "laptop", "--server", url}, &out, &errb); code != 0 {
		t.Fatalf("token create: %d %s", code, errb.String())
	}
	tanaka := strings.TrimSpace(out.String())
	out.Reset()
	if code := run([]string{"token", "create", "--user", "sato", "--server", url, "--output", "json"}, &out, &errb); code != 0 {
		t.Fatalf("token create --output json: %d %s", code, errb.String())
	}
	var created any
	if err := json.Unmarshal(out.Bytes(), &created); err != nil {
		t.Fatalf("token create --output json: %v %s", err, out.String())
	}
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := keyPaths(docExample(t, string(doc), "token"), "")
	for _, k := range keyPaths(created, "") {
		if !slices.Contains(documented, k) {
			t.Errorf("token create: JSON field %s is not in the docs/cli.md example", k)
		}
	}
	t.Setenv("HIKYAKU_API_TOKEN", tanaka)
	out.Reset()
	if code := run([]string{"ack", "1", "--server", url}, &out, &errb); code != 0 {
		t.Fatalf("ack: %d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "incident 1: acked") {
		t.Fatalf("ack said %q", out.String())
	}
	out.Reset()
	run([]string{"incidents", "list", "--server", url, "--status", "acked"}, &out, &errb)
	if !strings.Contains(out.String(), "tanaka") || !strings.Contains(out.String(), "決済API") {
		t.Fatalf("list after ack: %q", out.String())
	}
	// Unknown incident, resolved twice, bad id, wrong token: clear errors, exit codes.
	errb.Reset()
	if code := run([]string{"resolve", "99", "--server", url}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "404") {
		t.Fatalf("unknown id: %d %q", code, errb.String())
	}
	run([]string{"resolve", "1", "--server", url}, &out, &errb)
	errb.Reset()
	if code := run([]string{"escalate", "1", "--server", url}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "already resolved") {
		t.Fatalf("escalate resolved: %d %q", code, errb.String())
	}
	if code := run([]string{"ack", "abc", "--server", url}, &out, &errb); code != 2 {
		t.Fatalf("bad id: %d", code)
	}
	out.Reset()
	if code := run([]string{"token", "list", "--server", url, "--output", "json"}, &out, &errb); code != 0 {
		t.Fatalf("token list: %d %s", code, errb.String())
	}
	var toks []tokenJSON
	if err := json.Unmarshal(out.Bytes(), &toks); err != nil || len(toks) != 2 || toks[0].User != "tanaka" || toks[0].Name != "laptop" || toks[0].Token != "" {
		t.Fatalf("token list: %v %s", err, out.String())
	}
	out.Reset()
	if code := run([]string{"token", "revoke", toks[0].ID, "--server", url}, &out, &errb); code != 0 || !strings.Contains(out.String(), "revoked") {
		t.Fatalf("token revoke: %d %q %q", code, out.String(), errb.String())
	}
	errb.Reset()
	if code := run([]string{"incidents", "list", "--server", url}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "401") || !strings.Contains(errb.String(), "revoked") {
		t.Fatalf("revoked token: %d %q", code, errb.String())
	}
	t.Setenv("HIKYAKU_API_TOKEN", "wrong")
	errb.Reset()
	if code := run([]string{"incidents", "list", "--server", url}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "401") {
		t.Fatalf("wrong token: %d %q", code, errb.String())
	}
}
