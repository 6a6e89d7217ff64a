package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/router"
)

// signIn makes the console's sign-in from the configuration's sign_in, or
// nil without one. Its settings are read here only: a reload changes the
// users an email maps to, not how people sign in (docs/operations.md,
// "Sign-in").
func signIn(log *slog.Logger, cfg *config.Config, engine *router.Engine, metrics *access.Metrics, o serveOptions) (*access.Auth, error) {
	if cfg.SignIn == nil {
		return nil, nil
	}
	key, err := sessionKey(log, cfg.SignIn, o)
	if err != nil {
		return nil, err
	}
	return access.New(access.Options{SignIn: cfg.SignIn, Key: key, ExternalURL: cfg.Global.ExternalURL,
		Config: func() *config.Config { return engine.Policies().Config() }, Log: log, Metrics: metrics})
}

// withExternalURL gives --web.external-url to every configuration serve
// loads, at start and at each reload, before build sees it: it fills in
// global.external_url when the file has none, and a file that names
// another URL is refused, since hikyaku is reached at one URL.
func withExternalURL(flag string, build senderBuilder) senderBuilder {
	if flag == "" {
		return build
	}
	return func(cfg *config.Config) (map[string]channels.Sender, error) {
		u, err := url.Parse(flag)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("--web.external-url %q: want http:// or https:// with a host", flag)
		}
		if g := cfg.Global.ExternalURL; g != "" && strings.TrimRight(g, "/") != strings.TrimRight(flag, "/") {
			return nil, fmt.Errorf("--web.external-url %s and global.external_url %s differ: hikyaku is reached at one URL; give one, or the same", flag, g)
		}
		cfg.Global.ExternalURL = flag
		return build(cfg)
	}
}

// sessionKey is sign_in.session_key, or one generated into the embedded
// store's directory. A generated key needs no secret to manage and never
// leaves the machine, and it survives restarts with the store beside it;
// it cannot serve several replicas (each would refuse the others'
// cookies), which only the Redis store has, so there the key is required.
func sessionKey(log *slog.Logger, s *config.SignIn, o serveOptions) ([]byte, error) {
	if k, ok := s.SessionKey.Reveal(); ok {
		log.Info("session cookies signed with sign_in.session_key")
		return []byte(k), nil
	}
	if !s.SessionKey.IsZero() {
		return nil, errors.New("sign_in.session_key is configured but its file or environment variable is not set")
	}
	if o.storeURL != "" {
		return nil, errors.New("sign_in.session_key is required with the Redis store: every replica must accept the session cookies the others issue")
	}
	key, err := access.LoadOrCreateKey(o.dataDir)
	if err != nil {
		return nil, err
	}
	log.Info("session cookies signed with the key kept in the store's directory", "file", access.KeyFile, "storage_path", o.dataDir)
	return key, nil
}

// senderBuilder makes the channels' senders for a configuration
// (router.Options.BuildSenders).
type senderBuilder = func(*config.Config) (map[string]channels.Sender, error)
