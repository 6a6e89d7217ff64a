package config

import (
	"fmt"
	"strings"
	"testing"
)

const contactsHead = `receivers: [{name: am, allow_unauthenticated: true}]
departments: [{id: ops, escalation_policy: p, rotations: [{id: r, start: "2026-01-05 09:00", shift: 24h, members: [alice]}]}]
escalation_policies: [{id: p, steps: [{targets: {rotations: [r]}, escalate_after: 5m}]}]
default_route: {department: ops}
`

func TestContactWithItsOwnServer(t *testing.T) {
	t.Setenv("HIKYAKU_TEST_ALICE_PUSH", "tk_alice")
	cfg, err := Parse([]byte(contactsHead+`users:
  - id: alice
    contacts:
      push: {topic: alice-pager, server: "https://push.example.com/", token: {env: HIKYAKU_TEST_ALICE_PUSH}}
  - id: bob
    contacts: {push: "https://push.example.org/base/bob-pager"}
`), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := cfg.User("alice"), cfg.User("bob")
	if got := alice.Contacts.Get("push"); got != "https://push.example.com/alice-pager" {
		t.Errorf("alice's address = %q", got)
	}
	ep, ok := alice.Endpoint("push")
	if tok, _ := ep.Token.Reveal(); !ok || ep.Server != "https://push.example.com/" || tok != "tk_alice" {
		t.Errorf("alice's endpoint = %+v (%v), token %q", ep, ok, tok)
	}
	if ep, ok := bob.Endpoint("push"); !ok || ep.Server != "https://push.example.org/base" || !ep.Token.IsZero() {
		t.Errorf("bob's endpoint = %+v, %v: want the server of his URL, no token", ep, ok)
	}
	// Both name their own server: providers.pushsvc is not needed.
	if len(cfg.ProviderProblems) != 0 {
		t.Errorf("provider problems = %v", cfg.ProviderProblems)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", ep, ep, ep), "tk_alice") {
		t.Error("printing the endpoint shows its token")
	}
	if len(alice.Notify) != 1 || alice.Notify[0].Channels[0] != "push" {
		t.Errorf("alice's default notify = %+v", alice.Notify)
	}
}

func TestContactWithItsOwnToken(t *testing.T) {
	cfg, err := Parse([]byte(contactsHead+`users:
  - id: alice
    contacts:
      push: {topic: alice-pager, token: {env: HIKYAKU_TEST_UNSET_PUSH_TOKEN}}
`), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	alice := cfg.User("alice")
	if alice.Contacts.Get("push") != "alice-pager" {
		t.Errorf("address = %q: a topic on the provider's server", alice.Contacts.Get("push"))
	}
	// The provider's server is needed, and the token did not resolve: both refuse serve.
	var msgs []string
	for _, p := range cfg.ProviderProblems {
		msgs = append(msgs, p.Error())
	}
	want := []string{
		"hikyaku.yml:8:42: user \"alice\": contacts.push.token: environment variable HIKYAKU_TEST_UNSET_PUSH_TOKEN is not set",
		"hikyaku.yml:8:14: user \"alice\" has contacts.push but providers.pushsvc is not configured",
	}
	if len(msgs) != len(want) {
		t.Fatalf("provider problems = %q", msgs)
	}
	for i := range want {
		if !strings.HasPrefix(msgs[len(msgs)-1-i], want[i]) {
			t.Errorf("provider problems = %q, want %q", msgs, want[i])
		}
	}
}

func TestContactMappingErrors(t *testing.T) {
	for _, tc := range []struct {
		name, contacts string
		want           []want
	}{
		{"misspelt key", `{push: {topic: a, tokn: {env: X}}}`, []want{{6, 45, `unknown key "tokn" (did you mean "token"?): a contact mapping has topic, server and token`}}},
		{"no topic", `{push: {server: "https://push.example.com"}}`, []want{{6, 35, "topic is required in a contact written as a mapping"}}},
		{"a server that is no URL", `{push: {topic: a, server: "ftp://push.example.com"}}`, []want{{6, 53, `invalid URL "ftp://push.example.com"`}}},
		{"a token that is text", `{push: {topic: a, token: tk_inline}}`, []want{{6, 52, "token must be a mapping: give file:, env: or value:"}}},
		{"a token of two kinds", `{push: {topic: a, token: {env: X, value: y}}}`, []want{{6, 53, "token: give only one of file, env and value"}}},
		{"a topic the channel refuses", `{push: {topic: "a/b", server: "https://push.example.com"}}`, []want{{6, 42, "a push topic has no slash"}}},
		{"a URL for a topic", `{push: {topic: "https://push.example.com/a"}}`, []want{{6, 42, `topic "https://push.example.com/a": give the topic alone and its server as server:`}}},
		{"a number for a topic", `{push: {topic: 42}}`, []want{{6, 42, "topic: 42 is a number, not text"}}},
		{"a mapping where only text goes", `{sms: {topic: a}}`, []want{{6, 34, "sms must be text"}}},
		{"a list", `{push: [a]}`, []want{{6, 34, "push must be text"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(contactsHead+"users:\n  - {id: alice, contacts: "+tc.contacts+"}\n"), "hikyaku.yml")
			checkErrors(t, err, tc.want)
		})
	}
}
