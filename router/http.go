package router

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is hikyaku's HTTP face, in two surfaces: the public one (the
// Alertmanager webhook, provider callbacks, action links, the incident API)
// and the admin one (health, readiness, reload, metrics, dead letters).
type Server struct {
	Engine *Engine
	// Gatherer serves /metrics; nil serves the default registry.
	Gatherer prometheus.Gatherer
	// Reload validates and swaps the configuration (POST /-/reload, SIGHUP).
	Reload func(ctx context.Context) error
	// Inbound are the channels' own endpoints (replies, key presses,
	// delivery reports), served on the public listener.
	Inbound []channels.Route
	// Auth signs people in to the console (sign_in in the configuration);
	// nil serves no console, sign-in or /api/v1/me.
	Auth *access.Auth
	// AdminBasicAuth says the admin listener's web config checks basic
	// auth: the user it proved is then the audit stream's actor of a reload.
	AdminBasicAuth bool
	// draining refuses new webhooks during shutdown with 503, so Alertmanager retries elsewhere.
	draining atomic.Bool
	// bodies bounds the request bodies in memory, the webhook's and the
	// provider callbacks' (global.max_inflight_body_bytes).
	bodies bodyBudget
	// readyProbe bounds /-/ready's store check (made on first use).
	readyProbe     *storeProbe
	readyProbeOnce sync.Once
	// throttle counts each source's failed API authentications.
	throttle authThrottle
}

// Drain makes the webhook answer 503 from now on.
func (s *Server) Drain() { s.draining.Store(true) }

// Handler serves both surfaces on one handler: the public paths and the
// admin paths. serve uses it only under the deprecated --listen flag, which
// kept one listener for everything; tests embedding the daemon use it too.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.publicRoutes(mux)
	s.adminRoutes(mux)
	return auditSources(s.recoverHTTP(mux), s.AdminBasicAuth)
}

// PublicHandler serves what must face the internet: the Alertmanager
// webhook, the provider callbacks, the action links and the incident API.
// The admin paths answer 404 here (docs/operations.md, "Listeners").
func (s *Server) PublicHandler() http.Handler {
	mux := http.NewServeMux()
	s.publicRoutes(mux)
	return auditSources(s.recoverHTTP(mux), false)
}

// AdminHandler serves the operator's paths: metrics, health, readiness,
// reload and the dead-letter set.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	s.adminRoutes(mux)
	return auditSources(s.recoverHTTP(mux), s.AdminBasicAuth)
}

func (s *Server) publicRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/alertmanager", s.webhook)
	mux.Handle("GET /api/v1/incidents", s.api(s.listIncidents))
	mux.Handle("GET /api/v1/incidents/{id}", s.api(s.getIncident))
	mux.Handle("POST /api/v1/incidents/{id}/{action}", s.api(s.act))
	s.incidentRunRoutes(mux)
	s.reportRoutes(mux)
	mux.Handle("GET /api/v1/oncall", s.api(s.oncall))
	mux.Handle("POST /api/v1/test-pages", s.api(s.testPage))
	s.drillRoutes(mux)
	mux.Handle("GET /api/v1/reports/health", s.api(s.getHealthReport))
	s.storedRoutes(mux)
	mux.Handle("POST /api/v1/reload", s.api(s.apiReload))
	s.calendarRoutes(mux)
	// Provider callbacks are read whole before their signature can be
	// checked, so they draw on the webhook's budget of bodies in flight.
	for _, rt := range s.Inbound {
		mux.HandleFunc(rt.Pattern, s.bounded(rt.MaxBody, rt.Handler.ServeHTTP))
	}
	mux.Handle("GET /act/{token}", htmlPage(s.actLink))
	mux.Handle("POST /act/{token}", htmlPage(s.actLink))
	if s.Auth != nil {
		s.consoleRoutes(mux)
	}
}

func (s *Server) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "OK\n") })
	mux.HandleFunc("GET /-/ready", s.ready)
	mux.HandleFunc("POST /-/reload", s.reload)
	g := s.Gatherer
	if g == nil {
		g = prometheus.DefaultGatherer
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	s.deadLetterRoutes(mux)
	s.tokenRoutes(mux)
}

// webhook takes Alertmanager's post. It answers 2xx only once the incident
// is durably stored; a store failure is 503 so Alertmanager retries, and load
// is never answered with 4xx, which Alertmanager would not retry (its webhook
// notifier retries 5xx and transport errors only).
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	code, msg := s.intake(r)
	s.Engine.metrics.webhookRequests.WithLabelValues(strconv.Itoa(code)).Inc()
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if code >= 300 {
		http.Error(w, msg, code)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	io.WriteString(w, msg)
}

