package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels/dryrun"
	"github.com/hikyaku/hikyaku/config"
)

// smsWithoutTwilio pages alice by SMS and configures no Twilio.
const smsWithoutTwilio = `receivers:
  - name: am
    bearer_token: {value: hook-token}
users:
  - id: alice
    contacts: {sms: "+819011110001"}
departments: [{id: ops, escalation_policy: page, rotations: [{id: primary, start: "2026-01-05 09:00", shift: 1w, members: [alice]}]}]
escalation_policies: [{id: page, steps: [{targets: {rotations: [primary]}}]}]
default_route: {department: ops}
`

// serveRefusal runs serve with o and returns its error, which must come
// at once: should serve start instead (a regression), the context ends it
// after a while and the test fails rather than hangs.
func serveRefusal(t *testing.T, o serveOptions) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	o.listen = "127.0.0.1:0"
	err := serve(ctx, slog.New(slog.DiscardHandler), o)
	if err == nil {
		t.Fatalf("serve %+v started and ran until stopped: want it refused at once", o)
	}
	return err.Error()
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hikyaku.yml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeRefusesAChannelWithoutItsProvider: serve exits 1 naming the
// FILE:LINE:COL of the SMS contact that no Twilio can carry, before it
// opens the store. On the old code it started and recorded the pages as sent.
func TestServeRefusesAChannelWithoutItsProvider(t *testing.T) {
	file := writeFile(t, smsWithoutTwilio)
	dataDir := filepath.Join(t.TempDir(), "data")
	msg := serveRefusal(t, serveOptions{config: file, dataDir: dataDir})
	want := fmt.Sprintf(`%s:%s: user "alice" has contacts.sms but providers.twilio is not configured`, file, lineCol(t, smsWithoutTwilio, `"+819011110001"`))
	if !strings.Contains(msg, want) {
		t.Errorf("error lacks %q:\n%s", want, msg)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("the store was opened (%s: %v) by a serve that refused to start", dataDir, err)
	}
}

// TestServeRefusesTheExampleUnlessDryRun: the example on a fresh machine
// has no provider secrets. Without --dry-run serve names each; with it the
// only thing still refused is the unset webhook token, which --dry-run
// does not excuse (Alertmanager would get 401 for every alert).
func TestServeRefusesTheExampleUnlessDryRun(t *testing.T) {
	for _, v := range []string{"TWILIO_AUTH_TOKEN", "SMTP_PASSWORD", "SLACK_BOT_TOKEN", "HIKYAKU_WEBHOOK_TOKEN"} {
		t.Setenv(v, "")
	}
	data, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) string { return exampleConfig + ":" + lineCol(t, string(data), s) + ": " }
	msg := serveRefusal(t, serveOptions{config: exampleConfig, dataDir: t.TempDir()})
	for _, secret := range []string{"env: TWILIO_AUTH_TOKEN", "env: SMTP_PASSWORD", "env: SLACK_BOT_TOKEN", "env: HIKYAKU_WEBHOOK_TOKEN"} {
		if !strings.Contains(msg, at(secret)) {
			t.Errorf("error does not point at %s (%s):\n%s", secret, at(secret), msg)
		}
	}
	msg = serveRefusal(t, serveOptions{config: exampleConfig, dataDir: t.TempDir(), dryRun: true})
	if !strings.Contains(msg, at("env: HIKYAKU_WEBHOOK_TOKEN")+`receiver "hikyaku": bearer_token: environment variable HIKYAKU_WEBHOOK_TOKEN is not set`) {
		t.Errorf("error does not name the webhook token:\n%s", msg)
	}
	if strings.Contains(msg, "TWILIO_AUTH_TOKEN is not set, and") {
		t.Errorf("--dry-run still refuses the Twilio token:\n%s", msg)
	}
}

// TestDryRunSendersRecordEverything: in dry run every channel, webhooks
// included, is the dry-run sender, which keeps nothing; without it the
// providers are the real ones.
func TestDryRunSendersRecordEverything(t *testing.T) {
	t.Setenv("HIKYAKU_WEBHOOK_TOKEN", "hook-token")
	cfg := loadExample(t)
	senders, err := buildSenders(slog.New(slog.DiscardHandler), true)(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []config.Channel{config.ChannelSMS, config.ChannelVoice, config.ChannelEmail, config.ChannelSlack, config.ChannelWebhook} {
		if _, ok := senders[string(ch)].(dryrun.Sender); !ok {
			t.Errorf("%s: sender %T, want dryrun.Sender", ch, senders[string(ch)])
		}
	}
	if _, err := buildSenders(slog.New(slog.DiscardHandler), false)(cfg); err == nil {
		t.Error("without --dry-run the example without provider secrets was accepted")
	}
}

// TestCheckSaysWhatServeRefuses: check reports, as warnings, each problem
// serve would refuse to start with, once, at the secret; --strict fails.
func TestCheckSaysWhatServeRefuses(t *testing.T) {
	t.Setenv("TWILIO_AUTH_TOKEN", "")
	data, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "check", "--config", exampleConfig, "--from", "2026-11-23 00:00")
	if code != exitOK {
		t.Fatalf("exit %d, want %d: check warns, it does not refuse", code, exitOK)
	}
	pos := exampleConfig + ":" + lineCol(t, string(data), "env: TWILIO_AUTH_TOKEN") + ": warning: "
	want := pos + "providers.twilio.auth_token: environment variable TWILIO_AUTH_TOKEN is not set, and user \"yamada\" has contacts.sms at line " +
		strings.Split(lineCol(t, string(data), `sms: "+819011110001"`), ":")[0]
	if !strings.Contains(stderr, want) || !strings.Contains(stderr, "hikyaku serve refuses to start unless --dry-run") {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if n := strings.Count(stderr, pos); n != 1 {
		t.Errorf("%d warnings at %s, want one:\n%s", n, pos, stderr)
	}
	if code, _, _ := runCmd(t, "check", "--strict", "--config", exampleConfig, "--from", "2026-11-23 00:00"); code != exitFail {
		t.Errorf("check --strict: exit %d, want %d", code, exitFail)
	}
}
