package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
)

// browserStep is each escalation step's wait in the browser test: time for
// Chromium to load three pages and press a button between step 1 and 2 on
// a loaded machine, short enough to keep the test well under a minute.
const browserStep = 8 * time.Second

// browserRefresh is the console's live refresh in the browser test: short,
// so an ack from the CLI shows on the open page within the test's time.
const browserRefresh = 2 * time.Second

// shownPage is what the browser shows after a navigation: the answer's status
// and the page's text as a person reads it (innerText).
type shownPage struct {
	code int64
	text string
}

// visit runs nav (a Navigate or a Click that loads a page) and reads the
// page it leads to.
func visit(t *testing.T, ctx context.Context, what string, nav chromedp.Action[chromedp.Void]) shownPage {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, nav)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatalf("%s: reading the page: %v", what, err)
	}
	return shownPage{code: resp.Status, text: text}
}

// want fails unless the page answered 200 and says every one of texts.
func (p shownPage) want(t *testing.T, what string, texts ...string) {
	t.Helper()
	if p.code != http.StatusOK {
		t.Errorf("%s: status %d, want 200\n%s", what, p.code, p.text)
	}
	for _, s := range texts {
		if !strings.Contains(p.text, s) {
			t.Errorf("%s does not say %q:\n%s", what, s, p.text)
		}
	}
}

// wantSpan checks that text has one line "FROM<sep>TO<suffix>" and that it
// spans the 4 weeks from now, cut at both ends: FROM is the minute of now
// (or the next, should the page have been drawn a minute later).
func wantSpan(t *testing.T, what, text, sep, suffix string, now time.Time) {
	t.Helper()
	const layout = "2006-01-02 15:04 MST"
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasSuffix(l, suffix) {
			lines = append(lines, strings.TrimSuffix(l, suffix))
		}
	}
	if len(lines) != 1 {
		t.Errorf("%s: %d lines ending %q, want 1:\n%s", what, len(lines), suffix, text)
		return
	}
	from, to, _ := strings.Cut(lines[0], sep)
	start, err1 := time.Parse(layout, from)
	end, err2 := time.Parse(layout, to)
	lo := now.Truncate(time.Minute)
	if err1 != nil || err2 != nil || start.Before(lo) || start.After(lo.Add(time.Minute)) || end.Sub(start) != 28*24*time.Hour {
		t.Errorf("%s: %q, want the 4 weeks from %s (%v, %v)", what, lines[0], lo.Format(layout), err1, err2)
	}
}

// oncallSecondary is who `hikyaku oncall --server` says is on call in
// rotation secondary, the server's stored covers applied, and whether by
// an override.
func oncallSecondary(t *testing.T, env *ackEnv) (string, bool) {
	t.Helper()
	cmd := exec.Command(binary, "oncall", "--config", env.Config, "--server", env.External, "--output", "json")
	cmd.Env = append(os.Environ(), "HIKYAKU_API_TOKEN="+apiToken)
	out, err := cmd.CombinedOutput()
	var entries []struct {
		Rotation, User string
		Override       bool
	}
	if err != nil || json.Unmarshal(out, &entries) != nil {
		t.Fatalf("hikyaku oncall --server: %v\n%s", err, out)
	}
	for _, en := range entries {
		if en.Rotation == "secondary" {
			return en.User, en.Override
		}
	}
	t.Fatalf("hikyaku oncall has no rotation secondary:\n%s", out)
	return "", false
}

