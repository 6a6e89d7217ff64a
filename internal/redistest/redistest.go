// Package redistest runs a throwaway redis-server for tests, on an ephemeral
// loopback port with its data in t.TempDir(), never the machine's own Redis.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long we wait for a fresh server to answer PING.
const startTimeout = 10 * time.Second

// Options configure a server. The zero value is a plain in-memory server.
type Options struct {
	AppendOnly bool     // appendonly yes + appendfsync always (unless Args say otherwise), so Restart keeps every write
	Args       []string // extra redis-server arguments, e.g. "--replicaof", "127.0.0.1", "7000"
}

// Server is one redis-server (or redis-sentinel) process that can be killed and restarted in place.
type Server struct {
	t    testing.TB
	bin  string
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
	exit chan struct{}
}

// Binary returns the path of a server binary, skipping the test when it is
// missing locally and failing it in CI (env CI set), where it must be installed.
func Binary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not on PATH; CI must install it (apt-get install redis-server)", name)
		}
		t.Skipf("%s not on PATH; install it to run the Redis tests", name)
	}
	return path
}

// Start runs a redis-server and stops it when the test ends.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t, "redis-server"), port: FreePort(t), dir: t.TempDir()}
	appendOnly := "no"
	if opt.AppendOnly {
		appendOnly = "yes"
	}
	s.args = append([]string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", appendOnly, "--appendfsync", "always",
		"--dir", s.dir, "--daemonize", "no", "--logfile", "",
	}, opt.Args...)
	s.start()
	t.Cleanup(s.Kill)
	return s
}

// StartSentinel runs a redis-sentinel that monitors master under name with a
// quorum of 1 and declares it down after 500 ms, so a test failover takes about
// two seconds. Start it after the replicas are attached: it learns of them from
// the master.
func StartSentinel(t testing.TB, master *Server, name string) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t, "redis-sentinel"), port: FreePort(t), dir: t.TempDir()}
	conf := filepath.Join(s.dir, "sentinel.conf") // sentinel rewrites its config, so it must be a file of its own
	text := fmt.Sprintf(`port %d
bind 127.0.0.1
dir %s
sentinel monitor %s 127.0.0.1 %d 1
sentinel down-after-milliseconds %s 500
sentinel failover-timeout %s 5000
`, s.port, s.dir, name, master.port, name, name)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatalf("redistest: write sentinel config: %v", err)
	}
	s.args = []string{conf}
	s.start()
	t.Cleanup(s.Kill)
	return s
}

// FreePort returns a loopback port nobody listened on a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *Server) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Dir = s.dir
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("redistest: start redis-server: %v", err)
	}
	s.exit = make(chan struct{})
	go func(cmd *exec.Cmd, exit chan struct{}) { cmd.Wait(); close(exit) }(s.cmd, s.exit)
	if err := WaitPing(s.Addr(), startTimeout); err != nil {
		s.Kill()
		s.t.Fatalf("redistest: redis-server on %s: %v", s.Addr(), err)
	}
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port is the TCP port, the same across restarts.
func (s *Server) Port() int { return s.port }

// URL is a redis:// URL for the server, database 0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Kill stops the server with SIGKILL, as a crash would; it is safe to call twice.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exit
	s.cmd = nil
}

// Freeze stops the server with SIGSTOP: its connections stay open and
// nothing answers, like a hung host. Thaw, Kill or the test's end undo it.
func (s *Server) Freeze() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGSTOP)
	}
}

// Thaw resumes a frozen server (SIGCONT).
func (s *Server) Thaw() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGCONT)
	}
}

// Restart starts the server again on the same port and dir, so with
// AppendOnly its data survives. It kills the server first if it is running.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	s.start()
}

// WaitPing polls addr with a raw RESP PING until it answers PONG or timeout passes.
func WaitPing(addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for ctx.Err() == nil {
		if last = ping(ctx, addr); last == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no PONG within %s: %w", timeout, last)
}

func ping(ctx context.Context, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("answered %q", strings.TrimSpace(line))
	}
	return nil
}
