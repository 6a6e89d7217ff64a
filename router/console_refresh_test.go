package router

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// TestConsoleLiveRefresh: the Now page, the incident list and the incident
// page each load the embedded refresh script from the console's origin
// (which their CSP allows, nothing inline), mark the region it re-fetches
// with the interval (sign_in.console_refresh, 15 s by default) and the GET
// that draws it — the page itself, also when a form's POST answered with
// it — and say without JavaScript that a reload shows changes. The Now
// page lists an acknowledged incident with its state, without a button.
func TestConsoleLiveRefresh(t *testing.T) {
	h, _ := rolesHarness(t, consoleRolesConfig)
	srv := consoleServer(t, h, slog.New(slog.DiscardHandler))
	id := pagedIncident(t, h, "Refresh")
	ada := signedInAs(t, "ada@example.com")
	const csp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	status := `<p class="muted" id="refresh-status" aria-live="polite" data-text-on="This page updates itself every 15 seconds." ` +
		`data-text-paused="Updates are paused while you fill in a form." data-text-failed="This page could not update itself: reload it.">Reload the page to see what changed.</p>`
	incPage := fmt.Sprintf("/console/incidents/%d", id)
	for path, src := range map[string]string{"/": "/", "/console/incidents?department=eng": "/console/incidents?department=eng", incPage: incPage} {
		code, hdr, body := ada.do(http.MethodGet, srv.URL+path, nil)
		if code != http.StatusOK || hdr.Get("Content-Security-Policy") != csp {
			t.Errorf("GET %s: %d, CSP %q", path, code, hdr.Get("Content-Security-Policy"))
		}
		for _, want := range []string{`<script src="/console/refresh.js" defer></script></head>`, status,
			fmt.Sprintf(`<main data-refresh="15" data-refresh-src="%s">`, src), "</main>\n</body></html>"} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s lacks %s\n%s", path, want, body)
			}
		}
		if strings.Count(body, "<script") != 1 {
			t.Errorf("GET %s has a script besides the refresh script:\n%s", path, body)
		}
	}
	// The list's filter form is outside the region: a refresh never
	// replaces what is being typed into it.
	_, _, list := ada.do(http.MethodGet, srv.URL+"/console/incidents", nil)
	if strings.Index(list, `<main data-refresh=`) < strings.Index(list, `name="department"`) {
		t.Errorf("the incident list's filter form is inside the refreshed region:\n%s", list)
	}

	code, hdr, js := ada.do(http.MethodGet, srv.URL+"/console/refresh.js", nil)
	want, err := os.ReadFile("console_refresh.js")
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK || js != string(want) || hdr.Get("Content-Type") != "text/javascript; charset=utf-8" || hdr.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET /console/refresh.js: %d %v, the file's %d bytes: %v", code, hdr, len(want), js == string(want))
	}

	// Acknowledged from the incident page, which answers the POST: its
	// refresh is still a GET of the incident.
	_, _, body := ada.do(http.MethodGet, srv.URL+incPage, nil)
	code, _, body = ada.do(http.MethodPost, srv.URL+incPage+"/ack", url.Values{"csrf_token": {csrfInput.FindStringSubmatch(body)[1]}, "from": {"incident"}})
	if code != http.StatusOK || !strings.Contains(body, fmt.Sprintf(`<main data-refresh="15" data-refresh-src="%s">`, incPage)) {
		t.Errorf("the incident page answering its ack: %d\n%s", code, body)
	}
	_, _, now := ada.do(http.MethodGet, srv.URL+"/", nil)
	if !strings.Contains(now, fmt.Sprintf(`<a href="%s">#%d</a> UNKNOWN eng (acked): disk full`, incPage, id)) || strings.Contains(now, incPage+"/ack") {
		t.Errorf("the Now page does not list #%d as acked without a button:\n%s", id, now)
	}
}

// TestConsoleRefreshEverySecond: at the shortest interval the status line
// says "every second" in both languages, not "every 1 seconds".
func TestConsoleRefreshEverySecond(t *testing.T) {
	h, _ := rolesHarness(t, strings.Replace(consoleRolesConfig, "sign_in:\n", "sign_in:\n  console_refresh: 1s\n", 1))
	srv := consoleServer(t, h, slog.New(slog.DiscardHandler))
	for email, want := range map[string]string{
		"ada@example.com": `data-text-on="This page updates itself every second."`,
		"vic@example.com": `data-text-on="このページは 1 秒ごとに自動で更新されます。"`,
	} {
		_, _, body := signedInAs(t, email).do(http.MethodGet, srv.URL+"/", nil)
		if !strings.Contains(body, want) || !strings.Contains(body, `<main data-refresh="1" `) {
			t.Errorf("%s's Now page lacks %s and data-refresh=\"1\":\n%s", email, want, body)
		}
	}
}
