package e2e

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
)

// TestCalendarFeedThroughDaemon: alice makes her calendar link with the
// CLI and her own token, a calendar app's plain GET gets an RFC 5545 feed
// that parses with her shift now in it, a cover stored with hikyaku
// override add shows in the rotation's feed, and after calendar revoke the
// same URL is a bare 404, counted.
func TestCalendarFeedThroughDaemon(t *testing.T) {
	t.Parallel()
	env := startAckEnv(t)
	created, err := exec.Command(binary, "token", "create", "--user", "alice", "--server", env.External).Output()
	if err != nil {
		t.Fatalf("hikyaku token create --user alice: %v", err)
	}
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, append(args, "--server", env.External)...)
		cmd.Env = append(os.Environ(), "HIKYAKU_API_TOKEN="+strings.TrimSpace(string(created)), "HIKYAKU_SERVER=")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("hikyaku %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	link := cli("calendar", "url")
	if !strings.HasPrefix(link, env.External+"/calendar/hkc_") || !strings.HasSuffix(link, "/me.ics") {
		t.Fatalf("calendar url printed %q", link)
	}
	get := func(u string) (int, string, string) {
		t.Helper()
		resp, err := client.Get(u) // no header, no cookie: as Google Calendar fetches
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	code, ct, body := get(link)
	if code != http.StatusOK || ct != "text/calendar; charset=utf-8" {
		t.Fatalf("GET the feed: %d %q\n%s", code, ct, body)
	}
	cal, err := ics.ParseCalendar(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the feed does not parse: %v\n%s", err, body)
	}
	now, found := time.Now(), false
	for _, e := range cal.Events() {
		start, err1 := e.GetStartAt()
		end, err2 := e.GetEndAt()
		if err1 != nil || err2 != nil {
			t.Fatalf("event %s: %v %v", e.Id(), err1, err2)
		}
		// alice is primary's only member: on call now, in Japanese.
		if s := e.GetProperty(ics.ComponentPropertySummary); s != nil && s.Value == "オンコール: Ops / primary" && start.Before(now) && end.After(now) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no event of alice's primary shift around now:\n%s", body)
	}
	if !strings.Contains(body, "DTSTART;TZID=UTC:") || !strings.Contains(body, "BEGIN:VTIMEZONE\r\nTZID:UTC\r\n") {
		t.Errorf("events lack the zone:\n%s", body)
	}

	// A cover stored now (hikyaku override add) is in the rotation's feed.
	cli("override", "add", "--for", "alice", "--covered-by", "bob", "--duration", "1h")
	rot := cli("calendar", "url", "--rotation", "ops/primary")
	code, _, body = get(rot)
	if code != http.StatusOK {
		t.Fatalf("GET the rotation's feed: %d %s", code, body)
	}
	if cal, err = ics.ParseCalendar(strings.NewReader(body)); err != nil {
		t.Fatalf("the rotation's feed does not parse: %v", err)
	}
	found = false
	for _, e := range cal.Events() {
		start, _ := e.GetStartAt()
		end, _ := e.GetEndAt()
		if s := e.GetProperty(ics.ComponentPropertySummary); s != nil && s.Value == "Bob (bob) がオンコール: Ops / primary (代理)" &&
			start.Before(time.Now()) && end.After(time.Now()) && end.Sub(start) <= time.Hour {
			found = true
		}
	}
	if !found {
		t.Errorf("no event of bob's cover around now in the rotation's feed:\n%s", body)
	}

	if out := cli("calendar", "revoke"); out != "1 calendar link(s) of alice's me feed revoked" {
		t.Errorf("calendar revoke printed %q", out)
	}
	_, _, notFound := get(env.External + "/nowhere")
	if code, _, body := get(link); code != http.StatusNotFound || body != notFound {
		t.Fatalf("the revoked link: %d %q, want the plain 404 %q", code, body, notFound)
	}
	if got := metric(t, env.Addr, `hikyaku_calendar_feed_requests_total{result="bad_token"}`); got != "1" {
		t.Errorf("bad_token refusals on /metrics: %q, want 1", got)
	}
	if got := metric(t, env.Addr, `hikyaku_calendar_feed_requests_total{result="served"}`); got != "2" {
		t.Errorf("served feeds on /metrics: %q, want 2", got)
	}
}