// TestConsoleInBrowser drives a headless Chromium through a running
// `hikyaku serve` as a person would: a real OpenID sign-in (mockoidc on
// loopback), the Now page saying who is on call, the incident opened from
// it and acknowledged with its button between step 1 (alice paged) and
// step 2, after which nobody else is paged (bob's step-2 SMS never reaches
// the fake Twilio, while a control incident's does); then the calendar and
// My on-call, whose test page button pages bob by SMS outside MTTA and
// whose cover form makes `hikyaku oncall --server` say alice instead of
// bob and shows in bob's calendar feed; the open Now page shows an ack
// from the CLI without a reload; and without JavaScript the pages still
// work. Each page is saved as a PNG (HIKYAKU_SCREENSHOTS keeps them).
func TestConsoleInBrowser(t *testing.T) {
	t.Parallel()
	ctx := newChromium(t, 1280, 800)
	shots := screenshotDir(t)
	idp := startOIDCProvider(t)
	secretFile := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte(idp.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := startAckEnvStep(t, browserStep, "", fmt.Sprintf(`sign_in:
  console_refresh: %ds
  oidc:
    issuer: %s
    client_id: %s
    client_secret: {file: %s}
`, int(browserRefresh.Seconds()), idp.Issuer(), idp.ClientID, secretFile))

	// bob reads English (the screenshots are the docs'); the sign-in goes
	// to the provider and back to the page asked for.
	idp.QueueUser(&mockoidc.MockUser{Subject: "sub-bob", Email: "bob@example.com", EmailVerified: true})
	now := time.Now().UTC()
	// Independently of policies: primary hands over daily at 00:00 UTC,
	// secondary weekly on Mondays (its start, 2026-01-05, is a Monday);
	// each has one member, so the next shift is theirs again.
	day := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
	monday := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	week := monday.Add((now.Sub(monday)/(7*24*time.Hour) + 1) * 7 * 24 * time.Hour)
	const layout = "2006-01-02 15:04 MST"
	home := visit(t, ctx, "the console before signing in", chromedp.Navigate(env.External+"/"))
	home.want(t, "the Now page after the sign-in", "Signed in as Bob (bob)", "On call now",
		"Rotation primary: Alice (alice) until "+day.Format(layout), "next: Alice (alice) from "+day.Format(layout),
		"Rotation secondary: Bob (bob) until "+week.Format(layout), "No coverage gaps in the next 7 days.", "No open incidents.",
		fmt.Sprintf("This page updates itself every %d seconds.", int(browserRefresh.Seconds())))
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || loc != env.External+"/" {
		t.Errorf("after the sign-in the browser is at %q (%v), want %s/", loc, err, env.External)
	}

	id, control := env.alert(t, "BrowserAck"), env.alert(t, "BrowserAckControl")
	opened := time.Now()
	env.smsPage(t, alicePhone, id)
	// The fake has the SMS before hikyaku hears Twilio's answer and writes
	// the notified event the incident page must show.
	waitFor(t, fmt.Sprintf("incident %d's page to alice on its timeline", id), 10*time.Second, func() bool { return env.paged(t, id, "alice") })
	home = visit(t, ctx, "the Now page with the incident", chromedp.Reload())
	home.want(t, "the Now page with the incident", "Open incidents", fmt.Sprintf("#%d", id), "end-to-end test alert BrowserAck")
	screenshot(t, ctx, shots, "console-now")

	inc := visit(t, ctx, "the incident's link", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/console/incidents/%d"]`, id))))
	inc.want(t, "the incident page", fmt.Sprintf("#%d", id), "Status\nopen", "Escalation plan", "Timeline", "step_fired", "notified")
	acked := visit(t, ctx, "the incident page's Acknowledge button",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/console/incidents/%d/ack"] button`, id))))
	acked.want(t, "the incident page after Acknowledge", fmt.Sprintf("Incident #%d acknowledged by bob.", id),
		"Status\nacked", "Acknowledged by\nbob", "acked\tbob\tvia=console")
	if took := time.Since(opened); took >= browserStep {
		t.Fatalf("the ack came %s after the incident opened, after step 2 was due (%s): the test proves nothing", took, browserStep)
	} else {
		t.Logf("acknowledged in the browser %s after the incident opened", took.Round(time.Millisecond))
	}
	env.wantAcked(t, id, "bob", "console")
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || loc != fmt.Sprintf("%s/console/incidents/%d/ack", env.External, id) {
		t.Errorf("after Acknowledge the browser is at %q (%v), want the form's action", loc, err)
	}
	screenshot(t, ctx, shots, "console-incident")

	home = visit(t, ctx, "the Now page", chromedp.Navigate(env.External+"/"))
	cal := visit(t, ctx, "the calendar link of primary", chromedp.Click(chromedp.CSS(`a[href="/console/calendar/primary"]`)))
	cal.want(t, "primary's calendar", "Shifts of primary, next 4 weeks", "Times are in UTC (UTC).")
	// alice's one turn after another are one stretch, cut at now and 4 weeks.
	wantSpan(t, "primary's calendar", cal.text, " – ", ": Alice (alice)", now)
	screenshot(t, ctx, shots, "console-calendar")

	home = visit(t, ctx, "the Now page", chromedp.Navigate(env.External+"/"))
	me := visit(t, ctx, "the My on-call link", chromedp.Click(chromedp.CSS(`a[href="/console/me"]`)))
	me.want(t, "bob's My on-call", "My on-call", "My shifts in the next 4 weeks", "after 0s: sms, email, slack", "sms: "+bobPhone, "email: bob@example.com", "slack: "+bobSlack)
	wantSpan(t, "bob's My on-call", me.text, " to ", ": ops, secondary", now)
	screenshot(t, ctx, shots, "console-me")

	// Send me a test page (while step 2 of the control incident is awaited):
	// the SMS button pages bob at the fake Twilio, he acknowledges it from
	// the Now page, and no incident metric moves.
	_, before := scrape(t, env.Addr)
	tested := visit(t, ctx, "My on-call's test page on SMS",
		chromedp.Click(chromedp.CSS(`form[action="/console/me/test-page"]:has(input[name="channel"][value="sms"]) button`)))
	tm := regexp.MustCompile(`Test page #(\d+) sent to you on sms: acknowledge it as you would a real page\.`).FindStringSubmatch(tested.text)
	if tm == nil {
		t.Fatalf("My on-call after the SMS test page button:\n%s", tested.text)
	}
	test, _ := strconv.ParseInt(tm[1], 10, 64)
	waitFor(t, fmt.Sprintf("test page #%d's SMS to bob", test), 10*time.Second, func() bool {
		for _, msg := range env.Twilio.Messages() {
			if b := msg.Form.Get("Body"); msg.Form.Get("To") == bobPhone && strings.Contains(b, "TEST PAGE from hikyaku") && strings.Contains(b, fmt.Sprintf("%d ack", test)) {
				return true
			}
		}
		return false
	})
	visit(t, ctx, "the Now page with bob's test page", chromedp.Navigate(env.External+"/")).want(t, "the Now page with bob's test page",
		fmt.Sprintf("#%d TEST ops (open)", test))
	visit(t, ctx, "the test page's Acknowledge button", chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/console/incidents/%d/ack"] button`, test)))).
		want(t, "the Now page after acknowledging the test page", fmt.Sprintf("Incident #%d acknowledged by bob.", test))
	if v := env.incident(t, test); v.Status != "resolved" || v.AckedBy != "bob" || v.Test == nil || v.Test.User != "bob" || v.Test.Channel != "sms" || v.Test.RequestedBy != "bob" {
		t.Errorf("test page #%d: %s by %q, %+v; want bob's SMS test page, resolved by his ack", test, v.Status, v.AckedBy, v.Test)
	}
	_, after := scrape(t, env.Addr)
	for _, name := range []string{"hikyaku_time_to_ack_seconds_count", "hikyaku_incidents_acked_total", "hikyaku_incidents_opened_total"} {
		if b, a := grepLines(before, name), grepLines(after, name); b != a {
			t.Errorf("%s moved with a test page:\nbefore %s\nafter  %s", name, b, a)
		}
	}
	if !strings.Contains(after, `hikyaku_test_pages_total{department="ops",result="acked"} 1`) {
		t.Errorf("the acknowledged test page is not counted:\n%s", grepLines(after, "hikyaku_test_pages_total"))
	}

	// Before the cover below, which moves step 2 from bob to alice.
	env.noFurtherPages(t, id, control)

	// bob has alice cover him with My on-call's form, as offered: from
	// now for an hour. hikyaku oncall against the server, and the Now
	// page, then say alice, as an override, until the cover's end.
	if who, ov := oncallSecondary(t, env); who != "bob" || ov {
		t.Fatalf("hikyaku oncall before the cover: secondary %s (override %v), want bob", who, ov)
	}
	visit(t, ctx, "My on-call", chromedp.Navigate(env.External+"/console/me"))
	covered := visit(t, ctx, "My on-call's cover form", chromedp.Click(chromedp.CSS(`form[action="/console/me/cover"] button`)))
	covered.want(t, "My on-call after the cover", "alice covers you from ", "alice covers bob from ")
	if who, ov := oncallSecondary(t, env); who != "alice" || !ov {
		t.Errorf("hikyaku oncall after the cover: secondary %s (override %v), want alice as an override", who, ov)
	}

	// The cover is in bob's calendar feed: My on-call's link, fetched as a
	// calendar app does, leaves the hour alice covers out of his shifts.
	m := regexp.MustCompile(`alice covers bob from (.+?) to (.+? UTC)`).FindStringSubmatch(covered.text)
	if m == nil {
		t.Fatalf("My on-call does not say when alice covers bob:\n%s", covered.text)
	}
	coverStart, err1 := time.Parse(layout, m[1])
	coverEnd, err2 := time.Parse(layout, m[2])
	if err1 != nil || err2 != nil {
		t.Fatalf("the cover's times %q, %q: %v %v", m[1], m[2], err1, err2)
	}
	linked := visit(t, ctx, "My on-call's calendar link button", chromedp.Click(chromedp.CSS(`form[action="/console/me/calendar"] button`)))
	linked.want(t, "My on-call after making the calendar link", "A new calendar link was made", "Your new link (shown this once; copy it now):")
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`a[href*="/calendar/hkc_"]`), "href"))
	if err != nil || !strings.HasPrefix(href.Value, env.External+"/calendar/hkc_") || !strings.HasSuffix(href.Value, "/me.ics") {
		t.Fatalf("My on-call shows the link %q (%v)", href.Value, err)
	}
	wantCoverInFeed(t, href.Value, coverStart, coverEnd)

	home = visit(t, ctx, "the Now page after the cover", chromedp.Navigate(env.External+"/"))
	home.want(t, "the Now page after the cover", "Rotation secondary: Alice (alice) [override] until ")
	// The rotation's calendar page marks the hour as alice's override,
	// between bob's shifts.
	visit(t, ctx, "the calendar link of secondary", chromedp.Click(chromedp.CSS(`a[href="/console/calendar/secondary"]`))).
		want(t, "secondary's calendar after the cover", "Shifts of secondary, next 4 weeks",
			coverStart.Format(layout)+" – "+coverEnd.Format(layout)+": Alice (alice) [override]",
			coverEnd.Format(layout)+" – ")

	// Live refresh: the Now page, left open, shows the control incident
	// acknowledged from the CLI without a reload (the marker set in the
	// page survives: the document was never reloaded).
	visit(t, ctx, "the Now page", chromedp.Navigate(env.External+"/")).want(t, "the Now page before the CLI's ack",
		fmt.Sprintf("#%d CRITICAL ops (open): end-to-end test alert BrowserAckControl", control))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.hikyakuNotReloaded = true`)); err != nil {
		t.Fatal(err)
	}
	ack := exec.Command(binary, "ack", strconv.FormatInt(control, 10))
	ack.Env = append(os.Environ(), "HIKYAKU_API_TOKEN="+apiToken, "HIKYAKU_SERVER="+env.External)
	if out, err := ack.CombinedOutput(); err != nil {
		t.Fatalf("hikyaku ack %d: %v\n%s", control, err, out)
	}
	ackedAt := time.Now()
	shown := fmt.Sprintf("#%d CRITICAL ops (acked): end-to-end test alert BrowserAckControl", control)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`document.querySelector("main").innerText.includes(%q)`, shown),
		chromedp.WithPollingTimeout(browserRefresh+5*time.Second))); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("the open Now page does not show %q after the CLI's ack: %v\n%s", shown, err, text)
	}
	t.Logf("the Now page showed the CLI's ack %s after it", time.Since(ackedAt).Round(time.Millisecond))
	if same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.hikyakuNotReloaded === true`)); err != nil || !same {
		t.Errorf("the Now page was reloaded to show the ack (%v)", err)
	}
	if ackForms, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll('form[action="/console/incidents/%d/ack"]').length`, control))); err != nil || ackForms != 0 {
		t.Errorf("the refreshed Now page still offers Acknowledge for #%d: %d forms (%v)", control, ackForms, err)
	}

	typingPausesRefresh(t, ctx, env, id)

	list := visit(t, ctx, "the incident list", chromedp.Navigate(env.External+"/console/incidents"))
	list.want(t, "the incident list", "Incidents", fmt.Sprintf("#%d CRITICAL ops (acked): end-to-end test alert BrowserAck ", id),
		fmt.Sprintf("#%d CRITICAL ops (acked): end-to-end test alert BrowserAckControl", control))
	screenshot(t, ctx, shots, "console-list")

	// Without JavaScript the console is the same server-rendered page: it
	// says a reload shows changes, and its links work.
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("turning JavaScript off: %v", err)
	}
	noJS := visit(t, ctx, "the Now page without JavaScript", chromedp.Navigate(env.External+"/"))
	noJS.want(t, "the Now page without JavaScript", "Reload the page to see what changed.", "Rotation secondary: Alice (alice) [override] until ",
		fmt.Sprintf("#%d CRITICAL ops (acked): end-to-end test alert BrowserAckControl", control))
	if strings.Contains(noJS.text, "updates itself") {
		t.Errorf("without JavaScript the Now page says it updates itself:\n%s", noJS.text)
	}
	visit(t, ctx, "the incident list's link without JavaScript", chromedp.Click(chromedp.CSS(`a[href="/console/incidents"]`))).
		want(t, "the incident list without JavaScript", "Reload the page to see what changed.", fmt.Sprintf("#%d CRITICAL ops (acked)", id))
}

// typingPausesRefresh: on the incident page, a note being typed is not
// thrown away by the live refresh. A note added from the CLI meanwhile
// changes the page the refresh would fetch; for three intervals the text
// typed stays, the status line says updates are paused, and the CLI's note
// is not drawn. Sending the form then stores the typed note and the page
// answering it shows both notes, and the status line says it updates again.
func typingPausesRefresh(t *testing.T, ctx context.Context, env *ackEnv, id int64) {
	t.Helper()
	page := fmt.Sprintf("%s/console/incidents/%d", env.External, id)
	visit(t, ctx, "the incident page", chromedp.Navigate(page)).want(t, "the incident page before typing", "Add the note")
	const typed, fromCLI = "typed while the page refreshes", "noted from the CLI meanwhile"
	if _, err := chromedp.Run(ctx, chromedp.SendKeys(chromedp.CSS(`form.note textarea[name="text"]`), typed)); err != nil {
		t.Fatalf("typing into the note field: %v", err)
	}
	note := exec.Command(binary, "incidents", "note", strconv.FormatInt(id, 10), fromCLI)
	note.Env = append(os.Environ(), "HIKYAKU_API_TOKEN="+apiToken, "HIKYAKU_SERVER="+env.External)
	if out, err := note.CombinedOutput(); err != nil {
		t.Fatalf("hikyaku incidents note %d: %v\n%s", id, err, out)
	}
	time.Sleep(3 * browserRefresh)
	state, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector('form.note textarea[name="text"]').value,
		document.getElementById("refresh-status").textContent, document.querySelector("main").innerText]`))
	if err != nil || len(state) != 3 {
		t.Fatalf("reading the incident page: %v %v", state, err)
	}
	if state[0] != typed {
		t.Errorf("after %s of typing the note field holds %q, want %q: the refresh replaced it", 3*browserRefresh, state[0], typed)
	}
	if state[1] != "Updates are paused while you fill in a form." {
		t.Errorf("while typing the status line says %q", state[1])
	}
	if strings.Contains(state[2], fromCLI) {
		t.Errorf("the page was refreshed while a note was being typed:\n%s", state[2])
	}
	sent := visit(t, ctx, "the note form's button", chromedp.Click(chromedp.CSS(`form.note button`)))
	sent.want(t, "the incident page after sending the note", typed, fromCLI,
		fmt.Sprintf("This page updates itself every %d seconds.", int(browserRefresh.Seconds())))
}

