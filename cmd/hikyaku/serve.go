package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/channels/email"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/router"
	"github.com/hikyaku/hikyaku/store"
)

// The HTTP listener's bounds (docs/operations.md, "Memory under floods").
// Every client hikyaku serves sends headers of a few hundred bytes; the
// net/http default of 1 MiB would let each connection hold sixteen times
// this.
const (
	defaultMaxConnections = 1024
	maxHeaderBytes        = 64 << 10
)

// The default addresses. The public port is outside 9090-9999, the block
// the Prometheus ecosystem's default-port allocations are drawn from (9094
// is Alertmanager's cluster port), so hikyaku runs beside any of them; the
// admin listener is on loopback unless the operator says otherwise.
const (
	defaultListen      = ":8585"
	defaultAdminListen = "127.0.0.1:8586"
)

// runServe runs the daemon until SIGTERM or SIGINT; SIGHUP reloads the config.
func runServe(e *env, args []string) int {
	c := newFlags(e, "serve", "serve --config.file FILE [--dry-run] [--web.listen-address ADDR] [--web.admin-listen-address ADDR] [--web.config.file FILE] [--web.admin-config.file FILE] [--web.external-url URL] [--max-connections N] [--smtp-listen ADDR [--smtp-max-sessions N] [--smtp-max-message-bytes N]] [--store URL | --storage.path DIR]")
	dryRun := c.fs.Bool("dry-run", false, "send nothing: record every message in the log (a demo, a trial run); without it serve refuses a channel whose provider is not configured")
	listen := c.fs.String("web.listen-address", defaultListen, "public HTTP listen `address`: Alertmanager's webhook, Twilio and Slack callbacks, action links, the incident API")
	adminListen := c.fs.String("web.admin-listen-address", defaultAdminListen, "admin HTTP listen `address`: /metrics, /-/healthy, /-/ready, /-/reload, the dead-letter API")
	webConfig := c.fs.String("web.config.file", "", "Prometheus web config `file` (TLS, basic auth) of the public listener; empty: plain HTTP")
	adminWebConfig := c.fs.String("web.admin-config.file", "", "Prometheus web config `file` (TLS, basic auth) of the admin listener; empty: plain HTTP")
	externalURL := c.fs.String("web.external-url", "", "`URL` people reach hikyaku at (behind a reverse proxy, its public URL); the console's sign-in redirect is under it; empty: global.external_url")
	oldListen := c.fs.String("listen", "", "deprecated: one listener serving the public and the admin paths; use --web.listen-address and --web.admin-listen-address")
	smtpListen := c.fs.String("smtp-listen", "", "SMTP listen `address` for email replies (e.g. :2525); empty: off")
	smtpSessions := c.fs.Int("smtp-max-sessions", email.DefaultMaxMailSessions, "SMTP connections the reply listener holds at once; more are refused with 421")
	smtpBytes := c.fs.Int64("smtp-max-message-bytes", email.DefaultMaxReplyBytes, "largest reply `bytes` the SMTP listener reads; larger mail is refused with 552")
	storeURL := c.fs.String("store", "", "Redis store `URL` (redis://, rediss://, redis-sentinel://, redis-cluster://); empty: the embedded store")
	dataDir := c.fs.String("storage.path", "data", "`directory` of the embedded store")
	c.fs.StringVar(dataDir, "data-dir", "data", "deprecated alias of --storage.path")
	logFormat := c.fs.String("log-format", "text", "log format: text or json")
	maxConns := c.fs.Int("max-connections", defaultMaxConnections, "most HTTP connections held open at once, per listener; more wait to be accepted")
	if code, ok := c.parse(e, args); !ok {
		return code
	}
	set := map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, pair := range [][2]string{{"config", "config.file"}, {"data-dir", "storage.path"}, {"listen", "web.listen-address"}} {
		if set[pair[0]] && set[pair[1]] {
			return c.usageErr(e, "--%s and --%s are the same setting: give one (--%s is deprecated)", pair[0], pair[1], pair[0])
		}
	}
	if *maxConns < 1 {
		fmt.Fprintf(e.stderr, "hikyaku serve: --max-connections must be at least 1, got %d\n", *maxConns)
		return exitUsage
	}
	var handler slog.Handler = slog.NewTextHandler(e.stderr, nil)
	if *logFormat == "json" {
		handler = slog.NewJSONHandler(e.stderr, nil)
	}
	log := slog.New(handler)
	for _, pair := range [][2]string{{"config", "config.file"}, {"data-dir", "storage.path"}} {
		if set[pair[0]] {
			log.Warn("deprecated flag: use the new name", "flag", "--"+pair[0], "use", "--"+pair[1])
		}
	}
	if set["listen"] {
		*listen = *oldListen
		if !set["web.admin-listen-address"] {
			// The old single listener, so scripts and scrape configs written
			// for it keep working until they move to the two new flags.
			*adminListen = ""
			if set["web.admin-config.file"] {
				return c.usageErr(e, "--web.admin-config.file needs --web.admin-listen-address (--listen serves everything on one listener)")
			}
			log.Warn("deprecated flag --listen: the admin paths (/metrics, /-/reload, /-/ready, /-/healthy, dead letters) are served on this one listener; use --web.listen-address and --web.admin-listen-address to keep them off the public one", "listen", *listen)
		} else {
			log.Warn("deprecated flag: use the new name", "flag", "--listen", "use", "--web.listen-address")
		}
	}

	if *smtpSessions < 1 || *smtpBytes < 1 {
		fmt.Fprintf(e.stderr, "hikyaku serve: --smtp-max-sessions and --smtp-max-message-bytes must be at least 1 (got %d and %d)\n", *smtpSessions, *smtpBytes)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	mailOpts := email.ServerOptions{MaxSessions: *smtpSessions, MaxMessageBytes: *smtpBytes}
	if err := serve(ctx, log, serveOptions{config: c.config, listen: *listen, adminListen: *adminListen,
		webConfig: *webConfig, adminWebConfig: *adminWebConfig, smtpListen: *smtpListen, storeURL: *storeURL,
		dataDir: *dataDir, dryRun: *dryRun, maxConns: *maxConns, mail: mailOpts, externalURL: *externalURL}); err != nil {
		log.Error("hikyaku stopped", "err", err)
		return exitFail
	}
	return exitOK
}

// serveOptions are serve's flags.
type serveOptions struct {
	config, listen, smtpListen, storeURL, dataDir string
	// adminListen is the admin listener's address; empty serves the admin
	// paths on the public listener (the deprecated --listen).
	adminListen string
	// webConfig and adminWebConfig are the listeners' Prometheus web
	// config files (TLS, basic auth); empty is plain HTTP.
	webConfig, adminWebConfig string
	dryRun                    bool
	// maxConns bounds open HTTP connections; 0 is defaultMaxConnections.
	maxConns int
	// mail bounds the SMTP reply listener (sessions, message size).
	mail email.ServerOptions
	// externalURL is --web.external-url; empty is global.external_url.
	externalURL string
	// ready, when set, gets the bound public address.
	ready chan<- string
}

// serve is the daemon's life: load, open the store, listen, run the engine,
// and on ctx's end shut down in order.
func serve(ctx context.Context, log *slog.Logger, o serveOptions) error {
	cfgPath, listen, smtpListen, storeURL, dataDir, ready := o.config, o.listen, o.smtpListen, o.storeURL, o.dataDir, o.ready
	maxConns := o.maxConns
	if maxConns == 0 {
		maxConns = defaultMaxConnections
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	for _, w := range cfg.Warnings {
		log.Warn("configuration warning", "warning", w.Error())
	}
	if cfg.Global.Authorization == config.AuthorizationAnyUser {
		// Said at every start: the file may simply predate roles.
		log.Warn("global.authorization is any_user: any configured user may ack, resolve and escalate any incident; give departments roles to restrict it (docs/config.md, Roles)")
	}
	// Refused before the store is opened: a config serve must not run with
	// takes no lock and leaves nothing behind.
	build := withExternalURL(o.externalURL, buildSenders(log, o.dryRun))
	senders, err := build(cfg)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if o.dryRun {
		log.Warn("dry run: nothing is sent; every message is recorded in this log (timeline and metrics say recorded)")
	}
	store.SetRedisLogger(log) // go-redis's own lines, in the log's format
	st, err := store.Open(ctx, storeURL, dataDir)
	if err != nil {
		return err
	}
	defer func() {
		// The embedded store's last commit writes its freelist: a failure
		// here costs the next start a scan of the file, and should be seen.
		if err := st.Close(); err != nil {
			log.Error("closing the store failed", "err", err)
		}
	}()
	if err := backfillDeliveries(ctx, log, st); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfoCollector())
	metrics := router.NewMetrics(reg)
	// Registered with SMTP off too, so the series are there at 0 from the start.
	mailMetrics := email.NewMetrics(reg)
	reg.MustRegister(router.NewStoreMetrics(st), router.NewDeadLetterGauge(st), router.NewMuteGauge(st, time.Now))
	engine := router.New(policies.Compile(cfg), router.Options{Store: st, Senders: senders, BuildSenders: build, Logger: log, Metrics: metrics, DryRun: o.dryRun})
	srv := &router.Server{Engine: engine, Gatherer: reg,
		Reload:  func(context.Context) error { return engine.Reload(cfgPath) },
		Inbound: inboundRoutes(engine.Receiver(), log)}
	var signInMetrics *access.Metrics
	if cfg.SignIn != nil {
		signInMetrics = access.NewMetrics(reg)
	}
	if srv.Auth, err = signIn(log, cfg, engine, signInMetrics, o); err != nil {
		return fmt.Errorf("sign-in: %w", err)
	}

	if smtpListen != "" {
		// Replies to pages by email (docs/acknowledge.md). Closed by defer
		// before the store is: a reply cut off mid-way is sent again by its relay.
		sln, err := net.Listen("tcp", smtpListen)
		if err != nil {
			return fmt.Errorf("smtp listen: %w", err)
		}
		mailOpts := o.mail
		mailOpts.Metrics, mailOpts.Recovered = mailMetrics, engine.RecoveredSMTP
		smtpSrv := email.NewMailServer(engine.Receiver(), log, mailOpts)
		go func() {
			if err := smtpSrv.Serve(sln); err != nil {
				log.Error("smtp listener stopped", "err", err)
			}
		}()
		defer smtpSrv.Close()
		log.Info("taking email replies", "smtp_listen", sln.Addr().String(),
			"max_sessions", o.mail.MaxSessions, "max_message_bytes", o.mail.MaxMessageBytes)
	}

	adminAuth, err := checkWebConfig(log, o.webConfig, o.adminWebConfig)
	if err != nil {
		return err
	}
	srv.AdminBasicAuth = adminAuth
	httpErr := make(chan error, 2)
	var servers []*http.Server
	defer func() {
		for _, hs := range servers {
			hs.Close() // a start that failed half-way; after Shutdown a no-op
		}
	}()
	// hikyaku_contacts_unverified is on /metrics from the first scrape, as
	// docs/alerts.yml expects; Run recounts it.
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	if err := engine.CountUnverified(cctx); err != nil {
		log.Warn("counting unverified contact methods failed; the engine counts again when it runs", "err", err)
	}
	cancel()
	public := srv.PublicHandler()
	if o.adminListen == "" {
		public = srv.Handler()
	}
	pub, err := startListener(log, "public", listen, o.webConfig, public, maxConns, httpErr)
	if err != nil {
		return err
	}
	servers = append(servers, pub.srv)
	adminAddr := pub.addr
	if o.adminListen != "" {
		adm, err := startListener(log, "admin", o.adminListen, o.adminWebConfig, srv.AdminHandler(), maxConns, httpErr)
		if err != nil {
			return err
		}
		servers = append(servers, adm.srv)
		adminAddr = adm.addr
	}
	log.Info("hikyaku serving", "listen", pub.addr, "admin_listen", adminAddr, "config", cfgPath, "store", storeName(storeURL, dataDir), "dry_run", o.dryRun)
	if ready != nil {
		ready <- pub.addr
	}

	engineCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	engineDone := make(chan error, 1)
	go func() { engineDone <- engine.Run(engineCtx) }()
	go engine.RunRetention(engineCtx)
	go reindexStore(engineCtx, log, st)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for running := true; running; {
		select {
		case <-hup:
			err := engine.Reload(cfgPath) // logged and counted inside; the old config keeps serving on error
			engine.AuditReload(router.WithAuditSource(ctx, router.AuditSource{Addr: "signal"}), "sighup", err)
		case err := <-httpErr:
			stopEngine()
			<-engineDone
			return fmt.Errorf("http: %w", err)
		case <-ctx.Done():
			running = false
		}
	}

	// Shutdown: refuse new alerts with 503 (Alertmanager retries them on another
	// replica), let requests in flight finish, let sends in flight finish,
	// then release our timer claims so no page waits for a lease to expire.
	// Drain before the line: a webhook that arrives once "shutting down" is
	// logged is refused (TestGracefulShutdownHandsOver posts on seeing it).
	srv.Drain()
	log.Info("shutting down")
	shCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, hs := range servers {
		if err := hs.Shutdown(shCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("http shutdown", "err", err)
		}
	}
	stopEngine()
	if err := <-engineDone; err != nil {
		log.Warn("releasing timer claims", "err", err)
	}
	log.Info("stopped")
	return nil
}

func storeName(url, dataDir string) string {
	if url != "" {
		return "redis"
	}
	return "embedded:" + dataDir
}
