package router

import (
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// carol (ja, global zone Asia/Tokyo) opens the incident page, is refused
// every form without the CSRF token, escalates and resolves with it.
func TestConsoleIncidentPage(t *testing.T) {
	h := newHarness(t, testConfig+consoleSignIn)
	auth, err := access.New(access.Options{SignIn: h.engine.Policies().Config().SignIn, Key: []byte("0123456789abcdef0123456789abcdef"),
		Config: func() *config.Config { return h.engine.Policies().Config() }, Now: h.clock.Now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Engine: h.engine, Auth: auth}).PublicHandler())
	t.Cleanup(srv.Close)
	id := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0].ID
	jar, _ := cookiejar.New(nil)
	c := &proxyClient{t: t, http: &http.Client{Jar: jar}, email: "carol@example.com"}

	page := srv.URL + "/console/incidents/1"
	code, hdr, body := c.do(http.MethodGet, page, nil)
	if code != http.StatusOK || hdr.Get("Content-Security-Policy") != "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'" {
		t.Fatalf("GET %s: %d %v\n%s", page, code, hdr, body)
	}
	for _, want := range []string{`<html lang="ja">`, "#1 UNKNOWN eng (open): disk full", "<dt>発生</dt><dd>2026-01-07 14:00 JST</dd>",
		"<dt>エスカレーションポリシー</dt><dd>eng</dd>", "時刻は JST (Asia/Tokyo) です。", "<td>2026-01-07 14:00 JST</td><td>created</td>",
		"<h2>エスカレーション計画</h2>", "<tr><td>2026-01-07 14:00 JST</td><td>ステップ 1 (1 巡目)</td><td>alice</td><td>sms</td></tr>",
		"<tr><td>2026-01-07 14:00 JST</td><td>ステップ 1 (1 巡目)</td><td>ops</td><td>chat</td></tr>",
		"<tr><td>2026-01-07 14:03 JST</td><td>ステップ 1 (1 巡目)</td><td>alice</td><td>voice</td></tr>",
		"<tr><td>2026-01-07 14:05 JST</td><td>ステップ 2 (1 巡目)</td><td>bob</td><td>sms</td></tr>",
		`action="/console/incidents/1/ack"`, `action="/console/incidents/1/resolve"`, `action="/console/incidents/1/escalate"`} {
		if !strings.Contains(body, want) {
			t.Errorf("incident page lacks %q:\n%s", want, body)
		}
	}
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token:\n%s", body)
	}
	for _, verb := range consoleVerbs {
		if code, _, _ := c.do(http.MethodPost, page+"/"+verb, url.Values{}); code != http.StatusForbidden {
			t.Errorf("%s without the CSRF token: %d, want 403", verb, code)
		}
	}
	if inc, _ := h.st.Get(t.Context(), id); inc.Status != store.StatusOpen {
		t.Fatalf("refused forms changed the incident: %s", inc.Status)
	}
	if code, _, body := c.do(http.MethodPost, page+"/escalate", url.Values{"csrf_token": {m[1]}}); code != http.StatusOK ||
		!strings.Contains(body, "インシデント #1: escalate を carol が実行しました。") {
		t.Errorf("escalate: %d\n%s", code, body)
	}
	code, _, body = c.do(http.MethodPost, page+"/resolve", url.Values{"csrf_token": {m[1]}})
	if code != http.StatusOK || !strings.Contains(body, "インシデント #1: resolve を carol が実行しました。") || strings.Contains(body, "<button>") {
		t.Errorf("resolve: %d (want no forms left on a resolved incident)\n%s", code, body)
	}
	inc, _ := h.st.Get(t.Context(), id)
	if inc.Status != store.StatusResolved {
		t.Errorf("incident %s, want resolved", inc.Status)
	}
	tl, _ := h.st.Timeline(t.Context(), id)
	if last := tl[len(tl)-1]; last.Type != "resolved" || last.Actor != "carol" || last.Detail["via"] != "console" {
		t.Errorf("last timeline entry %+v, want resolved by carol via console", last)
	}
	if code, _, _ := c.do(http.MethodGet, srv.URL+"/console/incidents/99", nil); code != http.StatusNotFound {
		t.Errorf("GET an unknown incident: %d, want 404", code)
	}
}

