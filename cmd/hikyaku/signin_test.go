package main

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

func TestWithExternalURL(t *testing.T) {
	var seen string
	build := withExternalURL("https://hikyaku.example.com/", func(cfg *config.Config) (map[string]channels.Sender, error) {
		seen = cfg.Global.ExternalURL
		return nil, nil
	})
	cfg := &config.Config{}
	if _, err := build(cfg); err != nil || seen != "https://hikyaku.example.com/" {
		t.Errorf("file without external_url: %v, build saw %q", err, seen)
	}
	cfg.Global.ExternalURL = "https://hikyaku.example.com"
	if _, err := build(cfg); err != nil {
		t.Errorf("the same URL but its trailing slash: %v", err)
	}
	cfg.Global.ExternalURL = "https://other.example.com"
	if _, err := build(cfg); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Errorf("another URL in the file: %v, want a refusal", err)
	}
	bad := withExternalURL("hikyaku.example.com", func(*config.Config) (map[string]channels.Sender, error) { return nil, nil })
	if _, err := bad(&config.Config{}); err == nil || !strings.Contains(err.Error(), "want http:// or https://") {
		t.Errorf("a URL without scheme: %v", err)
	}
}

func TestSessionKeyWithRedisNeedsTheSetting(t *testing.T) {
	_, err := sessionKey(slog.New(slog.DiscardHandler), &config.SignIn{}, serveOptions{storeURL: "redis://127.0.0.1:6379"})
	if err == nil || !strings.Contains(err.Error(), "sign_in.session_key is required with the Redis store") {
		t.Errorf("Redis without session_key: %v", err)
	}
	dir := t.TempDir()
	k1, err := sessionKey(slog.New(slog.DiscardHandler), &config.SignIn{}, serveOptions{dataDir: dir})
	if err != nil || len(k1) != 32 {
		t.Fatalf("embedded store: %v, key of %d bytes", err, len(k1))
	}
	k2, _ := sessionKey(slog.New(slog.DiscardHandler), &config.SignIn{}, serveOptions{dataDir: dir})
	if string(k1) != string(k2) {
		t.Error("a restart made a new key: everyone would have to sign in again")
	}
	k3, err := sessionKey(slog.New(slog.DiscardHandler), &config.SignIn{SessionKey: config.NewSecret("from-the-config-0123456789abcdef")}, serveOptions{storeURL: "redis://x"})
	if err != nil || string(k3) != "from-the-config-0123456789abcdef" {
		t.Errorf("configured key: %q, %v", k3, err)
	}
}
