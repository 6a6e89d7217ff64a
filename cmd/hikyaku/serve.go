package main

import (
	"context"
	"errors"
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

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/router"
	"github.com/hikyaku/hikyaku/store"
)

// runServe runs the daemon until SIGTERM or SIGINT; SIGHUP reloads the config.
func runServe(e *env, args []string) int {
	c := newFlags(e, "serve", "serve --config FILE [--listen ADDR] [--smtp-listen ADDR] [--store URL | --data-dir DIR]")
	listen := c.fs.String("listen", ":9094", "HTTP listen `address`")
	smtpListen := c.fs.String("smtp-listen", "", "SMTP listen `address` for email replies (e.g. :2525); empty: off")
	storeURL := c.fs.String("store", "", "Redis store `URL` (redis://, rediss://, redis-sentinel://, redis-cluster://); empty: the embedded store")
	dataDir := c.fs.String("data-dir", "data", "`directory` of the embedded store")
	logFormat := c.fs.String("log-format", "text", "log format: text or json")
	if code, ok := c.parse(e, args); !ok {
		return code
	}
	var handler slog.Handler = slog.NewTextHandler(e.stderr, nil)
	if *logFormat == "json" {
		handler = slog.NewJSONHandler(e.stderr, nil)
	}
	log := slog.New(handler)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := serve(ctx, log, c.config, *listen, *smtpListen, *storeURL, *dataDir, nil); err != nil {
		log.Error("hikyaku stopped", "err", err)
		return exitFail
	}
	return exitOK
}

// serve is the daemon's life: load, open the store, listen, run the engine,
// and on ctx's end shut down in order. ready, when set, gets the bound address.
func serve(ctx context.Context, log *slog.Logger, cfgPath, listen, smtpListen, storeURL, dataDir string, ready chan<- string) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	for _, w := range cfg.Warnings {
		log.Warn("configuration warning", "warning", w.Error())
	}
	st, err := store.Open(ctx, storeURL, dataDir)
	if err != nil {
		return err
	}
	defer st.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := router.NewMetrics(reg)
	reg.MustRegister(router.NewOutboxDepth(st), router.NewDeadLetterGauge(st))
	build := buildSenders(log)
	senders, err := build(cfg)
	if err != nil {
		return fmt.Errorf("providers: %w", err)
	}
	engine := router.New(policies.Compile(cfg), router.Options{Store: st, Senders: senders, BuildSenders: build, Logger: log, Metrics: metrics})
	srv := &router.Server{Engine: engine, Gatherer: reg,
		Reload: func(context.Context) error { return engine.Reload(cfgPath) }}

	if smtpListen != "" {
		// Replies to pages by email (docs/acknowledge.md). Closed by defer
		// before the store is: a reply cut off mid-way is sent again by its relay.
		sln, err := net.Listen("tcp", smtpListen)
		if err != nil {
			return fmt.Errorf("smtp listen: %w", err)
		}
		smtpSrv := router.NewMailServer(engine)
		go func() {
			if err := smtpSrv.Serve(sln); err != nil {
				log.Error("smtp listener stopped", "err", err)
			}
		}()
		defer smtpSrv.Close()
		log.Info("taking email replies", "smtp_listen", sln.Addr().String())
	}

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	httpSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	httpErr := make(chan error, 1)
	go func() { httpErr <- httpSrv.Serve(ln) }()
	log.Info("hikyaku serving", "listen", ln.Addr().String(), "config", cfgPath, "store", storeName(storeURL, dataDir))
	if ready != nil {
		ready <- ln.Addr().String()
	}

	engineCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	engineDone := make(chan error, 1)
	go func() { engineDone <- engine.Run(engineCtx) }()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for running := true; running; {
		select {
		case <-hup:
			_ = engine.Reload(cfgPath) // logged and counted inside; the old config keeps serving on error
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
	log.Info("shutting down")
	srv.Drain()
	shCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
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