// TestConsoleList filters by status and pages two at a time, in English
// (bob has no language: global.language is en).
func TestConsoleList(t *testing.T) {
	h := newHarness(t, testConfig+consoleSignIn)
	auth, err := access.New(access.Options{SignIn: h.engine.Policies().Config().SignIn, Key: []byte("0123456789abcdef0123456789abcdef"),
		Config: func() *config.Config { return h.engine.Policies().Config() }, Now: h.clock.Now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Engine: h.engine, Auth: auth}).PublicHandler())
	t.Cleanup(srv.Close)
	for _, g := range []string{"g1", "g2", "g3"} {
		h.post("firing", g, map[string]string{"alertname": "DiskFull"})
	}
	if _, err := h.engine.Ack(t.Context(), 2, "alice", "api"); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &proxyClient{t: t, http: &http.Client{Jar: jar}, email: "bob@example.com"}

	code, _, body := c.do(http.MethodGet, srv.URL+"/console/incidents?status=open&limit=1", nil)
	if code != http.StatusOK {
		t.Fatalf("list: %d\n%s", code, body)
	}
	for _, want := range []string{`<option value="open" selected>open</option>`, `<a href="/console/incidents/3">#3</a> UNKNOWN eng (open): disk full <span>2026-01-07 14:00 JST</span>`,
		"Older incidents"} {
		if !strings.Contains(body, want) {
			t.Errorf("list lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "#2</a>") || strings.Contains(body, "#1</a>") {
		t.Errorf("first page of one holds more than #3:\n%s", body)
	}
	m := regexp.MustCompile(`<a href="([^"]+)">Older incidents`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no next page link:\n%s", body)
	}
	_, _, body = c.do(http.MethodGet, srv.URL+html.UnescapeString(m[1]), nil)
	if !strings.Contains(body, `#1</a>`) || strings.Contains(body, `#2</a>`) || strings.Contains(body, `#3</a>`) {
		t.Errorf("second page: want #1 alone (#2 is acked):\n%s", body)
	}
	code, _, body = c.do(http.MethodGet, srv.URL+"/console/incidents?status=bogus", nil)
	if code != http.StatusBadRequest || !strings.Contains(body, "The filter was not understood: status: want open, acked or resolved") {
		t.Errorf("bad filter: %d\n%s", code, body)
	}
}

// bob (en, Asia/Tokyo) has secondary until Monday and primary after it.
func TestConsoleMe(t *testing.T) {
	h := newHarness(t, testConfig+consoleSignIn)
	auth, err := access.New(access.Options{SignIn: h.engine.Policies().Config().SignIn, Key: []byte("0123456789abcdef0123456789abcdef"),
		Config: func() *config.Config { return h.engine.Policies().Config() }, Now: h.clock.Now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Engine: h.engine, Auth: auth}).PublicHandler())
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &proxyClient{t: t, http: &http.Client{Jar: jar}, email: "bob@example.com"}
	code, _, body := c.do(http.MethodGet, srv.URL+"/console/me", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /console/me: %d\n%s", code, body)
	}
	for _, want := range []string{"<h1>My on-call</h1>",
		"<li>2026-01-07 14:00 JST to 2026-01-12 10:00 JST: eng, secondary</li><li>2026-01-12 10:00 JST to 2026-01-19 10:00 JST: eng, primary</li>",
		"<li>2026-02-02 10:00 JST to 2026-02-04 14:00 JST: eng, secondary</li></ul>", "<li>after 0s: sms</li>", "<li>sms: &#43;819000000002</li>", "<li>email: bob@example.com</li>"} {
		if !strings.Contains(body, want) {
			t.Errorf("My on-call lacks %q:\n%s", want, body)
		}
	}
}

