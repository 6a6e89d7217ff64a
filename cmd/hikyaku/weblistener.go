package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/prometheus/exporter-toolkit/web"
)

// The web config file is the Prometheus ecosystem's --web.config.file
// format (tls_server_config, basic_auth_users, http_server_config), read by
// exporter-toolkit, so operators reuse what they already write for
// Prometheus and Alertmanager. exporter-toolkit rereads it on every
// connection: a new certificate or password needs no restart.

// boundListener is one HTTP listener serving.
type boundListener struct {
	srv  *http.Server
	addr string
}

// startListener listens on addr and serves h there through exporter-toolkit
// (TLS and basic auth when webConfig says so); Serve's end is sent on errc.
func startListener(log *slog.Logger, name, addr, webConfig string, h http.Handler, maxConns int, errc chan<- error) (boundListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return boundListener{}, fmt.Errorf("%s listener: %w", name, err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: maxHeaderBytes, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	flags := &web.FlagConfig{WebListenAddresses: &[]string{addr}, WebSystemdSocket: new(bool), WebConfigFile: &webConfig}
	go func() {
		if err := web.Serve(newLimitListener(ln, maxConns), hs, flags, log.With("listener", name)); err != nil && err != http.ErrServerClosed {
			errc <- fmt.Errorf("%s listener: %w", name, err)
		}
	}()
	return boundListener{srv: hs, addr: ln.Addr().String()}, nil
}

// checkWebConfig refuses a web config file exporter-toolkit would refuse,
// before anything listens, and says whether the admin one checks basic auth
// (its user is then the audit stream's actor of a reload).
func checkWebConfig(log *slog.Logger, public, admin string) (adminAuth bool, err error) {
	for i, f := range []struct{ flag, path string }{{"--web.config.file", public}, {"--web.admin-config.file", admin}} {
		if f.path == "" {
			continue
		}
		if err := web.Validate(f.path); err != nil {
			return false, fmt.Errorf("%s %s: %w", f.flag, f.path, err)
		}
		users, err := webConfigUsers(f.path)
		if err != nil {
			return false, fmt.Errorf("%s %s: %w", f.flag, f.path, err)
		}
		switch {
		case i == 1:
			adminAuth = users > 0
		case users > 0:
			log.Warn("the public listener's web config requires basic auth: Slack's interaction callbacks cannot send it, and Twilio only with the credentials in the callback URLs", "file", f.path)
		}
	}
	return adminAuth, nil
}

// webConfigUsers counts a web config's basic_auth_users.
func webConfigUsers(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var c struct {
		Users map[string]string `yaml:"basic_auth_users"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		return 0, fmt.Errorf("reading basic_auth_users: %w", err)
	}
	return len(c.Users), nil
}
