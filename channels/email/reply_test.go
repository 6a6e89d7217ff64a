package email

import (
	"strings"
	"testing"
)

func TestReplyAddressRoundTrip(t *testing.T) {
	key := []byte("k1")
	for _, tc := range []struct {
		incident int64
		user     string
		base     string
	}{
		{42, "alice", "hikyaku"},
		{7, "", "hikyaku"},
		{123456789, "ops.team-1_a", "alerts"},
		{9, "bob", "ops+hikyaku"}, // the From address is itself a plus-address
	} {
		addr := ReplyAddress(key, tc.incident, tc.user, tc.base, "ack.example.co.jp")
		if !strings.HasPrefix(addr, tc.base+"+") || !strings.HasSuffix(addr, "@ack.example.co.jp") {
			t.Errorf("ReplyAddress = %s, want %s+…@ack.example.co.jp", addr, tc.base)
		}
		inc, user, ok := VerifyReplyAddress(key, addr)
		if !ok || inc != tc.incident || user != tc.user {
			t.Errorf("VerifyReplyAddress(%s) = %d %q %v, want %d %q true", addr, inc, user, ok, tc.incident, tc.user)
		}
		// Some mail systems fold local parts to lower case; the MAC survives it.
		if inc, _, ok := VerifyReplyAddress(key, strings.ToLower(addr)); !ok || inc != tc.incident {
			t.Errorf("lower-cased %s does not verify", addr)
		}
		if _, _, ok := VerifyReplyAddress([]byte("k2"), addr); ok {
			t.Errorf("%s verifies under another key", addr)
		}
	}
}

func TestReplyAddressRejectsForgeries(t *testing.T) {
	key := []byte("k1")
	good := ReplyAddress(key, 42, "alice", "hikyaku", "ack.example.co.jp")
	local := good[:strings.IndexByte(good, '@')]
	mac := local[strings.LastIndexByte(local, '.')+1:]
	for _, addr := range []string{
		"hikyaku+43.alice." + mac + "@ack.example.co.jp",   // another incident
		"hikyaku+42.mallory." + mac + "@ack.example.co.jp", // another user
		"hikyaku+42." + mac + "@ack.example.co.jp",         // user dropped
		"hikyaku+042.alice." + mac + "@ack.example.co.jp",  // same number, other spelling
		"hikyaku+42.alice.aaaaaaaaaaaaaaaa@ack.example.co.jp",
		"hikyaku@ack.example.co.jp",
		"hikyaku+42@ack.example.co.jp",
		"no-at-sign",
		"",
	} {
		if inc, user, ok := VerifyReplyAddress(key, addr); ok {
			t.Errorf("VerifyReplyAddress(%q) = %d %q, want rejection", addr, inc, user)
		}
	}
	if _, _, ok := VerifyReplyAddress(nil, good); ok {
		t.Error("an empty key verifies")
	}
}

func TestReplyAddressFitsTheLocalPartLimit(t *testing.T) {
	key := []byte("k1")
	long := strings.Repeat("u", 60)
	addr := ReplyAddress(key, 42, long, "hikyaku", "ack.example.co.jp")
	local := addr[:strings.IndexByte(addr, '@')]
	if len(local) > maxLocalPart {
		t.Errorf("local part %q is %d octets, over %d", local, len(local), maxLocalPart)
	}
	if inc, user, ok := VerifyReplyAddress(key, addr, "bob", long); !ok || inc != 42 || user != long {
		t.Errorf("VerifyReplyAddress(%s, bob, %s) = %d %q %v, want 42 %q true", addr, long, inc, user, ok, long)
	}
}

// TestReplyAddressBindsALongUserID: the address of a user whose id does not
// fit still proves the person: it verifies for that user only, never as an
// address for anyone.
func TestReplyAddressBindsALongUserID(t *testing.T) {
	key := []byte("k1")
	long := strings.Repeat("u", 60)
	addr := ReplyAddress(key, 42, long, "hikyaku", "ack.example.co.jp")
	if strings.Contains(addr, long) {
		t.Fatalf("%s names the user", addr)
	}
	if inc, user, ok := VerifyReplyAddress(key, addr); ok {
		t.Errorf("VerifyReplyAddress(%s) with no candidate = %d %q, want rejection", addr, inc, user)
	}
	if inc, user, ok := VerifyReplyAddress(key, addr, "bob", strings.Repeat("v", 60)); ok {
		t.Errorf("VerifyReplyAddress(%s) for other users = %d %q, want rejection", addr, inc, user)
	}
	// An address made before the MAC bound long ids binds the incident only
	// (MAC of "42", "", this key, computed independently of replyMAC).
	legacy := "hikyaku+42.tukppaeox3rknkui@ack.example.co.jp"
	if inc, user, ok := VerifyReplyAddress(key, legacy, long); !ok || inc != 42 || user != "" {
		t.Errorf("VerifyReplyAddress(%s) = %d %q %v, want 42 \"\" true", legacy, inc, user, ok)
	}
}

func TestIncidentFromMessageID(t *testing.T) {
	id := MessageID(42, "notify/42/page/0/alice/email", "example.co.jp")
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{id, 42, true},
		{"<" + id + ">", 42, true},
		{" <" + id + "> ", 42, true},
		{ThreadID(42, "example.co.jp"), 42, true},
		{"<hikyaku.42@example.co.jp>", 42, true},
		{"hikyaku.0@example.co.jp", 0, false},
		{"hikyaku.-1@example.co.jp", 0, false},
		{"hikyaku.042@example.co.jp", 0, false},
		{"hikyaku.42.short@example.co.jp", 0, false},
		{"hikyaku.42.AAAAAAAAAAAAAAAA@example.co.jp", 0, false},
		{"other.42@example.co.jp", 0, false},
		{"hikyaku.42", 0, false},
		{"CAF=abc@mail.gmail.com", 0, false},
	} {
		got, ok := IncidentFromMessageID(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("IncidentFromMessageID(%q) = %d %v, want %d %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if MessageID(42, "a", "d") == MessageID(42, "b", "d") {
		t.Error("two keys give one Message-ID")
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                 "plain",
		"a\r\nBcc: x":           "a Bcc: x",
		"\r\n\r\nlead":          "lead",
		"tab\there":             "tab here",
		"決済\u2028改行":            "決済 改行",
		"keep  double  spaces":  "keep  double  spaces",
		"nul\x00and\x7fdel end": "nul and del end",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
