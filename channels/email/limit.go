package email

import (
	"log/slog"
	"net"
	"sync"
	"time"
)

// refusedLogEvery spaces the WARN lines of refused connections: a flood
// must not turn into a flood of log lines (the metric counts each one).
const refusedLogEvery = 10 * time.Second

// sessionLimit is a listener that holds at most cap(slots) SMTP
// connections open: one more is answered "421 4.7.0" (RFC 5321's "service
// not available, closing the channel": the relay tries again later) and
// closed before go-smtp sees it.
type sessionLimit struct {
	net.Listener
	slots   chan struct{}
	greet   []byte
	metrics *Metrics
	log     *slog.Logger

	mu        sync.Mutex
	lastLog   time.Time
	sinceLast int
}

func newSessionLimit(l net.Listener, max int, domain string, m *Metrics, log *slog.Logger) *sessionLimit {
	return &sessionLimit{Listener: l, slots: make(chan struct{}, max), metrics: m, log: log,
		greet: []byte("421 4.7.0 " + domain + " Too many connections, try again later\r\n")}
}

func (l *sessionLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			l.metrics.sessions.Inc()
			return &sessionConn{Conn: c, release: func() {
				<-l.slots
				l.metrics.sessions.Dec()
			}}, nil
		default:
			l.refuse(c)
		}
	}
}

// refuse answers and closes c. The write goes to the socket buffer, so a
// peer that reads nothing cannot hold the accept loop; the deadline is for
// a full buffer.
func (l *sessionLimit) refuse(c net.Conn) {
	l.metrics.sessionsRefused.Inc()
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.Write(l.greet)
	_ = c.Close()
	l.mu.Lock()
	l.sinceLast++
	now := time.Now()
	if now.Sub(l.lastLog) < refusedLogEvery {
		l.mu.Unlock()
		return
	}
	n := l.sinceLast
	l.lastLog, l.sinceLast = now, 0
	l.mu.Unlock()
	l.log.Warn("smtp connections refused: session limit reached", "max_sessions", cap(l.slots),
		"refused", n, "remote", c.RemoteAddr().String())
}

// sessionConn gives its slot back once, however often go-smtp closes it.
type sessionConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *sessionConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