// wantCoverInFeed fetches a person's calendar feed with no cookie, as a
// calendar app does, parses it back (RFC 5545) and checks that their
// secondary shifts stop when the cover starts and go on when it ends.
func wantCoverInFeed(t *testing.T, link string, coverStart, coverEnd time.Time) {
	t.Helper()
	resp, err := client.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
		t.Fatalf("GET the feed: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	cal, err := ics.ParseCalendar(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("the feed does not parse: %v\n%s", err, body)
	}
	var upTo, from bool
	for _, e := range cal.Events() {
		start, err1 := e.GetStartAt()
		end, err2 := e.GetEndAt()
		sum := e.GetProperty(ics.ComponentPropertySummary)
		if err1 != nil || err2 != nil || sum == nil {
			t.Fatalf("event %s: %v %v, summary %v", e.Id(), err1, err2, sum)
		}
		if sum.Value != "On call: Ops / secondary" {
			continue
		}
		upTo = upTo || end.Equal(coverStart)
		from = from || start.Equal(coverEnd)
		if start.Before(coverEnd) && end.After(coverStart) {
			t.Errorf("bob's feed has him on call %s–%s, during alice's cover %s–%s", start, end, coverStart, coverEnd)
		}
	}
	if !upTo || !from {
		t.Errorf("bob's feed lacks a shift ending at the cover's start %s (%v) or one starting at its end %s (%v):\n%s", coverStart, upTo, coverEnd, from, body)
	}
}
