package router

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConsoleMyOpenPages: My on-call lists the open and acknowledged
// incidents that paged the viewer, with the channels and the last page's
// time in the viewer's zone, and drops one once it is resolved; an incident
// that paged someone else is not listed.
func TestConsoleMyOpenPages(t *testing.T) {
	h := newHarness(t, testConfig+consoleSignIn)
	srv := consoleServer(t, h, slog.New(slog.DiscardHandler))
	bob := signedInAs(t, "bob@example.com")

	if code, _, body := bob.do(http.MethodGet, srv.URL+"/console/me", nil); code != http.StatusOK ||
		!strings.Contains(body, "<h2>My open pages</h2><p>No open incident has paged you.</p>") {
		t.Fatalf("My on-call before any page: %d\n%s", code, body)
	}
	// Step 1 pages alice (primary) at 14:00 JST; step 2, bob (secondary), at 14:05.
	first := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0].ID
	h.advance(0)
	h.advance(5 * time.Minute)
	second := h.post("firing", "g2", map[string]string{"alertname": "Quiet"})[0].ID
	h.advance(0) // pages alice only
	if _, err := h.engine.Ack(t.Context(), first, "bob", "sms"); err != nil {
		t.Fatal(err)
	}
	code, _, body := bob.do(http.MethodGet, srv.URL+"/console/me", nil)
	want := `<li><a href="/console/incidents/1">#1</a> UNKNOWN eng (acked): disk full<br><span class="muted">paged on sms, last at 2026-01-07 14:05 JST</span></li>`
	if code != http.StatusOK || !strings.Contains(body, want) || strings.Contains(body, `href="/console/incidents/2"`) {
		t.Fatalf("My on-call after the pages (want #%d listed, #%d not): %d\n%s", first, second, code, body)
	}
	if _, err := h.engine.Resolve(t.Context(), first, "bob", "api"); err != nil {
		t.Fatal(err)
	}
	if _, _, body := bob.do(http.MethodGet, srv.URL+"/console/me", nil); !strings.Contains(body, "No open incident has paged you.") {
		t.Errorf("My on-call after the resolve still lists a page:\n%s", body)
	}
}

// TestConsoleIncidentAlerts: the incident page lists the alerts
// Alertmanager last sent, each with its state, since when in the viewer's
// zone and words, its summary and labels; only a web generator URL is a link.
func TestConsoleIncidentAlerts(t *testing.T) {
	h := newHarness(t, testConfig+consoleSignIn)
	srv := consoleServer(t, h, slog.New(slog.DiscardHandler))
	raw := []byte(`{"receiver":"hikyaku","status":"firing","alerts":[
{"status":"firing","labels":{"alertname":"DiskFull","instance":"db-1","team":"db"},"annotations":{"summary":"/var is 97% full"},"startsAt":"2026-01-07T04:58:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"https://prom.example.com/graph?g0.expr=disk","fingerprint":"a1"},
{"status":"resolved","labels":{"alertname":"DiskFull","instance":"db-2","team":"db"},"annotations":{"description":"back under 80%"},"startsAt":"2026-01-07T04:30:00Z","endsAt":"2026-01-07T04:55:00Z","generatorURL":"javascript:alert(1)","fingerprint":"a2"}],
"groupLabels":{"alertname":"DiskFull"},"commonLabels":{"alertname":"DiskFull","team":"db"},"commonAnnotations":{},"externalURL":"http://am","version":"4","groupKey":"g1","truncatedAlerts":0}`)
	msg, err := DecodeMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	incs, err := h.engine.Ingest(t.Context(), msg, raw)
	if err != nil {
		t.Fatal(err)
	}
	carol := signedInAs(t, "carol@example.com") // ja, Asia/Tokyo
	code, _, body := carol.do(http.MethodGet, srv.URL+"/console/incidents/"+fmt.Sprint(incs[0].ID), nil)
	for _, want := range []string{
		"<h2>アラート</h2>",
		`<tr><td>発生中</td><td>2026-01-07 13:58 JST</td><td><a href="https://prom.example.com/graph?g0.expr=disk" rel="noreferrer">DiskFull</a></td><td>/var is 97% full<br><span class="muted">instance=db-1 team=db</span></td></tr>`,
		`<tr><td>解消</td><td>2026-01-07 13:30 JST</td><td>DiskFull</td><td>back under 80%<br><span class="muted">instance=db-2 team=db</span></td></tr>`,
	} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("incident page lacks %q: %d\n%s", want, code, body)
		}
	}
	if strings.Contains(body, "javascript:") {
		t.Errorf("the page links a javascript: generator URL:\n%s", body)
	}
}
