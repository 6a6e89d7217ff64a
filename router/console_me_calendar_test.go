package router

import (
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
)

var feedLink = regexp.MustCompile(`<code>(https://oncall\.example\.com/calendar/hkc_[0-9a-f_]+/me\.ics)</code>`)

// TestConsoleCalendarLink: My on-call offers a link, makes one only with
// the CSRF token, shows it once, and a new one ends the old.
func TestConsoleCalendarLink(t *testing.T) {
	h := newHarness(t, calendarConfig+consoleSignIn)
	h.clock.mu.Lock()
	h.clock.t = feedNow
	h.clock.mu.Unlock()
	auth, err := access.New(access.Options{SignIn: h.engine.Policies().Config().SignIn, Key: []byte("0123456789abcdef0123456789abcdef"),
		Config: func() *config.Config { return h.engine.Policies().Config() }, Now: h.clock.Now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Engine: h.engine, Auth: auth}).PublicHandler())
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &proxyClient{t: t, http: &http.Client{Jar: jar}, email: "berta@example.com"}

	code, _, body := c.do(http.MethodGet, srv.URL+"/console/me", nil)
	if code != http.StatusOK || !strings.Contains(body, "カレンダーのリンクはまだありません。") || !strings.Contains(body, "カレンダーのリンクを作る") {
		t.Fatalf("My on-call: %d\n%s", code, body)
	}
	token := csrfInput.FindStringSubmatch(body)[1]
	action := srv.URL + "/console/me/calendar"
	if code, _, _ := c.do(http.MethodPost, action, url.Values{}); code != http.StatusForbidden {
		t.Errorf("a link without the CSRF token: %d, want 403", code)
	}
	if toks, _ := h.st.CalendarTokensOf(t.Context(), "berta"); len(toks) != 0 {
		t.Fatalf("a refused form made a link: %+v", toks)
	}
	link := func() string {
		t.Helper()
		code, _, body := c.do(http.MethodPost, action, url.Values{"csrf_token": {token}})
		m := feedLink.FindStringSubmatch(body)
		if code != http.StatusOK || m == nil || !strings.Contains(body, "新しいカレンダーのリンクを作りました。") {
			t.Fatalf("making a link: %d\n%s", code, body)
		}
		return srv.URL + strings.TrimPrefix(m[1], "https://oncall.example.com")
	}
	first := link()
	if code, hdr, body := fetchFeed(t, first); code != http.StatusOK || hdr.Get("Content-Type") != "text/calendar; charset=utf-8" || !strings.Contains(body, "SUMMARY:オンコール: EU ops / EU days") {
		t.Fatalf("the console's link: %d %q\n%s", code, hdr.Get("Content-Type"), body)
	}
	code, _, body = c.do(http.MethodGet, srv.URL+"/console/me", nil)
	if code != http.StatusOK || !strings.Contains(body, "リンクは 2027-03-20 13:00 CET に作成済みです。") || feedLink.MatchString(body) ||
		!strings.Contains(body, "新しいリンクを作る (古いリンクは無効)") {
		t.Errorf("My on-call after making a link: %d\n%s", code, body)
	}
	second := link()
	if code, _, _ := fetchFeed(t, first); code != http.StatusNotFound {
		t.Errorf("the old link after a new one: %d, want 404", code)
	}
	if code, _, _ := fetchFeed(t, second); code != http.StatusOK {
		t.Errorf("the new link: %d", code)
	}
}
