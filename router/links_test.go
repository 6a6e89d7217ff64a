package router

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

const linkConfig = `
global:
  external_url: http://hikyaku.test
  signing_key: {value: 0123456789abcdef-test-key}
`

func TestSignedLinks(t *testing.T) {
	h := newHarness(t, withGlobal(testConfig, linkConfig))
	srv := httptest.NewServer((&Server{Engine: h.engine}).Handler())
	defer srv.Close()
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	inc, _ := h.st.Get(context.Background(), id)
	links := h.engine.Links(inc, "alice")
	if links == nil || !strings.HasPrefix(links["ack"], "http://hikyaku.test/act/") {
		t.Fatalf("links: %v", links)
	}
	path := strings.TrimPrefix(links["ack"], "http://hikyaku.test")

	// A link scanner fetches it: nothing happens.
	for range 3 {
		code, body := do(t, "GET", srv.URL+path, "", nil)
		if code != 200 || !strings.Contains(body, "<form method=\"post\">") {
			t.Fatalf("GET: %d %s", code, body)
		}
	}
	if inc, _ := h.st.Get(context.Background(), id); inc.Status != store.StatusOpen {
		t.Fatalf("a GET changed the incident to %s", inc.Status)
	}
	// Tampered: another incident id with the same signature.
	tampered := signLink([]byte("some-other-key-0123"), link{Incident: id, Action: "ack", User: "alice", Expires: h.clock.Now().Add(time.Hour)})
	if code, _ := do(t, "POST", srv.URL+"/act/"+tampered, "", nil); code != 403 {
		t.Fatalf("link signed with another key: %d", code)
	}
	c, sig, _ := strings.Cut(strings.TrimPrefix(path, "/act/"), ".")
	if code, _ := do(t, "POST", srv.URL+"/act/"+c+"x."+sig, "", nil); code != 403 {
		t.Fatalf("tampered claims: %d", code)
	}
	if inc, _ := h.st.Get(context.Background(), id); inc.Status != store.StatusOpen {
		t.Fatal("a forged link acted")
	}
	// The button's POST acts, as alice, via link.
	code, body := do(t, "POST", srv.URL+path, "", nil)
	if code != 200 || !strings.Contains(body, "acked") {
		t.Fatalf("POST: %d %s", code, body)
	}
	inc, _ = h.st.Get(context.Background(), id)
	if inc.Status != store.StatusAcked || inc.AckedBy != "alice" {
		t.Fatalf("after POST: %s by %q", inc.Status, inc.AckedBy)
	}
	// Expired a day later.
	h.clock.Add(LinkTTL + time.Second)
	if code, _ := do(t, "GET", srv.URL+strings.TrimPrefix(links["resolve"], "http://hikyaku.test"), "", nil); code != 403 {
		t.Fatalf("expired link: %d", code)
	}
}

// withGlobal merges extra global keys into cfg's global section.
func withGlobal(cfg, extra string) string {
	extra = strings.TrimPrefix(strings.TrimSpace(extra), "global:\n")
	return strings.Replace(cfg, "global:\n", "global:\n"+extra+"\n", 1)
}

// TestPagesCarryTheirPersonsLinks: a page to a person carries links signed
// for them (the email text shows them); a chat channel's post and a
// stakeholder's report carry none, for a link acts as the one it names.
func TestPagesCarryTheirPersonsLinks(t *testing.T) {
	h := newHarness(t, withGlobal(testConfig, linkConfig))
	inc := h.post("firing", "g1", map[string]string{"alertname": "X"})[0]

	m, err := h.engine.message(inc, &notifyPayload{Kind: "page", User: "bob", Channel: "email"}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"ack", "resolve", "escalate"} {
		u := m.Links[a]
		if !strings.HasPrefix(u, "http://hikyaku.test/act/") {
			t.Fatalf("link %s = %q", a, u)
		}
		l, err := verifyLink([]byte("0123456789abcdef-test-key"), strings.TrimPrefix(u, "http://hikyaku.test/act/"), h.clock.Now())
		if err != nil || l.User != "bob" || l.Action != a || l.Incident != inc.ID {
			t.Errorf("link %s verifies as %+v, %v; want %s on %d by bob", a, l, err, a, inc.ID)
		}
		if !strings.Contains(m.Text, u) {
			t.Errorf("email text lacks the %s link:\n%s", a, m.Text)
		}
	}

	for _, p := range []*notifyPayload{
		{Kind: "page", ChatChannel: "ops", Channel: "slack"},
		{Kind: "report", User: "boss", Channel: "email"},
	} {
		m, err := h.engine.message(inc, p, "k2")
		if err != nil {
			t.Fatal(err)
		}
		if m.Links != nil || strings.Contains(m.Text, "/act/") {
			t.Errorf("%s %s to %s%s carries links: %v\n%s", p.Kind, p.Channel, p.User, p.ChatChannel, m.Links, m.Text)
		}
	}
}