func (s *Server) intake(r *http.Request) (int, string) {
	if s.draining.Load() {
		return http.StatusServiceUnavailable, "shutting down"
	}
	cfg := s.Engine.Policies().Config()
	// Credentials first, from the headers alone: a stranger's body is never
	// read, so an unauthenticated flood costs no memory. The receiver named
	// in the body is checked against them once it is decoded.
	if len(cfg.Receivers) > 0 && !anyReceiverAuth(cfg, r) {
		return http.StatusUnauthorized, "missing or wrong credentials"
	}
	limit := cfg.Global.MaxBodyBytes
	if r.ContentLength > limit {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes is larger than %d bytes (global.max_body_bytes)", r.ContentLength, limit)
	}
	inflight := inflightLimit(cfg)
	weight := bodyWeight(r.ContentLength, limit)
	if !s.bodies.take(weight, inflight) {
		return http.StatusServiceUnavailable, fmt.Sprintf("too many webhook bodies at once (global.max_inflight_body_bytes %d); retry", inflight)
	}
	defer s.bodies.give(weight)
	body, err := readBody(r, limit)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes (global.max_body_bytes)", tooBig.Limit)
	case err != nil:
		// The read timed out, or the connection was reset or closed early:
		// the body may be valid, it only did not arrive. A 400 here would
		// be final for Alertmanager, and the alert lost.
		s.Engine.log.Warn("webhook body did not arrive whole; answered 503 for a retry", "remote", r.RemoteAddr, "read", len(body), "content_length", r.ContentLength, "err", err)
		return http.StatusServiceUnavailable, "reading body: " + err.Error() + "; retry"
	}
	msg, err := DecodeMessage(body)
	if err != nil {
		return http.StatusBadRequest, err.Error()
	}
	if !authorized(cfg, msg.Receiver, r) {
		return http.StatusUnauthorized, "missing or wrong credentials for receiver " + strconv.Quote(msg.Receiver)
	}
	incs, err := s.Engine.Ingest(r.Context(), msg, body)
	if err != nil {
		s.Engine.log.Error("storing webhook failed", "group_key", msg.GroupKey, "err", err)
		return http.StatusServiceUnavailable, "store unavailable; retry"
	}
	b := append(make([]byte, 0, 32), `{"incidents":[`...)
	for i, inc := range incs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, inc.ID, 10)
	}
	return http.StatusOK, string(append(b, "]}"...))
}

// inflightLimit is global.max_inflight_body_bytes.
func inflightLimit(cfg *config.Config) int64 {
	if n := cfg.Global.MaxInflightBodyBytes; n > 0 {
		return n
	}
	return config.DefaultInflightBodies * max(cfg.Global.MaxBodyBytes, config.DefaultMaxBodyBytes) // a Config not filled in by config.Load
}

// bounded lets h read a body of at most limit bytes, reserved from the
// same budget as the webhook's bodies, so no endpoint lets a flood hold more
// than global.max_inflight_body_bytes of bodies.
func (s *Server) bounded(limit int64, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		inflight := inflightLimit(s.Engine.Policies().Config())
		weight := bodyWeight(r.ContentLength, limit)
		if !s.bodies.take(weight, inflight) {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many request bodies at once; retry", http.StatusServiceUnavailable)
			return
		}
		defer s.bodies.give(weight)
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		h(w, r)
	}
}

// readBody is io.ReadAll of at most limit bytes, its buffer sized from
// Content-Length: io.ReadAll starts at 512 bytes and copies as it grows.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	rd := http.MaxBytesReader(nil, r.Body, limit)
	size := int64(512)
	if r.ContentLength > 0 {
		size = min(r.ContentLength, limit) + 1 // +1: room to read EOF without growing
	}
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// authorized checks the credentials Alertmanager's http_config sends for
// this receiver. A receiver not in the config is refused when any receiver
// is configured; with none the webhook is open, which only an embedding test
// reaches: serve refuses a file without receivers.
func authorized(cfg *config.Config, receiver string, r *http.Request) bool {
	if len(cfg.Receivers) == 0 {
		return true
	}
	for _, rc := range cfg.Receivers {
		if rc.Name == receiver {
			return receiverAuth(&rc, r)
		}
	}
	return false
}

func anyReceiverAuth(cfg *config.Config, r *http.Request) bool {
	for _, rc := range cfg.Receivers {
		if receiverAuth(&rc, r) {
			return true
		}
	}
	return false
}

// receiverAuth checks one receiver's credential; a receiver without one is
// open only when the file says allow_unauthenticated (config refuses any other).
func receiverAuth(rc *config.Receiver, r *http.Request) bool {
	switch {
	case rc.BasicAuth != nil:
		user, pass, ok := r.BasicAuth()
		want, set := rc.BasicAuth.Password.Reveal()
		return ok && set && equal(user, rc.BasicAuth.Username) && equal(pass, want)
	case !rc.BearerToken.IsZero():
		want, set := rc.BearerToken.Reveal()
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		return ok && set && equal(got, want)
	}
	return rc.AllowUnauthenticated
}

// equal compares in constant time so a token cannot be guessed byte by byte.
func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// api protects the incident API: every request proves who it comes from
// with a per-user token or the shared global.api_token (apiauth.go).
func (s *Server) api(h func(w http.ResponseWriter, r *http.Request) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, ok := s.guard(w, r)
		if !ok {
			return
		}
		v, err := h(w, r)
		if err != nil {
			http.Error(w, err.Error(), apiStatus(err))
			return
		}
		if doc, ok := v.(document); ok {
			w.Header().Set("Content-Type", doc.contentType)
			w.Write(doc.body)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(v)
	})
}

