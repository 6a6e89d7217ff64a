package router

import (
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/store"
)

// testPageForm is one of My on-call's test page buttons: the channel it
// posts ("" is the notification rules) and its label.
var testPageForm = regexp.MustCompile(`<form method="post" action="/console/me/test-page"><input type="hidden" name="csrf_token" value="[^"]+"><input type="hidden" name="channel" value="([^"]*)"><button>([^<]+)</button></form>`)

// TestConsoleTestPageButtons: My on-call offers rei one test page button
// per contact method and one for her notification rules; pressing the SMS
// one sends her a test page through the engine's test-page path (recorded
// as asked by her via the console, the SMS at the sender, counted in
// hikyaku_test_pages_total and in no incident list), and the page says
// which incident it is. The rules button pages her by her rules; a channel
// she has no contact on is refused with the reason.
func TestConsoleTestPageButtons(t *testing.T) {
	cfgText := strings.Replace(consoleRolesConfig,
		`{id: rei, contacts: {sms: "+819000000002", email: rei@example.com}}`,
		`{id: rei, contacts: {sms: "+819000000002", email: rei@example.com}, notify: [{after: 0s, channels: [sms]}]}`, 1)
	h, _ := rolesHarness(t, cfgText)
	srv := consoleServer(t, h, slog.New(slog.DiscardHandler))
	rei := signedInAs(t, "rei@example.com")

	code, _, body := rei.do(http.MethodGet, srv.URL+"/console/me", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /console/me: %d\n%s", code, body)
	}
	var buttons []string
	for _, m := range testPageForm.FindAllStringSubmatch(body, -1) {
		buttons = append(buttons, m[1]+"="+m[2])
	}
	eq(t, "rei's test page buttons", buttons, []string{"=By my notification rules", "sms=On sms", "email=On email"})
	token := csrfInput.FindStringSubmatch(body)[1]

	code, _, body = rei.do(http.MethodPost, srv.URL+"/console/me/test-page", url.Values{"csrf_token": {token}, "channel": {"sms"}})
	if code != http.StatusOK || !strings.Contains(body, "Test page #1 sent to you on sms: acknowledge it as you would a real page.") {
		t.Fatalf("the SMS button: %d\n%s", code, body)
	}
	inc, err := h.st.Get(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if tp := inc.Test; tp == nil || tp.User != "rei" || tp.Channel != "sms" || tp.RequestedBy != "rei" || inc.Severity != TestSeverity {
		t.Errorf("incident 1 is %+v (test %+v), want rei's test page on sms asked by rei", inc, inc.Test)
	}
	tl, _ := h.st.Timeline(t.Context(), 1)
	if len(tl) == 0 || tl[0].Type != "created" || tl[0].Actor != "rei" || tl[0].Detail["via"] != "console" || tl[0].Detail["test_page"] != "rei" {
		t.Errorf("test page's first timeline entry %+v, want created by rei via console", tl)
	}
	h.process()
	msgs := h.sent.Messages()
	if len(msgs) != 1 || msgs[0].Kind != channels.KindPage || msgs[0].To != "+819000000002" || !msgs[0].Incident.Test ||
		!strings.Contains(msgs[0].Text, "TEST PAGE from hikyaku") {
		t.Fatalf("at the SMS sender: %+v, want one test page to rei's +819000000002", msgs)
	}
	if got := testutil.ToFloat64(h.engine.metrics.testPages.WithLabelValues("eng", "sent")); got != 1 {
		t.Errorf("hikyaku_test_pages_total{eng,sent} = %v, want 1", got)
	}
	if got := series(h.engine.metrics.timeToAck) + series(h.engine.metrics.opened); got != 0 {
		t.Errorf("a test page moved the incident metrics: %d series", got)
	}
	// Not an incident to the other people's lists; rei's Now page shows
	// her own test page.
	if _, _, list := signedInAs(t, "ada@example.com").do(http.MethodGet, srv.URL+"/console/incidents", nil); strings.Contains(list, `href="/console/incidents/1"`) {
		t.Errorf("the incident list shows rei's test page to ada:\n%s", list)
	}
	if _, _, now := rei.do(http.MethodGet, srv.URL+"/", nil); !strings.Contains(now, `href="/console/incidents/1"`) {
		t.Errorf("rei's Now page lacks her own open test page:\n%s", now)
	}

	h.clock.Add(time.Minute) // a test page's key is its instant: the same one twice is one page
	code, _, body = rei.do(http.MethodPost, srv.URL+"/console/me/test-page", url.Values{"csrf_token": {token}, "channel": {""}})
	if code != http.StatusOK || !strings.Contains(body, "Test page #2 sent to you by your notification rules (sms): acknowledge it as you would a real page.") {
		t.Errorf("the rules button: %d\n%s", code, body)
	}
	if inc, err := h.st.Get(t.Context(), 2); err != nil || inc.Test == nil || inc.Test.Channel != "" {
		t.Errorf("incident 2: %+v %v, want rei's test page by her rules", inc, err)
	}

	// vic has the default rules and no voice contact: a channel without
	// a contact is refused in her Japanese with the engine's reason.
	vic := signedInAs(t, "vic@example.com")
	_, _, body = vic.do(http.MethodGet, srv.URL+"/console/me", nil)
	buttons = nil
	for _, m := range testPageForm.FindAllStringSubmatch(body, -1) {
		buttons = append(buttons, m[1]+"="+m[2])
	}
	eq(t, "vic's test page buttons", buttons, []string{"=通知ルールどおりに", "sms=sms で", "email=email で"})
	code, _, body = vic.do(http.MethodPost, srv.URL+"/console/me/test-page", url.Values{"csrf_token": {csrfInput.FindStringSubmatch(body)[1]}, "channel": {"voice"}})
	if code != http.StatusBadRequest || !strings.Contains(body, `テスト呼び出しを送れませんでした: test page: vic has no voice contact`) {
		t.Errorf("vic's test page on voice: %d, want 400 with the reason\n%s", code, body)
	}
	if page, _ := h.st.Query(t.Context(), store.ListOptions{Severity: TestSeverity}); len(page.Incidents) != 2 {
		t.Errorf("%d test pages stored, want rei's 2", len(page.Incidents))
	}
}
