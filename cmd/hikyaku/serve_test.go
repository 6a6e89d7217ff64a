package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	code, _, stderr := runCmd(t, "serve", "--config", file, "--listen", "127.0.0.1:0", "--data-dir", dataDir)
	if code != exitFail {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitFail, stderr)
	}
	want := fmt.Sprintf(`%s:%s: user \"alice\" has contacts.sms but providers.twilio is not configured`, file, lineCol(t, smsWithoutTwilio, `"+819011110001"`))
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
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
	code, _, stderr := runCmd(t, "serve", "--config", exampleConfig, "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	if code != exitFail {
		t.Fatalf("exit %d, want %d", code, exitFail)
	}
	for _, secret := range []string{"env: TWILIO_AUTH_TOKEN", "env: SMTP_PASSWORD", "env: SLACK_BOT_TOKEN", "env: HIKYAKU_WEBHOOK_TOKEN"} {
		if !strings.Contains(stderr, at(secret)) {
			t.Errorf("stderr does not point at %s (%s):\n%s", secret, at(secret), stderr)
		}
	}
	code, _, stderr = runCmd(t, "serve", "--dry-run", "--config", exampleConfig, "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	if code != exitFail {
		t.Fatalf("--dry-run without the webhook token: exit %d, want %d", code, exitFail)
	}
	if !strings.Contains(stderr, at("env: HIKYAKU_WEBHOOK_TOKEN")+`receiver \"hikyaku\": bearer_token: environment variable HIKYAKU_WEBHOOK_TOKEN is not set`) {
		t.Errorf("stderr does not name the webhook token:\n%s", stderr)
	}
	if strings.Contains(stderr, "TWILIO_AUTH_TOKEN is not set, and") {
		t.Errorf("--dry-run still refuses the Twilio token:\n%s", stderr)
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