type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func apiStatus(err error) int {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.code
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrDeadTimerNotFound), errors.Is(err, ErrStoredNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrBadOverride):
		return http.StatusBadRequest
	case errors.Is(err, ErrResolved), errors.Is(err, ErrTestNoEscalate), errors.Is(err, ErrDrillNoAction):
		return http.StatusConflict
	case errors.Is(err, ErrBadTestPage), errors.Is(err, ErrBadDrill):
		return http.StatusBadRequest
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	}
	return http.StatusServiceUnavailable
}

// IncidentView is an incident as the API shows it.
type IncidentView struct {
	*store.Incident
	Message  *Message      `json:"message,omitempty"`
	Timeline []store.Event `json:"timeline,omitempty"`
}

func view(inc *store.Incident, tl []store.Event) IncidentView {
	v := IncidentView{Incident: inc, Timeline: tl}
	if m, err := DecodeMessage(inc.Message); err == nil {
		v.Message = m
	}
	return v
}

func incidentID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &httpError{http.StatusBadRequest, "incident id must be a positive number"}
	}
	return id, nil
}

func (s *Server) getIncident(_ http.ResponseWriter, r *http.Request) (any, error) {
	id, err := incidentID(r)
	if err != nil {
		return nil, err
	}
	inc, err := s.Engine.Store().Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	tl, err := s.Engine.Store().Timeline(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return view(inc, tl), nil
}

// act is ack, resolve or escalate, by the request's identity.
func (s *Server) act(_ http.ResponseWriter, r *http.Request) (any, error) {
	id, err := incidentID(r)
	if err != nil {
		return nil, err
	}
	actor := requestActor(r)
	var inc *store.Incident
	switch r.PathValue("action") {
	case "ack":
		inc, err = s.Engine.Ack(r.Context(), id, actor, "api")
	case "resolve":
		inc, err = s.Engine.Resolve(r.Context(), id, actor, "api")
	case "escalate":
		inc, err = s.Engine.Escalate(r.Context(), id, actor, "api")
	default:
		return nil, &httpError{http.StatusNotFound, "unknown action: want ack, resolve or escalate"}
	}
	if err != nil {
		return nil, err
	}
	return view(inc, nil), nil
}

// OnCallView is one rotation or schedule's current on-call.
type OnCallView struct {
	Department string    `json:"department"`
	ID         string    `json:"id"`
	User       string    `json:"user,omitempty"`
	Name       string    `json:"name,omitempty"`
	Until      time.Time `json:"until,omitzero"`
}

func (s *Server) oncall(_ http.ResponseWriter, r *http.Request) (any, error) {
	set, err := s.Engine.livePolicies(r.Context())
	if err != nil {
		return nil, err
	}
	now := s.Engine.now()
	out := []OnCallView{}
	for _, d := range set.Config().Departments {
		ids := make([]string, 0, len(d.Rotations)+len(d.Schedules))
		for _, rot := range d.Rotations {
			ids = append(ids, rot.ID)
		}
		for _, sc := range d.Schedules {
			ids = append(ids, sc.ID)
		}
		for _, id := range ids {
			v := OnCallView{Department: d.ID, ID: id}
			if sh, ok := set.OnCall(id, now); ok {
				v.User, v.Until = sh.User, sh.End
				if u := set.Config().User(sh.User); u != nil {
					v.Name = u.Name
				}
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// ready is false while the store cannot take a write (Redis unreachable or
// frozen, the embedded file's disk full or failing): Alertmanager and load
// balancers then send elsewhere, and it turns true again by itself. It
// answers within StoreProbeTimeout whatever the store does.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	s.readyProbeOnce.Do(func() {
		s.readyProbe = newStoreProbe(StoreProbeTimeout, s.Engine.Store().Ping)
	})
	if err := s.readyProbe.run(r.Context()); err != nil {
		http.Error(w, "store cannot take a write: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	// A provider refusing hikyaku is said but does not make the replica
	// unready: alerts must still be taken (refused, they would wait or be
	// lost), pages fail over to other channels, and every replica shares the
	// same credentials, so there is nowhere better to send the traffic.
	io.WriteString(w, "OK\n")
	for _, d := range s.Engine.ProvidersDown() {
		fmt.Fprintf(w, "provider %s down: %s\n", d.Provider, d.Reason)
	}
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	if s.Reload == nil {
		http.Error(w, "reload is not available", http.StatusNotImplemented)
		return
	}
	err := s.Reload(r.Context())
	s.Engine.AuditReload(r.Context(), "http", err)
	if err != nil {
		http.Error(w, "configuration refused, the previous one keeps serving:\n"+err.Error(), http.StatusBadRequest)
		return
	}
	io.WriteString(w, "configuration reloaded\n")
}
