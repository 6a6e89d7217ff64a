package router

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// calendarConfig has daily 09:00 handoffs in New York and Berlin across
// their 2027 spring DST changes (2027-03-14 and 2027-03-28), and an
// override in New York.
const calendarConfig = `
global:
  timezone: UTC
  external_url: https://oncall.example.com/
  api_token: {value: test-api-token}
users:
  - {id: nina, name: Nina, timezone: America/New_York, contacts: {email: nina@example.com}, notify: [{after: 0s, channels: [email]}]}
  - {id: nick, timezone: America/New_York, contacts: {email: nick@example.com}, notify: [{after: 0s, channels: [email]}]}
  - {id: berta, language: ja, timezone: Europe/Berlin, contacts: {email: berta@example.com}, notify: [{after: 0s, channels: [email]}]}
  - {id: bernd, timezone: Europe/Berlin, contacts: {email: bernd@example.com}, notify: [{after: 0s, channels: [email]}]}
departments:
  - id: us
    name: US ops
    escalation_policy: us
    rotations:
      - id: us-days
        timezone: America/New_York
        start: "2027-03-01 09:00"
        shift: 1d
        members: [nina, nick]
        overrides:
          - {user: nina, start: "2027-03-22 10:00", end: "2027-03-22 14:00"}
  - id: eu
    name: EU ops
    escalation_policy: eu
    rotations:
      - id: eu-days
        name: EU days
        timezone: Europe/Berlin
        start: "2027-03-01 09:00"
        shift: 1d
        members: [berta, bernd]
escalation_policies:
  - id: us
    steps: [{targets: {rotations: [us-days]}, escalate_after: 5m}]
  - id: eu
    steps: [{targets: {rotations: [eu-days]}, escalate_after: 5m}]
default_route:
  department: us
`

// feedNow is a Saturday noon UTC: the horizon (a week back, 8 weeks on)
// holds both DST changes.
var feedNow = time.Date(2027, 3, 20, 12, 0, 0, 0, time.UTC)

type calendarHarness struct {
	*harness
	srv *httptest.Server
}

func newCalendarHarness(t *testing.T) *calendarHarness {
	h := newHarness(t, calendarConfig)
	h.clock.mu.Lock()
	h.clock.t = feedNow
	h.clock.mu.Unlock()
	srv := httptest.NewServer((&Server{Engine: h.engine}).PublicHandler())
	t.Cleanup(srv.Close)
	return &calendarHarness{h, srv}
}

// link makes user's link to feed through the API, with a token of the
// user's own, and returns its URL moved onto the test server.
func (c *calendarHarness) link(user, body string) CalendarLinkView {
	c.t.Helper()
	var v CalendarLinkView
	code, out := c.callAs(user, "/api/v1/calendar/url", body)
	if code != http.StatusOK {
		c.t.Fatalf("POST /api/v1/calendar/url as %s: %d %s", user, code, out)
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		c.t.Fatal(err)
	}
	if !strings.HasPrefix(v.URL, "https://oncall.example.com/calendar/hkc_") {
		c.t.Fatalf("link URL %q is not under global.external_url", v.URL)
	}
	v.URL = c.srv.URL + strings.TrimPrefix(v.URL, "https://oncall.example.com")
	return v
}

func (c *calendarHarness) callAs(user, path, body string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.apiToken(user))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// apiToken stores a per-user API token for user and returns its value.
func (c *calendarHarness) apiToken(user string) string {
	c.t.Helper()
	secret := strings.Repeat("ab", 32)
	id := (user + "0000000000000000")[:16]
	id = strings.Map(func(r rune) rune {
		if strings.ContainsRune("0123456789abcdef", r) {
			return r
		}
		return 'f'
	}, id)
	tk := store.Token{ID: id, User: user, Hash: access.HashSecret(secret), CreatedAt: feedNow}
	if _, err := c.st.Token(c.t.Context(), id); err != nil {
		if err := c.st.AddToken(c.t.Context(), tk); err != nil {
			c.t.Fatal(err)
		}
	}
	return "hky_" + id + "_" + secret
}

