package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestSignInDefaultsAndLookups(t *testing.T) {
	cfg, err := Parse([]byte(complete(`users:
  - {id: alice, contacts: {email: Alice@Example.com}}
  - {id: bob, contacts: {sms: "+819011110002"}}
sign_in:
  oidc: {issuer: "http://127.0.0.1:5556/dex", client_id: hikyaku, client_secret: {value: s3cret}}
  trusted_proxy: {sources: [10.1.0.0/16, 127.0.0.1, "::1"]}
`)), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.SignIn
	if s.SessionTTL.D() != DefaultSessionTTL {
		t.Errorf("session_ttl: %s, want the default 12h", s.SessionTTL)
	}
	if s.ConsoleRefresh.D() != 15*time.Second {
		t.Errorf("console_refresh: %s, want the default 15s", s.ConsoleRefresh)
	}
	if got := strings.Join(s.OIDC.Scopes, " "); got != "openid email" {
		t.Errorf("scopes: %q, want the default \"openid email\"", got)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	if len(s.TrustedProxy.Prefixes) != 3 {
		t.Fatalf("prefixes %v, want %v", s.TrustedProxy.Prefixes, want)
	}
	for i := range want {
		if s.TrustedProxy.Prefixes[i] != want[i] {
			t.Errorf("prefix %d: %v, want %v", i, s.TrustedProxy.Prefixes[i], want[i])
		}
	}
	if u := cfg.UserByEmail("alice@example.COM"); u == nil || u.ID != "alice" {
		t.Errorf("UserByEmail ignores case: got %v, want alice", u)
	}
	if u := cfg.UserByEmail(""); u != nil {
		t.Errorf("UserByEmail(\"\") = %s: an empty email is nobody's", u.ID)
	}
}

func TestSignInRefusals(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"nothing to sign in with", "sign_in: {session_ttl: 1h}\n", "2:11: sign_in needs oidc, trusted_proxy or both"},
		{"plain http issuer", "sign_in:\n  oidc: {issuer: \"http://idp.example.com\", client_id: x, client_secret: {value: y}}\n", "3:18: issuer \"http://idp.example.com\" is plain http"},
		{"no client id", "sign_in:\n  oidc: {issuer: \"https://idp.example.com\", client_secret: {value: y}}\n", "client_id is required"},
		{"no client secret", "sign_in:\n  oidc: {issuer: \"https://idp.example.com\", client_id: x}\n", "client_secret is required"},
		{"scopes without email", "sign_in:\n  oidc: {issuer: \"https://idp.example.com\", client_id: x, client_secret: {value: y}, scopes: [openid, profile]}\n", "scopes must include \"email\""},
		{"trust everyone", "sign_in:\n  trusted_proxy: {sources: [0.0.0.0/0]}\n", "trusts every address"},
		{"bad source", "sign_in:\n  trusted_proxy: {sources: [10.0.0.0/33]}\n", "invalid source \"10.0.0.0/33\""},
		{"no sources", "sign_in:\n  trusted_proxy: {sources: []}\n", "sources is required"},
		{"short session key", "sign_in:\n  session_key: {value: short}\n  trusted_proxy: {sources: [127.0.0.1]}\n", "session_key must be at least 32 characters"},
		{"refresh too often", "sign_in:\n  console_refresh: 500ms\n  trusted_proxy: {sources: [127.0.0.1]}\n", "3:20: console_refresh 500ms: want between 1s and 1h"},
		{"refresh in part seconds", "sign_in:\n  console_refresh: 1500ms\n  trusted_proxy: {sources: [127.0.0.1]}\n", "3:20: console_refresh 1s500ms: want whole seconds"},
		{"ttl too long", "sign_in:\n  session_ttl: 60d\n  trusted_proxy: {sources: [127.0.0.1]}\n", "session_ttl 60d: want between 5m and 30d"},
		{"one email, two users", "users:\n  - {id: a, contacts: {email: x@example.com}}\n  - {id: b, contacts: {email: X@example.com}}\nsign_in:\n  trusted_proxy: {sources: [127.0.0.1]}\n", "3:31: email \"X@example.com\" is also users[0]'s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			snippet := tt.yaml
			if !strings.HasPrefix(snippet, "users:") {
				snippet = "users: [{id: alice, contacts: {email: alice@example.com}}]\n" + snippet
			}
			_, err := Parse([]byte(complete(snippet)), "hikyaku.yml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
