package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/internal/fakesmtp"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
	"github.com/hikyaku/hikyaku/internal/redistest"
)

// TestKilledBetweenSendAndRecordReconciles kills -9 the embedded daemon
// after Twilio took alice's SMS and before hikyaku heard back (the fake
// holds its answer 3 s), then restarts it on the same data dir. The
// restarted daemon finds the SMS in Twilio's message list by its ref and
// records it (notified, reconciled=found) instead of sending it again.
// The old binary sent it a second time.
func TestKilledBetweenSendAndRecordReconciles(t *testing.T) {
	tw := faketwilio.Start(t)
	mail := fakesmtp.Start(t, fakesmtp.Options{})
	tw.Fail(alicePhone, faketwilio.Fault{Hold: 3 * time.Second, Times: 1})
	listen := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	cfg := filepath.Join(t.TempDir(), "hikyaku.yml")
	text := fmt.Sprintf(providerDownConfig, "http://"+listen, apiToken, tw.AccountSID, tw.AuthToken, tw.URL, mail.Addr, webhookToken, alicePhone)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	serve := func(name, listen string) *daemon {
		d := startProcess(t, name, binary, "serve", "--config", cfg, "--listen", listen, "--data-dir", dataDir, "--log-format", "json")
		if _, ok := d.WaitLog(func(l *logLine) bool { return l.Msg == "hikyaku serving" }, startTimeout); !ok {
			t.Fatalf("%s did not start within %s", name, startTimeout)
		}
		d.Addr = listen
		return d
	}
	before := serve("before-crash", listen)
	if code, err := postWebhook(listen, groupMessage(t, "CrashAfterAccept", true)); err != nil || code != http.StatusOK {
		t.Fatalf("post: %d, %v", code, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(tw.Messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if len(tw.Messages()) != 1 {
		t.Fatal("Twilio never got alice's SMS")
	}
	before.Kill() // Twilio has it; hikyaku is still waiting for the answer
	body := tw.Messages()[0].Form.Get("Body")
	if !strings.Contains(body, " ref:") {
		t.Fatalf("SMS body %q carries no ref", body)
	}

	afterAddr := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	serve("after-restart", afterAddr)
	inc := waitIncident(t, afterAddr, groupKey("CrashAfterAccept"), func(v *incidentView) bool {
		return len(v.events("notified")) > 0
	})
	time.Sleep(2 * time.Second) // a re-send would come within the lease; give it time
	if n := len(tw.Messages()); n != 1 {
		t.Errorf("Twilio got %d SMS for alice, want 1: the restart sent it again", n)
	}
	evs := inc.events("notified")
	if len(evs) != 1 || evs[0].Detail["reconciled"] != "found" || evs[0].Detail["provider_id"] != tw.Messages()[0].SID {
		t.Errorf("notified events = %+v, want one with reconciled=found and provider_id %s", evs, tw.Messages()[0].SID)
	}
	if lists := tw.Lists(); len(lists) != 1 || lists[0].Get("To") != alicePhone {
		t.Errorf("Twilio list requests = %v, want one for alice's number", lists)
	}
	if !strings.Contains(metricsText(t, afterAddr), `hikyaku_notifications_reconciled_total{channel="sms",result="found"} 1`) {
		t.Errorf("hikyaku_notifications_reconciled_total{sms,found} is not 1")
	}
}

// TestKilledMidCallReconcilesByCallback kills -9 the embedded daemon after
// Twilio took alice's page call and before hikyaku heard back (the fake
// holds its answer 3 s). Twilio's call record names nothing of the page,
// but its "initiated" call-progress callback reached the daemon before it
// died, signed: the restarted daemon records the call (notified,
// reconciled=found) instead of calling alice again. The old binary asked
// for no such callback and called her twice, marked as a possible duplicate.
func TestKilledMidCallReconcilesByCallback(t *testing.T) {
	tw := faketwilio.Start(t)
	mail := fakesmtp.Start(t, fakesmtp.Options{})
	tw.Fail(alicePhone, faketwilio.Fault{Hold: 3 * time.Second, Times: 1})
	listen := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	cfg := filepath.Join(t.TempDir(), "hikyaku.yml")
	text := fmt.Sprintf(providerDownConfig, "http://"+listen, apiToken, tw.AccountSID, tw.AuthToken, tw.URL, mail.Addr, webhookToken, alicePhone)
	text = strings.Replace(text, `contacts: {sms: "`+alicePhone+`"`, `contacts: {voice: "`+alicePhone+`"`, 1)
	text = strings.Replace(text, "{after: 0s, channels: [sms]}", "{after: 0s, channels: [voice]}", 1)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	serve := func(name, listen string) *daemon {
		d := startProcess(t, name, binary, "serve", "--config", cfg, "--listen", listen, "--data-dir", dataDir, "--log-format", "json")
		if _, ok := d.WaitLog(func(l *logLine) bool { return l.Msg == "hikyaku serving" }, startTimeout); !ok {
			t.Fatalf("%s did not start within %s", name, startTimeout)
		}
		d.Addr = listen
		return d
	}
	before := serve("before-crash", listen)
	if code, err := postWebhook(listen, groupMessage(t, "CrashMidCall", true)); err != nil || code != http.StatusOK {
		t.Fatalf("post: %d, %v", code, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(tw.ProgressPosted()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if p := tw.ProgressPosted(); len(p) != 1 || p[0].Answered != http.StatusNoContent {
		t.Fatalf("initiated callbacks = %+v, want one answered 204", p)
	}
	before.Kill() // Twilio has the call and said so; hikyaku never heard the API's answer
	if n := len(tw.Calls()); n != 1 {
		t.Fatalf("Twilio has %d calls before the restart, want 1", n)
	}

	afterAddr := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	serve("after-restart", afterAddr)
	inc := waitIncident(t, afterAddr, groupKey("CrashMidCall"), func(v *incidentView) bool {
		return len(v.events("notified")) > 0
	})
	time.Sleep(2 * time.Second) // a re-call would come within the lease; give it time
	if n := len(tw.Calls()); n != 1 {
		t.Errorf("Twilio got %d calls to alice, want 1: the restart called her again", n)
	}
	evs := inc.events("notified")
	if len(evs) != 1 || evs[0].Detail["reconciled"] != "found" || evs[0].Detail["possible_duplicate"] != "" {
		t.Errorf("notified events = %+v, want one with reconciled=found, not a possible duplicate", evs)
	}
	if !strings.Contains(metricsText(t, afterAddr), `hikyaku_notifications_reconciled_total{channel="voice",result="found"} 1`) {
		t.Errorf("hikyaku_notifications_reconciled_total{voice,found} is not 1")
	}
}

// TestKilledBeforeCallProgressReconciles kills -9 the embedded daemon in
// the instant after Twilio took alice's page call: hikyaku is still waiting
// for the API's answer (the fake holds it 3 s), and Twilio's "initiated"
// callback comes while no daemon is up, so it is lost (Twilio does not
// retry it). The daemon restarted on the same address finds the call in
// Twilio's call list, in progress and named by no callback, so it waits;
// the call's "ringing" callback names alice's page, and the call is
// recorded (notified, reconciled=found) instead of placed again. The old
// binary, with no mark, called her a second time, marked as a possible
// duplicate.
func TestKilledBeforeCallProgressReconciles(t *testing.T) {
	tw := faketwilio.Start(t)
	mail := fakesmtp.Start(t, fakesmtp.Options{})
	tw.Fail(alicePhone, faketwilio.Fault{Hold: 3 * time.Second, Times: 1})
	tw.SetCallProgress(faketwilio.CallProgress{Initiated: time.Second, Ringing: 7 * time.Second, Answered: -1, Completed: -1})
	listen := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	cfg := filepath.Join(t.TempDir(), "hikyaku.yml")
	text := fmt.Sprintf(providerDownConfig, "http://"+listen, apiToken, tw.AccountSID, tw.AuthToken, tw.URL, mail.Addr, webhookToken, alicePhone)
	text = strings.Replace(text, `contacts: {sms: "`+alicePhone+`"`, `contacts: {voice: "`+alicePhone+`"`, 1)
	text = strings.Replace(text, "{after: 0s, channels: [sms]}", "{after: 0s, channels: [voice]}", 1)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	serve := func(name string) *daemon {
		d := startProcess(t, name, binary, "serve", "--config", cfg, "--listen", listen, "--data-dir", dataDir, "--log-format", "json")
		if _, ok := d.WaitLog(func(l *logLine) bool { return l.Msg == "hikyaku serving" }, startTimeout); !ok {
			t.Fatalf("%s did not start within %s", name, startTimeout)
		}
		d.Addr = listen
		return d
	}
	before := serve("before-crash")
	if code, err := postWebhook(listen, groupMessage(t, "CrashBeforeProgress", true)); err != nil || code != http.StatusOK {
		t.Fatalf("post: %d, %v", code, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(tw.Calls()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if len(tw.Calls()) != 1 {
		t.Fatal("Twilio never got alice's call")
	}
	before.Kill() // Twilio has the call; hikyaku has neither the answer nor a callback
	for len(tw.ProgressPosted()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if p := tw.ProgressPosted(); len(p) != 1 || p[0].Status != "initiated" || p[0].Answered != 0 {
		t.Fatalf("callbacks = %+v, want the initiated one, lost: no daemon was up", p)
	}

	after := serve("after-restart")
	inc := waitIncident(t, listen, groupKey("CrashBeforeProgress"), func(v *incidentView) bool {
		return len(v.events("notified")) > 0
	})
	time.Sleep(2 * time.Second) // a re-call would come at once; give it time
	if n := len(tw.Calls()); n != 1 {
		t.Errorf("Twilio got %d calls to alice, want 1: the restart called her again", n)
	}
	evs := inc.events("notified")
	if len(evs) != 1 || evs[0].Detail["reconciled"] != "found" || evs[0].Detail["possible_duplicate"] != "" {
		t.Errorf("notified events = %+v, want one with reconciled=found, not a possible duplicate", evs)
	}
	if p := tw.ProgressPosted(); len(p) < 2 || p[1].Status != "ringing" || p[1].Answered != http.StatusNoContent {
		t.Errorf("callbacks = %+v, want the ringing one taken by the restarted daemon", p)
	}
	if !strings.Contains(metricsText(t, after.Addr), `hikyaku_notifications_reconciled_total{channel="voice",result="found"} 1`) {
		t.Errorf("hikyaku_notifications_reconciled_total{voice,found} is not 1")
	}
}
