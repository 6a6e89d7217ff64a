package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// testChannels stand for the registry's channels (channels/all), which
// config's own tests cannot import: the same names, order and rules.
func testChannels() []ChannelSpec {
	slackUser := regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	return []ChannelSpec{
		{Name: "sms", Provider: "twilio", ReportRank: 40, Metered: true, Check: CheckE164},
		{Name: "voice", Provider: "twilio", Metered: true, Check: CheckE164},
		{Name: "slack", Provider: "slack", ReportRank: 20, Check: func(id string) error {
			if !slackUser.MatchString(id) {
				return fmt.Errorf("invalid Slack user id %q: it looks like U012AB3CD", id)
			}
			return nil
		}},
		{Name: "email", Provider: "smtp", ReportRank: 10, Check: CheckEmail},
		{Name: "webhook", Provider: "webhook", NoAccount: true, ReportRank: 30, Check: CheckHTTPURL},
		{Name: "push", Provider: "pushsvc", ReportRank: 35, Endpoint: "topic", Check: func(topic string) error {
			if rest, ok := strings.CutPrefix(topic, "https://"); ok {
				topic = rest[strings.LastIndex(rest, "/")+1:]
			}
			if strings.Contains(topic, "/") {
				return errors.New("a push topic has no slash")
			}
			return nil
		}},
	}
}

func TestMain(m *testing.M) {
	UseChannels(testChannels()...)
	os.Exit(m.Run())
}

func TestOpenChannel(t *testing.T) {
	const head = `receivers: [{name: am, allow_unauthenticated: true}]
departments: [{id: ops, escalation_policy: p, rotations: [{id: r, start: "2026-01-05 09:00", shift: 24h, members: [alice]}]}]
escalation_policies: [{id: p, steps: [{targets: {rotations: [r]}, escalate_after: 5m}]}]
default_route: {department: ops}
`
	for _, tc := range []struct {
		name string
		yaml string
		want []want
	}{
		{name: "a contact the channel refuses", yaml: head + `users: [{id: alice, contacts: {push: "a/b"}}]
providers: {pushsvc: {url: "https://push.example.com"}}
`, want: []want{{5, 38, "a push topic has no slash"}}},
		{name: "a contact no channel has", yaml: head + `users: [{id: alice, contacts: {pager: "123"}}]
`, want: []want{{5, 39, `unknown contact "pager": want sms, voice, slack, email, webhook or push`}}},
		{name: "an open provider's URL", yaml: head + `users: [{id: alice, contacts: {push: "alice"}}]
providers: {pushsvc: {url: "ftp://push.example.com"}}
`, want: []want{{6, 28, `invalid URL "ftp://push.example.com"`}}},
		{name: "a contact that is no text", yaml: head + `users: [{id: alice, contacts: {push: [alice], sms: {n: 1}}}]
`, want: []want{{5, 38, "push must be text"}, {5, 53, "sms must be text"}}},
		{name: "a provider nobody registered", yaml: head + `users: [{id: alice, contacts: {push: "alice"}}]
providers: {pager: {url: "https://push.example.com"}}
`, want: []want{{6, 13, `unknown key "pager"`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "hikyaku.yml")
			checkErrors(t, err, tc.want)
		})
	}
}

func TestOpenProviderSettings(t *testing.T) {
	t.Setenv("HIKYAKU_TEST_PUSH_TOKEN", "tk_1")
	cfg, err := Parse([]byte(`receivers: [{name: am, allow_unauthenticated: true}]
providers: {pushsvc: {url: "https://push.example.com", token: {env: HIKYAKU_TEST_PUSH_TOKEN}}}
users: [{id: alice, contacts: {push: alice-pager, voice: "+819011110001"}}]
departments: [{id: ops, escalation_policy: p, rotations: [{id: r, start: "2026-01-05 09:00", shift: 24h, members: [alice]}]}]
escalation_policies: [{id: p, steps: [{targets: {rotations: [r]}, escalate_after: 5m}]}]
default_route: {department: ops}
`), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	ps := cfg.Providers.Setting("pushsvc")
	if ps == nil || ps.URL != "https://push.example.com" {
		t.Fatalf("providers.pushsvc = %+v", ps)
	}
	if tok, ok := ps.Token.Reveal(); !ok || tok != "tk_1" {
		t.Errorf("token = %q, %v", tok, ok)
	}
	// Twilio is missing for voice; the push service is configured.
	if len(cfg.ProviderProblems) != 1 || !strings.Contains(cfg.ProviderProblems[0].Msg, "providers.twilio is not configured") {
		t.Errorf("provider problems = %v", cfg.ProviderProblems)
	}
	alice := cfg.User("alice")
	if len(alice.Notify) != 2 || alice.Notify[0].Channels[0] != "push" || alice.Notify[1].Channels[0] != "voice" || alice.Notify[1].After.D() != DefaultVoiceDelay {
		t.Errorf("default notify = %+v: want push at once, voice after %s", alice.Notify, DefaultVoiceDelay)
	}
	if got, want := fmt.Sprint(cfg.ReportChannels()), "[email slack webhook push sms]"; got != want {
		t.Errorf("report channels = %s, want %s", got, want)
	}
}
