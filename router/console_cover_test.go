package router

import (
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/config"
)

// TestConsoleCoverAndMuteForms: bob (secondary this week, global language
// English, Asia/Tokyo) has carol cover him from My on-call, removes it,
// then mutes a route and ends the mute; every form is refused without the
// CSRF token and stores nothing then.
func TestConsoleCoverAndMuteForms(t *testing.T) {
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
	ctx := t.Context()

	code, _, body := c.do(http.MethodGet, srv.URL+"/console/me", nil)
	_, bySelect, _ := strings.Cut(body, `<select name="by" required>`)
	bySelect, _, _ = strings.Cut(bySelect, "</select>")
	if code != http.StatusOK || !strings.Contains(body, "<h2>Cover me</h2>") || !strings.Contains(bySelect, `<option value="carol">`) ||
		strings.Contains(bySelect, `<option value="bob">`) || !strings.Contains(body, "<h2>Mute now</h2>") || !strings.Contains(body, `<option value="route:nights">route nights</option>`) {
		t.Fatalf("My on-call: %d\n%s", code, body)
	}
	// Under any_user everyone may cover anyone: whose shifts is offered, bob first.
	if !strings.Contains(body, `<label>Whose shifts <select name="for"><option value="bob">bob</option><option value="alice">alice</option>`) {
		t.Errorf("My on-call offers no choice of whose shifts:\n%s", body)
	}
	token := csrfInput.FindStringSubmatch(body)[1]
	cover := url.Values{"by": {"carol"}, "start": {"2026-01-07T14:00"}, "end": {"2026-01-07T16:00"}, "reason": {"train"}}
	if code, _, _ := c.do(http.MethodPost, srv.URL+"/console/me/cover", cover); code != http.StatusForbidden {
		t.Errorf("cover without the CSRF token: %d, want 403", code)
	}
	if os, _ := h.st.ListOverrides(ctx); len(os) != 0 {
		t.Fatalf("a refused form stored an override: %+v", os)
	}
	cover.Set("csrf_token", token)
	code, _, body = c.do(http.MethodPost, srv.URL+"/console/me/cover", cover)
	if code != http.StatusOK || !strings.Contains(body, "carol covers you from 2026-01-07 14:00 JST to 2026-01-07 16:00 JST.") ||
		!strings.Contains(body, "carol covers bob from 2026-01-07 14:00 JST to 2026-01-07 16:00 JST") {
		t.Fatalf("cover: %d\n%s", code, body)
	}
	os, _ := h.st.ListOverrides(ctx)
	if len(os) != 1 || os[0].For != "bob" || os[0].By != "carol" || os[0].CreatedBy != "bob" ||
		!os[0].Start.Equal(time.Date(2026, 1, 7, 5, 0, 0, 0, time.UTC)) || !os[0].End.Equal(time.Date(2026, 1, 7, 7, 0, 0, 0, time.UTC)) || os[0].Reason != "train" {
		t.Fatalf("stored overrides %+v, want carol for bob 05:00–07:00Z", os)
	}
	set, err := h.engine.LivePolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sh, _ := set.OnCall("secondary", t0); sh.User != "carol" || !sh.Override {
		t.Errorf("secondary at t0 after the form: %+v, want carol as an override", sh)
	}
	remove := srv.URL + "/console/me/cover/" + os[0].ID + "/remove"
	if code, _, _ := c.do(http.MethodPost, remove, url.Values{}); code != http.StatusForbidden {
		t.Errorf("remove without the CSRF token: %d, want 403", code)
	}
	if code, _, body := c.do(http.MethodPost, remove, url.Values{"csrf_token": {token}}); code != http.StatusOK || !strings.Contains(body, "The cover was removed.") {
		t.Errorf("remove: %d\n%s", code, body)
	}
	if os, _ := h.st.ListOverrides(ctx); len(os) != 0 {
		t.Fatalf("after remove: %+v", os)
	}
	if code, _, body := c.do(http.MethodPost, remove, url.Values{"csrf_token": {token}}); code != http.StatusNotFound || !strings.Contains(body, "The cover was not saved: it was removed already") {
		t.Errorf("remove again: %d\n%s", code, body)
	}

	mute := url.Values{"target": {"route:nights"}, "for": {"30m0s"}, "reason": {"deploying payments"}}
	if code, _, _ := c.do(http.MethodPost, srv.URL+"/console/mute", mute); code != http.StatusForbidden {
		t.Errorf("mute without the CSRF token: %d, want 403", code)
	}
	if ms, _ := h.st.ListMutes(ctx); len(ms) != 0 {
		t.Fatalf("a refused form stored a mute: %+v", ms)
	}
	mute.Set("csrf_token", token)
	code, _, body = c.do(http.MethodPost, srv.URL+"/console/mute", mute)
	if code != http.StatusOK || !strings.Contains(body, "Muted until 2026-01-07 14:30 JST.") ||
		!strings.Contains(body, "route nights muted until 2026-01-07 14:30 JST by bob: deploying payments") {
		t.Fatalf("mute: %d\n%s", code, body)
	}
	ms, _ := h.st.ListMutes(ctx)
	if len(ms) != 1 || ms[0].Route != "nights" || !ms[0].End.Equal(time.Date(2026, 1, 7, 5, 30, 0, 0, time.UTC)) {
		t.Fatalf("stored mutes %+v", ms)
	}
	end := srv.URL + "/console/mute/" + ms[0].ID + "/end"
	if code, _, _ := c.do(http.MethodPost, end, url.Values{}); code != http.StatusForbidden {
		t.Errorf("end without the CSRF token: %d, want 403", code)
	}
	if code, _, body := c.do(http.MethodPost, end, url.Values{"csrf_token": {token}}); code != http.StatusOK || !strings.Contains(body, "The mute ended") {
		t.Errorf("end: %d\n%s", code, body)
	}
	if ms, _ := h.st.ListMutes(ctx); len(ms) != 1 || ms[0].EndedBy != "bob" {
		t.Errorf("after end: %+v", ms)
	}
	for _, bad := range []url.Values{
		{"target": {"route:nope"}, "for": {"30m0s"}, "reason": {"x"}},
		{"target": {"route:nights"}, "for": {"17m0s"}, "reason": {"x"}},
		{"target": {"nights"}, "for": {"30m0s"}, "reason": {"x"}},
	} {
		bad.Set("csrf_token", token)
		if code, _, body := c.do(http.MethodPost, srv.URL+"/console/mute", bad); code != http.StatusBadRequest || !strings.Contains(body, "The mute was refused:") {
			t.Errorf("mute %v: %d\n%s", bad, code, body)
		}
	}
	jaJar, _ := cookiejar.New(nil)
	carol := &proxyClient{t: t, http: &http.Client{Jar: jaJar}, email: "carol@example.com"}
	if code, _, body := carol.do(http.MethodGet, srv.URL+"/console/me", nil); code != http.StatusOK ||
		!strings.Contains(body, "<h2>代わりを頼む</h2>") || !strings.Contains(body, "<h2>今すぐミュート</h2>") {
		t.Errorf("carol's My on-call (ja): %d\n%s", code, body)
	} else {
		// The engine's own refusal is said in carol's language too, whole.
		past := url.Values{"by": {"bob"}, "start": {"2026-01-01T10:00"}, "end": {"2026-01-01T12:00"},
			"csrf_token": {csrfInput.FindStringSubmatch(body)[1]}}
		code, _, body := carol.do(http.MethodPost, srv.URL+"/console/me/cover", past)
		if code != http.StatusBadRequest || !strings.Contains(body, "代わりを保存できませんでした: 終了 (2026-01-01T03:00:00Z) は過ぎています: 代わりはこれからの呼び出しを変えるものです") ||
			strings.Contains(body, "ended already") {
			t.Errorf("carol's cover that ended already: %d\n%s", code, body)
		}
	}
}