func fetchFeed(t *testing.T, u string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

type wantEvent struct{ summary, start, end string }

// eventsOf parses the feed with the library and lists its events' UTC
// instants and summaries.
func eventsOf(t *testing.T, body string) (*ics.Calendar, []wantEvent) {
	t.Helper()
	cal, err := ics.ParseCalendar(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the feed does not parse: %v\n%s", err, body)
	}
	var out []wantEvent
	for _, e := range cal.Events() {
		s, err1 := e.GetStartAt()
		en, err2 := e.GetEndAt()
		if err1 != nil || err2 != nil {
			t.Fatalf("event %s: %v %v", e.Id(), err1, err2)
		}
		sum := e.GetProperty(ics.ComponentPropertySummary)
		if sum == nil || e.GetProperty(ics.ComponentPropertyDtstamp) == nil || e.Id() == "" {
			t.Fatalf("event %s lacks SUMMARY, DTSTAMP or UID", e.Id())
		}
		out = append(out, wantEvent{sum.Value, s.UTC().Format(time.RFC3339), en.UTC().Format(time.RFC3339)})
	}
	return cal, out
}

func TestCalendarFeedMineAcrossNewYorkDST(t *testing.T) {
	c := newCalendarHarness(t)
	link := c.link("nina", "")
	code, hdr, body := fetchFeed(t, link.URL)
	if code != http.StatusOK {
		t.Fatalf("GET me.ics: %d %s", code, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if n := strings.Count(body, "\n"); n != strings.Count(body, "\r\n") || n == 0 {
		t.Errorf("lines must end in CRLF (RFC 5545 3.1): %d LF, %d CRLF", n, strings.Count(body, "\r\n"))
	}
	_, got := eventsOf(t, body)
	want := []wantEvent{
		{"On call: US ops / us-days", "2027-03-13T14:00:00Z", "2027-03-14T13:00:00Z"}, // 09:00 EST to 09:00 EDT: 23 hours
		{"On call: US ops / us-days", "2027-03-15T13:00:00Z", "2027-03-16T13:00:00Z"},
		{"On call: US ops / us-days", "2027-03-17T13:00:00Z", "2027-03-18T13:00:00Z"},
		{"On call: US ops / us-days", "2027-03-19T13:00:00Z", "2027-03-20T13:00:00Z"},
		{"On call: US ops / us-days", "2027-03-21T13:00:00Z", "2027-03-22T13:00:00Z"},
		{"On call: US ops / us-days (override)", "2027-03-22T14:00:00Z", "2027-03-22T18:00:00Z"},
		{"On call: US ops / us-days", "2027-03-23T13:00:00Z", "2027-03-24T13:00:00Z"},
	}
	if len(got) < len(want) {
		t.Fatalf("%d events, want at least %d:\n%s", len(got), len(want), body)
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("event %d = %+v, want %+v", i, got[i], w)
		}
	}
	// The horizon ends 2027-05-15T12:00Z inside nina's shift from 05-14
	// 09:00 EDT, which is written whole, not cut at the horizon.
	if last, w := got[len(got)-1], (wantEvent{"On call: US ops / us-days", "2027-05-14T13:00:00Z", "2027-05-15T13:00:00Z"}); last != w {
		t.Errorf("last event %+v, want %+v", last, w)
	}
	for _, line := range []string{
		"DTSTART;TZID=America/New_York:20270313T090000",
		"DTEND;TZID=America/New_York:20270314T090000",
		"BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n",
		"BEGIN:STANDARD\r\nDTSTART:20261101T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\nEND:STANDARD",
		"BEGIN:DAYLIGHT\r\nDTSTART:20270314T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\nEND:DAYLIGHT",
		"X-WR-CALNAME:hikyaku: my on-call shifts",
		"DTSTAMP:20270320T120000Z",
		"METHOD:PUBLISH",
		"PRODID:-//hikyaku//on-call calendar feed//EN",
	} {
		if !strings.Contains(body, line) {
			t.Errorf("the feed lacks %q:\n%s", line, body)
		}
	}
}

func TestCalendarFeedBerlinInJapanese(t *testing.T) {
	c := newCalendarHarness(t)
	link := c.link("berta", "")
	_, _, body := fetchFeed(t, link.URL)
	_, got := eventsOf(t, body)
	want := []wantEvent{
		{"オンコール: EU ops / EU days", "2027-03-13T08:00:00Z", "2027-03-14T08:00:00Z"},
		{"オンコール: EU ops / EU days", "2027-03-15T08:00:00Z", "2027-03-16T08:00:00Z"},
		{"オンコール: EU ops / EU days", "2027-03-17T08:00:00Z", "2027-03-18T08:00:00Z"},
		{"オンコール: EU ops / EU days", "2027-03-19T08:00:00Z", "2027-03-20T08:00:00Z"},
		{"オンコール: EU ops / EU days", "2027-03-21T08:00:00Z", "2027-03-22T08:00:00Z"},
		{"オンコール: EU ops / EU days", "2027-03-23T08:00:00Z", "2027-03-24T08:00:00Z"},
		{"オンコール: EU ops / EU days", "2027-03-25T08:00:00Z", "2027-03-26T08:00:00Z"},
		{"オンコール: EU ops / EU days", "2027-03-27T08:00:00Z", "2027-03-28T07:00:00Z"}, // 09:00 CET to 09:00 CEST
		{"オンコール: EU ops / EU days", "2027-03-29T07:00:00Z", "2027-03-30T07:00:00Z"},
	}
	for i, w := range want {
		if i >= len(got) || got[i] != w {
			t.Fatalf("events = %+v\nwant to begin %+v", got, want)
		}
	}
	for _, line := range []string{"DTSTART;TZID=Europe/Berlin:20270327T090000", "DTEND;TZID=Europe/Berlin:20270328T090000",
		"BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT",
		"X-WR-TIMEZONE:Europe/Berlin"} {
		if !strings.Contains(body, line) {
			t.Errorf("the feed lacks %q", line)
		}
	}
}

// TestCalendarFeedRotation: a rotation's feed has everyone's shifts, the
// one in force a week back written whole, with UIDs that stay put as the
// horizon moves.
func TestCalendarFeedRotation(t *testing.T) {
	c := newCalendarHarness(t)
	link := c.link("nick", `{"rotation": "us/us-days"}`)
	if !strings.HasSuffix(link.URL, "/rotation/us/us-days.ics") || link.Feed != "us/us-days" {
		t.Fatalf("link %+v", link)
	}
	_, _, body := fetchFeed(t, link.URL)
	cal, got := eventsOf(t, body)
	want := []wantEvent{
		{"nick on call: US ops / us-days", "2027-03-12T14:00:00Z", "2027-03-13T14:00:00Z"}, // from 03-13T12:00Z, whole
		{"Nina (nina) on call: US ops / us-days", "2027-03-13T14:00:00Z", "2027-03-14T13:00:00Z"},
		{"nick on call: US ops / us-days", "2027-03-14T13:00:00Z", "2027-03-15T13:00:00Z"},
	}
	for i, w := range want {
		if i >= len(got) || got[i] != w {
			t.Fatalf("events = %+v\nwant to begin %+v", got, want)
		}
	}
	uid := map[string]string{}
	for _, e := range cal.Events() {
		s, _ := e.GetStartAt()
		uid[s.UTC().Format(time.RFC3339)] = e.Id()
	}
	c.clock.Add(26 * time.Hour)
	_, _, later := fetchFeed(t, link.URL)
	cal2, _ := eventsOf(t, later)
	same := 0
	for _, e := range cal2.Events() {
		s, _ := e.GetStartAt()
		if id, ok := uid[s.UTC().Format(time.RFC3339)]; ok {
			if id != e.Id() {
				t.Errorf("the shift from %v changed UID %s to %s", s, id, e.Id())
			}
			same++
		}
	}
	if same < 50 {
		t.Errorf("only %d events kept their start a day later", same)
	}
	// The token opens its own feed only.
	me := strings.Replace(link.URL, "/rotation/us/us-days.ics", "/me.ics", 1)
	if code, _, _ := fetchFeed(t, me); code != http.StatusNotFound {
		t.Errorf("a rotation link on me.ics: %d, want 404", code)
	}
	other := strings.Replace(link.URL, "/us/us-days.ics", "/eu/eu-days.ics", 1)
	if code, _, _ := fetchFeed(t, other); code != http.StatusNotFound {
		t.Errorf("a rotation link on another rotation: %d, want 404", code)
	}
}

// TestCalendarFeedRevocation: replacing or revoking a link answers 404,
// the same bare 404 as a token never made, and each is counted.
func TestCalendarFeedRevocation(t *testing.T) {
	c := newCalendarHarness(t)
	first := c.link("nina", "")
	second := c.link("nina", "{}")
	rot := c.link("nina", `{"rotation": "eu/eu-days"}`)
	_, _, notFound := fetchFeed(t, c.srv.URL+"/nowhere")
	code, _, body := fetchFeed(t, first.URL)
	if code != http.StatusNotFound || body != notFound {
		t.Errorf("the replaced link: %d %q, want the plain 404 %q", code, body, notFound)
	}
	if code, _, _ := fetchFeed(t, second.URL); code != http.StatusOK {
		t.Fatalf("the new link: %d", code)
	}
	guess := second.URL[:len(c.srv.URL+"/calendar/hkc_")+17] + strings.Repeat("0", 64) + "/me.ics"
	if code, _, body := fetchFeed(t, guess); code != http.StatusNotFound || body != notFound {
		t.Errorf("a right id with a wrong secret: %d %q", code, body)
	}
	if code, out := c.callAs("nina", "/api/v1/calendar/revoke", ""); code != http.StatusOK || !strings.Contains(out, `"revoked": 1`) {
		t.Fatalf("revoke: %d %s", code, out)
	}
	if code, _, body := fetchFeed(t, second.URL); code != http.StatusNotFound || body != notFound {
		t.Errorf("the revoked link: %d %q", code, body)
	}
	if code, _, _ := fetchFeed(t, rot.URL); code != http.StatusOK {
		t.Errorf("revoking me.ics ended the rotation link too: %d", code)
	}
	if code, out := c.callAs("nina", "/api/v1/calendar/revoke", `{"all": true}`); code != http.StatusOK || !strings.Contains(out, `"revoked": 1`) {
		t.Fatalf("revoke all: %d %s", code, out)
	}
	if code, _, _ := fetchFeed(t, rot.URL); code != http.StatusNotFound {
		t.Errorf("the rotation link after revoke all: %d", code)
	}
	if got := counterValue(t, c.engine.metrics.feedRequests.WithLabelValues(feedBadToken)); got != 4 {
		t.Errorf("bad_token counted %v, want 4", got)
	}
	if code, out := c.callAs("nina", "/api/v1/calendar/url", `{"rotation": "us/eu-days"}`); code != http.StatusBadRequest {
		t.Errorf("a rotation of another department: %d %s", code, out)
	}
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+"/api/v1/calendar/url", nil)
	req.Header.Set("Authorization", "Bearer test-api-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a link for the shared api_token: %d, want 403", resp.StatusCode)
	}
}