// primary from Wednesday 2026-01-07 14:00 JST for 4 weeks: alice, bob,
// alice, bob, alice (cut at the end); nights is never active: one gap.
func TestConsoleCalendar(t *testing.T) {
	withOverride := strings.Replace(testConfig, "        members: [alice, bob]\n",
		"        members: [alice, bob]\n        overrides:\n          - {user: carol, start: \"2026-01-20 10:00\", end: \"2026-01-21 10:00\"}\n", 1)
	h := newHarness(t, withOverride+consoleSignIn)
	auth, err := access.New(access.Options{SignIn: h.engine.Policies().Config().SignIn, Key: []byte("0123456789abcdef0123456789abcdef"),
		Config: func() *config.Config { return h.engine.Policies().Config() }, Now: h.clock.Now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Engine: h.engine, Auth: auth}).PublicHandler())
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &proxyClient{t: t, http: &http.Client{Jar: jar}, email: "carol@example.com"}
	_, _, body := c.do(http.MethodGet, srv.URL+"/console/calendar/primary", nil)
	want := `<li>2026-01-07 14:00 JST – 2026-01-12 10:00 JST: <strong>alice</strong></li>
<li>2026-01-12 10:00 JST – 2026-01-19 10:00 JST: <strong>bob</strong></li>
<li>2026-01-19 10:00 JST – 2026-01-20 10:00 JST: <strong>alice</strong></li>
<li class="ovr">2026-01-20 10:00 JST – 2026-01-21 10:00 JST: <strong>carol</strong> [代理]</li>
<li>2026-01-21 10:00 JST – 2026-01-26 10:00 JST: <strong>alice</strong></li>
<li>2026-01-26 10:00 JST – 2026-02-02 10:00 JST: <strong>bob</strong></li>
<li>2026-02-02 10:00 JST – 2026-02-04 14:00 JST: <strong>alice</strong></li>`
	if !strings.Contains(body, want) || !strings.Contains(body, "<h1>primary の今後 4 週間の担当</h1>") {
		t.Errorf("primary's calendar lacks\n%s\n%s", want, body)
	}
	_, _, body = c.do(http.MethodGet, srv.URL+"/console/calendar/nights", nil)
	if !strings.Contains(body, `<li class="gap">2026-01-07 14:00 JST – 2026-02-04 14:00 JST: <strong>空白: 担当者なし</strong></li>`) {
		t.Errorf("nights' calendar lacks its gap:\n%s", body)
	}
	if code, _, _ := c.do(http.MethodGet, srv.URL+"/console/calendar/nope", nil); code != http.StatusNotFound {
		t.Errorf("an unknown rotation: %d, want 404", code)
	}
}

// Acknowledge on the incident page answers with the incident page; the
// same post from the Now page (no from=incident) with the Now page.
func TestConsoleAckAnswersWithItsPage(t *testing.T) {
	h := newHarness(t, testConfig+consoleSignIn)
	srv := consoleServer(t, h, slog.New(slog.DiscardHandler))
	first := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0].ID
	second := h.post("firing", "g2", map[string]string{"alertname": "CPU"})[0].ID
	c := signedInAs(t, "carol@example.com")
	_, _, body := c.do(http.MethodGet, srv.URL+"/console/incidents/1", nil)
	m := csrfInput.FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, `<input type="hidden" name="from" value="incident">`) {
		t.Fatalf("the incident page's forms lack the CSRF token or from=incident:\n%s", body)
	}
	code, _, body := c.do(http.MethodPost, fmt.Sprintf("%s/console/incidents/%d/ack", srv.URL, first), url.Values{"csrf_token": {m[1]}, "from": {"incident"}})
	if code != http.StatusOK || !strings.Contains(body, "インシデント #1 を carol が了解しました。") || !strings.Contains(body, "<h1>#1 UNKNOWN eng (acked): disk full</h1>") {
		t.Errorf("ack from the incident page: %d, want the incident page saying so\n%s", code, body)
	}
	code, _, body = c.do(http.MethodPost, fmt.Sprintf("%s/console/incidents/%d/ack", srv.URL, second), url.Values{"csrf_token": {m[1]}})
	if code != http.StatusOK || !strings.Contains(body, "インシデント #2 を carol が了解しました。") || !strings.Contains(body, "未解決のインシデント") {
		t.Errorf("ack from the Now page: %d, want the Now page saying so\n%s", code, body)
	}
	for _, id := range []int64{first, second} {
		if inc, _ := h.st.Get(t.Context(), id); inc.Status != store.StatusAcked || inc.AckedBy != "carol" {
			t.Errorf("incident %d: %s by %q, want acked by carol", id, inc.Status, inc.AckedBy)
		}
	}
}
