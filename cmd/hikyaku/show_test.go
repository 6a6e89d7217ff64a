package main

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/store"
)

func TestIncidentsShow(t *testing.T) {
	url := startServer(t)
	var out, errb bytes.Buffer
	if code := run([]string{"incidents", "show", "1", "--server", url, "--tz", "Asia/Tokyo"}, &out, &errb); code != 0 {
		t.Fatalf("show: %d %s", code, errb.String())
	}
	text := out.String()
	for _, want := range []string{"incident 1: open", "JST", "alerts (2):", "timeline (", "created"} {
		if !strings.Contains(text, want) {
			t.Errorf("show text lacks %q:\n%s", want, text)
		}
	}
	out.Reset()
	if code := run([]string{"incidents", "show", "1", "--server", url, "--tz", "Europe/Paris", "--output", "json"}, &out, &errb); code != 0 {
		t.Fatalf("show json: %d %s", code, errb.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["time_zone"] != "Europe/Paris" || !strings.HasSuffix(got["opened_at"].(string), " CET") {
		t.Fatalf("zone: %v %v", got["time_zone"], got["opened_at"])
	}
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	example := docExample(t, string(doc), "incidents show")
	documented := keyPaths(example, "")
	for _, k := range keyPaths(got, "") {
		// Details and annotations are keyed by data, like labels.
		if strings.Contains(k, ".detail.") || strings.Contains(k, ".annotations.") {
			continue
		}
		if !slices.Contains(documented, k) {
			t.Errorf("incidents show: JSON field %s is not in the docs/cli.md example", k)
		}
	}
	for _, bad := range [][]string{{"incidents", "show"}, {"incidents", "show", "x"}, {"incidents", "show", "1", "--tz", "Mars/Olympus"}} {
		if code := run(append(bad, "--server", url), &out, &errb); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, exitUsage)
		}
	}
	if code := run([]string{"incidents", "show", "99", "--server", url}, &out, &errb); code != exitFail || !strings.Contains(errb.String(), "404") {
		t.Errorf("unknown id: %d %s", code, errb.String())
	}
}

func TestStoreCompactCommand(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"store", "compact", "--data-dir", dir}, &out, &errb); code != exitFail || !strings.Contains(errb.String(), "stop the hikyaku using it first") {
		t.Fatalf("compact while open: %d %s", code, errb.String())
	}
	st.Close()
	errb.Reset()
	if code := run([]string{"store", "compact", "--data-dir", dir}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "compacted ") {
		t.Fatalf("compact: %d %s %s", code, out.String(), errb.String())
	}
	if code := run([]string{"store", "reindex"}, &out, &errb); code != exitUsage {
		t.Fatalf("reindex without --store: %d", code)
	}
}