// TestFeedRepeatedHourInUTC: a handoff in the hour New York repeats on
// 2027-11-07 (01:00-02:00 twice) is written in UTC, which names one
// instant; wall times either side keep their TZID.
func TestFeedRepeatedHourInUTC(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2027, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 11, 10, 0, 0, 0, 0, time.UTC)
	evs := []feedEvent{
		{Source: "r", User: "a", Start: time.Date(2027, 11, 7, 5, 30, 0, 0, time.UTC), End: time.Date(2027, 11, 7, 6, 30, 0, 0, time.UTC), Summary: "x"},
		{Source: "r", User: "b", Start: time.Date(2027, 11, 7, 7, 0, 0, 0, time.UTC), End: time.Date(2027, 11, 7, 14, 0, 0, 0, time.UTC), Summary: "y"},
	}
	var b strings.Builder
	if err := writeFeed(&b, "n", ny, from, from, to, evs); err != nil {
		t.Fatal(err)
	}
	body := b.String()
	for _, line := range []string{"DTSTART:20271107T053000Z", "DTEND:20271107T063000Z",
		"DTSTART;TZID=America/New_York:20271107T020000", "DTEND;TZID=America/New_York:20271107T090000",
		"BEGIN:STANDARD\r\nDTSTART:20271107T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\n"} {
		if !strings.Contains(body, line) {
			t.Errorf("the feed lacks %q:\n%s", line, body)
		}
	}
	_, got := eventsOf(t, body)
	want := []wantEvent{{"x", "2027-11-07T05:30:00Z", "2027-11-07T06:30:00Z"}, {"y", "2027-11-07T07:00:00Z", "2027-11-07T14:00:00Z"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("events %+v, want %+v", got, want)
	}
}

