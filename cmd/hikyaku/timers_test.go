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
	"time"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/router"
	"github.com/hikyaku/hikyaku/store"
)

// deadTimerServer runs the real API with one dead-lettered timer: a step
// whose payload cannot be decoded.
func deadTimerServer(t *testing.T) (string, store.Store) {
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
	_, err = st.UpdateByKey(context.Background(), "r/g", func(*store.Incident) (*store.Change, error) {
		return &store.Change{Incident: &store.Incident{Key: "r/g", Status: store.StatusAcked, Escalation: store.Escalation{Step: -1}},
			Schedule: []store.Timer{{ID: "ref/g0/r0/s0/step", Kind: "step", Due: time.Now().Add(-time.Second), Payload: []byte("{")}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eng := router.New(policies.Compile(cfg), router.Options{Store: st})
	if _, err := eng.ProcessDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&router.Server{Engine: eng}).Handler())
	t.Cleanup(srv.Close)
	return srv.URL, st
}

func TestTimersDeadCommand(t *testing.T) {
	url, st := deadTimerServer(t)
	var out, errb bytes.Buffer
	if code := run([]string{"timers", "dead", "--server", url}, &out, &errb); code != 0 {
		t.Fatalf("timers dead: %d %s", code, errb.String())
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 ||
		!strings.Contains(lines[1], "ref/g0/r0/s0/step") || !strings.Contains(lines[1], "decode step timer payload") {
		t.Fatalf("timers dead said:\n%s", out.String())
	}

	// Every JSON field is in docs/cli.md's example.
	out.Reset()
	if code := run([]string{"timers", "dead", "--server", url, "--output", "json"}, &out, &errb); code != 0 {
		t.Fatalf("timers dead --output json: %d %s", code, errb.String())
	}
	var got any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := keyPaths(docExample(t, string(doc), "timers"), "")
	for _, k := range keyPaths(got, "") {
		if !slices.Contains(documented, k) {
			t.Errorf("timers dead: JSON field %s is not in the docs/cli.md example", k)
		}
	}
	if len(keyPaths(got, "")) < 6 {
		t.Fatalf("timers dead --output json = %s, want the dead timer's fields", out.String())
	}

	out.Reset()
	if code := run([]string{"timers", "dead", "--server", url, "--retry", "ref/g0/r0/s0/step"}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "retried") {
		t.Fatalf("--retry: %d %q %q", code, out.String(), errb.String())
	}
	if n, _ := st.DeadCount(context.Background()); n != 0 {
		t.Fatalf("DeadCount after --retry = %d, want 0", n)
	}
	errb.Reset()
	if code := run([]string{"timers", "dead", "--server", url, "--discard", "ref/g0/r0/s0/step"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "404") {
		t.Fatalf("--discard of a timer no longer dead: %d %q", code, errb.String())
	}
	if code := run([]string{"timers", "dead", "--retry", "a", "--discard", "b"}, &out, &errb); code != 2 {
		t.Fatalf("--retry with --discard: exit %d, want 2", code)
	}
	if code := run([]string{"timers"}, &out, &errb); code != 2 {
		t.Fatalf("timers without dead: exit %d, want 2", code)
	}
}
