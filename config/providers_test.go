package config

import (
	"os"
	"strings"
	"testing"
)

// TestProviderProblems: every channel a person or chat channel can be
// reached on needs its provider with its credential, or serve refuses; the
// problem points at the missing piece. On the old code none of these was
// reported: serve recorded the messages and called them sent.
func TestProviderProblems(t *testing.T) {
	os.Unsetenv("HIKYAKU_TEST_UNSET")
	t.Setenv("HIKYAKU_TEST_SET", "s3cr3t")
	const open = "receivers: [{name: am, allow_unauthenticated: true}]\n"
	for _, tc := range []struct {
		name string
		yaml string
		want []want
	}{
		{name: "sms contact without twilio", yaml: open + minimal,
			want: []want{{2, 37, `user "alice" has contacts.sms but providers.twilio is not configured`}}},
		{name: "twilio token unset", yaml: open + "providers:\n  twilio:\n    account_sid: AC0123\n    from: \"+815012345678\"\n    auth_token: {env: HIKYAKU_TEST_UNSET}\n" + minimal,
			want: []want{{6, 18, `providers.twilio.auth_token: environment variable HIKYAKU_TEST_UNSET is not set, and user "alice" has contacts.sms at line 7`}}},
		{name: "twilio token set", yaml: open + "providers:\n  twilio:\n    account_sid: AC0123\n    from: \"+815012345678\"\n    auth_token: {env: HIKYAKU_TEST_SET}\n" + minimal},
		{name: "email without smtp, slack channel without slack", yaml: open + `providers:
  twilio: {account_sid: AC0123, from: "+815012345678", auth_token: {env: HIKYAKU_TEST_SET}}
chat_channels: [{id: ops-chat, slack: C0OPS}]
users: [{id: alice, contacts: {sms: "+819011110001", email: alice@example.com}}, {id: bob, contacts: {email: bob@example.com}}]
` + minimal[strings.Index(minimal, "departments:"):],
			want: []want{{4, 39, `chat channel "ops-chat" posts to Slack but providers.slack is not configured`},
				{5, 61, `user "alice" has contacts.email (and 1 more contacts or channels) but providers.smtp is not configured`}}},
		{name: "smtp without authentication needs no password", yaml: open + `providers:
  smtp: {smarthost: "mail:25", from: hikyaku@example.com}
users: [{id: alice, contacts: {email: alice@example.com}}]
` + minimal[strings.Index(minimal, "departments:"):]},
		{name: "webhook needs no provider", yaml: open + `users: [{id: alice, contacts: {webhook: "https://hooks.example.com/a"}}]
` + minimal[strings.Index(minimal, "departments:"):]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tc.yaml), "hikyaku.yml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkProblems(t, cfg.ProviderProblems, tc.want)
			checkProblems(t, cfg.ReceiverProblems, nil)
		})
	}
}

// TestReceiverProblems: a receiver whose credential is unset, or no
// receiver at all, is what serve refuses; a receiver with neither a
// credential nor allow_unauthenticated does not load. The old code loaded
// all of these and answered every post 401 (or accepted anyone's).
func TestReceiverProblems(t *testing.T) {
	os.Unsetenv("HIKYAKU_TEST_UNSET")
	for _, tc := range []struct {
		name     string
		yaml     string
		problems []want
		errs     []want
	}{
		{name: "no receivers", yaml: "", problems: []want{{1, 1, "no receivers: the webhook would accept alerts from any caller"}}},
		{name: "bearer token unset", yaml: "receivers:\n  - name: am\n    bearer_token: {env: HIKYAKU_TEST_UNSET}\n",
			problems: []want{{3, 20, `receiver "am": bearer_token: environment variable HIKYAKU_TEST_UNSET is not set: every post from Alertmanager would be refused with 401`}}},
		{name: "basic auth password unset", yaml: "receivers:\n  - name: am\n    basic_auth: {username: am, password: {env: HIKYAKU_TEST_UNSET}}\n",
			problems: []want{{3, 43, `receiver "am": basic_auth password: environment variable HIKYAKU_TEST_UNSET is not set`}}},
		{name: "bearer token set", yaml: "receivers:\n  - name: am\n    bearer_token: {value: t0ken}\n"},
		{name: "explicitly open", yaml: "receivers:\n  - name: am\n    allow_unauthenticated: true\n"},
		{name: "neither credential nor opt-out", yaml: "receivers:\n  - name: am\n",
			errs: []want{{2, 5, `receiver "am" has no credential: give bearer_token or basic_auth`}}},
		{name: "credential and opt-out", yaml: "receivers:\n  - name: am\n    bearer_token: {value: t0ken}\n    allow_unauthenticated: true\n",
			errs: []want{{4, 28, "allow_unauthenticated accepts any caller: remove it, or remove the credential"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(complete(tc.yaml)), "hikyaku.yml")
			if tc.errs != nil {
				checkErrors(t, err, tc.errs)
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkProblems(t, cfg.ReceiverProblems, tc.problems)
		})
	}
}

func checkProblems(t *testing.T, es Errors, wants []want) {
	t.Helper()
	for i := range max(len(es), len(wants)) {
		switch {
		case i >= len(wants):
			t.Errorf("unexpected %v", es[i])
		case i >= len(es):
			t.Errorf("missing %v", wants[i])
		case es[i].File != "hikyaku.yml" || es[i].Line != wants[i].line || es[i].Column != wants[i].col || !strings.Contains(es[i].Msg, wants[i].msg):
			t.Errorf("%d = %v, want hikyaku.yml:%v", i, es[i], wants[i])
		}
	}
}