// BenchmarkCalendarFeed: one me.ics and one rotation feed of 9 weeks of
// daily shifts, built and written (no HTTP).
func BenchmarkCalendarFeed(b *testing.B) {
	cfg, err := config.Parse([]byte(calendarConfig), "test.yml")
	if err != nil {
		b.Fatal(err)
	}
	set := policies.Compile(cfg)
	from, to := feedNow.Add(-feedBack), feedNow.Add(feedAhead)
	ny, _ := time.LoadLocation("America/New_York")
	for b.Loop() {
		for _, feed := range []string{feedMe, "us/us-days"} {
			name, evs, err := buildFeed(set, "en", "nina", feed, from, to)
			if err != nil {
				b.Fatal(err)
			}
			if err := writeFeed(io.Discard, name, ny, feedNow, from, to, evs); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestCalendarFeedAfterReload: a link whose person or rotation the
// configuration no longer has is the bare 404, counted as such.
func TestCalendarFeedAfterReload(t *testing.T) {
	c := newCalendarHarness(t)
	nick := c.link("nick", "")
	rot := c.link("nina", `{"rotation": "eu/eu-days"}`)
	cfgText := strings.Replace(calendarConfig, "  - {id: nick, timezone: America/New_York, contacts: {email: nick@example.com}, notify: [{after: 0s, channels: [email]}]}\n", "", 1)
	cfgText = strings.Replace(cfgText, "members: [nina, nick]", "members: [nina]", 1)
	cfgText = strings.Replace(cfgText, "      - id: eu-days\n", "      - id: eu-nights\n", 1)
	cfgText = strings.Replace(cfgText, "rotations: [eu-days]", "rotations: [eu-nights]", 1)
	cfg, err := config.Parse([]byte(cfgText), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	c.engine.SetPolicies(policies.Compile(cfg))
	_, _, notFound := fetchFeed(t, c.srv.URL+"/nowhere")
	for _, u := range []string{nick.URL, rot.URL} {
		if code, _, body := fetchFeed(t, u); code != http.StatusNotFound || body != notFound {
			t.Errorf("%s after the reload: %d %q, want the plain 404", u, code, body)
		}
	}
	m := c.engine.metrics.feedRequests
	if a, b := counterValue(t, m.WithLabelValues(feedNoUser)), counterValue(t, m.WithLabelValues(feedGone)); a != 1 || b != 1 {
		t.Errorf("no_user %v, gone %v; want 1 each", a, b)
	}
}

// TestCalendarFeedStoredCover: a cover stored at run time (hikyaku
// override add) is in both feeds at once, marked as an override.
func TestCalendarFeedStoredCover(t *testing.T) {
	c := newCalendarHarness(t)
	mine := c.link("nina", "")
	rot := c.link("nick", `{"rotation": "us/us-days"}`)
	// 2027-03-24 is nick's day (09:00 EDT = 13:00Z to 13:00Z); nina takes 15:00Z-19:00Z.
	if _, err := c.engine.AddOverride(t.Context(), "nick", CoverRequest{For: "nick", By: "nina",
		Start: time.Date(2027, 3, 24, 15, 0, 0, 0, time.UTC), End: time.Date(2027, 3, 24, 19, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	_, _, body := fetchFeed(t, mine.URL)
	_, got := eventsOf(t, body)
	if w := (wantEvent{"On call: US ops / us-days (override)", "2027-03-24T15:00:00Z", "2027-03-24T19:00:00Z"}); !slices.Contains(got, w) {
		t.Errorf("nina's feed lacks %+v:\n%+v", w, got)
	}
	_, _, body = fetchFeed(t, rot.URL)
	_, got = eventsOf(t, body)
	for _, w := range []wantEvent{
		{"nick on call: US ops / us-days", "2027-03-24T13:00:00Z", "2027-03-24T15:00:00Z"},
		{"Nina (nina) on call: US ops / us-days (override)", "2027-03-24T15:00:00Z", "2027-03-24T19:00:00Z"},
		{"nick on call: US ops / us-days", "2027-03-24T19:00:00Z", "2027-03-25T13:00:00Z"},
	} {
		if !slices.Contains(got, w) {
			t.Errorf("the rotation's feed lacks %+v:\n%+v", w, got)
		}
	}
}
