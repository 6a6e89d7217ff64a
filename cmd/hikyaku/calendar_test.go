package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestCalendarCommands: calendar url prints a link under the server's
// external URL that serves a feed, revoke ends it, and the shared
// api_token gets no link.
func TestCalendarCommands(t *testing.T) {
	url := startServer(t)
	var out, errb bytes.Buffer
	if code := run([]string{"token", "create", "--user", "tanaka", "--server", url}, &out, &errb); code != 0 {
		t.Fatalf("token create: %d %s", code, errb.String())
	}
	tanaka := strings.TrimSpace(out.String())
	errb.Reset()
	if code := run([]string{"calendar", "url", "--server", url}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "403") {
		t.Errorf("calendar url with the shared api_token: %d %q, want exit 1 with 403", code, errb.String())
	}
	t.Setenv("HIKYAKU_API_TOKEN", tanaka)
	fetch := func(link string) int {
		t.Helper()
		// The example's external_url is localhost:8585; the test server is elsewhere.
		path, ok := strings.CutPrefix(link, "http://localhost:8585")
		if !ok {
			t.Fatalf("link %q is not under global.external_url", link)
		}
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == 200 && (resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" || !bytes.HasPrefix(b, []byte("BEGIN:VCALENDAR\r\n"))) {
			t.Errorf("feed %s: %q %q", path, resp.Header.Get("Content-Type"), b)
		}
		return resp.StatusCode
	}
	out.Reset()
	if code := run([]string{"calendar", "url", "--server", url}, &out, &errb); code != 0 {
		t.Fatalf("calendar url: %d %s", code, errb.String())
	}
	me := strings.TrimSpace(out.String())
	if !strings.HasSuffix(me, "/me.ics") || fetch(me) != 200 {
		t.Fatalf("calendar url printed %q", me)
	}
	out.Reset()
	if code := run([]string{"calendar", "url", "--rotation", "engineering/eng-primary", "--server", url, "--output", "json"}, &out, &errb); code != 0 {
		t.Fatalf("calendar url --rotation: %d %s", code, errb.String())
	}
	var link map[string]any
	if err := json.Unmarshal(out.Bytes(), &link); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := keyPaths(docExample(t, string(doc), "calendar"), "")
	for _, k := range keyPaths(link, "") {
		if !slices.Contains(documented, k) {
			t.Errorf("calendar url: JSON field %s is not in the docs/cli.md example", k)
		}
	}
	rot, _ := link["url"].(string)
	if !strings.HasSuffix(rot, "/rotation/engineering/eng-primary.ics") || fetch(rot) != 200 {
		t.Fatalf("calendar url --rotation: %s", out.String())
	}
	errb.Reset()
	if code := run([]string{"calendar", "url", "--rotation", "support/eng-primary", "--server", url}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "400") {
		t.Errorf("a rotation of another department: %d %q", code, errb.String())
	}
	if code := run([]string{"calendar", "url", "--rotation", "eng-primary", "--server", url}, &out, &errb); code != 2 {
		t.Errorf("--rotation without a department: exit %d, want 2", code)
	}
	out.Reset()
	if code := run([]string{"calendar", "revoke", "--server", url}, &out, &errb); code != 0 || !strings.Contains(out.String(), "1 calendar link(s) of tanaka's me feed revoked") {
		t.Fatalf("calendar revoke: %d %q %q", code, out.String(), errb.String())
	}
	if got := fetch(me); got != 404 {
		t.Errorf("the revoked link: %d, want 404", got)
	}
	if got := fetch(rot); got != 200 {
		t.Errorf("revoking me ended the rotation link: %d", got)
	}
	out.Reset()
	if code := run([]string{"calendar", "revoke", "--all", "--server", url}, &out, &errb); code != 0 || fetch(rot) != 404 {
		t.Fatalf("calendar revoke --all: %d %q", code, out.String())
	}
}
