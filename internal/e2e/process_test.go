package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// msgRecorded is the dry-run sender's log message (channels/dryrun): one
// line per message hikyaku would have sent, which the plan tests count.
const msgRecorded = "message recorded (dry run: nothing is sent)"

// startTimeout bounds how long a replica may take to log "hikyaku serving".
const startTimeout = 15 * time.Second

// daemon is one process, usually `hikyaku serve`, with its log captured.
type daemon struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	log  *logSink
	done chan struct{}
	// Addr is the HTTP address it bound, read from its "hikyaku serving" line.
	Addr string
	// Serving is when it logged "hikyaku serving".
	Serving time.Time
}

// startDaemon runs `hikyaku serve --dry-run` with cfg on an ephemeral
// loopback port, with the store flags given (--store URL or --data-dir DIR),
// and waits until it serves. Dry run: these tests check when and how often
// each page goes out across replicas, restarts and failovers, from the log
// line the dry-run sender writes for each; real sends through the fakes are
// the acknowledgement and provider tests' (startAckEnv). The process is
// killed when the test ends if it still runs.
func startDaemon(t *testing.T, name, cfg string, storeArgs ...string) *daemon {
	t.Helper()
	return startServe(t, name, cfg, append([]string{"--dry-run"}, storeArgs...)...)
}

// startServe is startDaemon without --dry-run: cfg's providers send.
func startServe(t *testing.T, name, cfg string, args ...string) *daemon {
	t.Helper()
	args = append([]string{"serve", "--config", cfg, "--listen", "127.0.0.1:0", "--log-format", "json"}, args...)
	d := startProcess(t, name, binary, args...)
	line, ok := d.WaitLog(func(l *logLine) bool { return l.Msg == "hikyaku serving" }, startTimeout)
	if !ok {
		d.Kill()
		d.dumpLog(60)
		t.Fatalf("%s: did not log \"hikyaku serving\" within %s", name, startTimeout)
	}
	d.Addr, d.Serving = line.Listen, line.Time
	return d
}

// startProcess runs bin with its output captured, and kills it when the
// test ends (dumping the end of its log if the test failed).
func startProcess(t *testing.T, name, bin string, args ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, name: name, log: &logSink{}, done: make(chan struct{})}
	d.cmd = exec.Command(bin, args...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("%s: start %s: %v", name, bin, err)
	}
	go func() { d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		d.Kill()
		if t.Failed() {
			d.dumpLog(60)
		}
	})
	return d
}

// Kill is kill -9: no drain, no release of claims, like a crash or an OOM kill.
func (d *daemon) Kill() {
	if d.cmd.Process == nil || d.exited() {
		return
	}
	d.cmd.Process.Kill()
	<-d.done
}

// Terminate sends SIGTERM and waits for the exit, returning its exit code.
// It does not fail the test itself, so it may run in a goroutine of its own.
func (d *daemon) Terminate(timeout time.Duration) (int, error) {
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, fmt.Errorf("%s: SIGTERM: %w", d.name, err)
	}
	select {
	case <-d.done:
		return d.cmd.ProcessState.ExitCode(), nil
	case <-time.After(timeout):
		d.Kill()
		return 0, fmt.Errorf("%s: still running %s after SIGTERM", d.name, timeout)
	}
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// Sends are the messages this process logged as sent, in log order.
func (d *daemon) Sends() []logLine {
	return d.log.filter(func(l *logLine) bool { return l.Msg == msgRecorded })
}

// WaitLog waits for a log line matching pred, the process's exit, or timeout.
func (d *daemon) WaitLog(pred func(*logLine) bool, timeout time.Duration) (logLine, bool) {
	return d.log.waitFor(pred, timeout, d.done)
}

// WaitLines waits until at least n log lines match pred, the process
// exits, or timeout passes, and returns every matching line. A line the
// daemon wrote before the state a test saw through the API (a send's log
// line before its timeline event) may still be crossing the pipe.
func (d *daemon) WaitLines(pred func(*logLine) bool, n int, timeout time.Duration) []logLine {
	deadline := time.Now().Add(timeout)
	for {
		changed := d.log.nextChange()
		lines := d.log.filter(pred)
		if len(lines) >= n {
			return lines
		}
		select {
		case <-changed:
		case <-d.done:
			return d.log.filter(pred) // Wait has copied everything the process wrote
		case <-time.After(time.Until(deadline)):
			return lines
		}
	}
}

func (d *daemon) dumpLog(last int) {
	lines := d.log.all()
	d.t.Logf("--- last %d of %d log lines of %s:", min(last, len(lines)), len(lines), d.name)
	for _, l := range lines[max(len(lines)-last, 0):] {
		d.t.Logf("%s: %s", d.name, l.Raw)
	}
}

// logLine is one JSON log line, with the fields the tests read; a line that
// is not JSON (Alertmanager's logfmt, a panic) has only Raw and Msg.
type logLine struct {
	Time     time.Time `json:"time"`
	Level    string    `json:"level"`
	Msg      string    `json:"msg"`
	Listen   string    `json:"listen"`
	Channel  string    `json:"channel"`
	Kind     string    `json:"kind"`
	Incident int64     `json:"incident"`
	To       string    `json:"to"`
	Key      string    `json:"key"`
	Raw      string    `json:"-"`
}

// logSink is an io.Writer collecting a process's output line by line.
type logSink struct {
	mu      sync.Mutex
	partial []byte
	lines   []logLine
	changed chan struct{} // closed and replaced on every new line
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		raw := string(s.partial[:i])
		s.partial = s.partial[i+1:]
		l := logLine{Raw: raw}
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			l = logLine{Raw: raw, Msg: strings.TrimSpace(raw)} // a panic or a Go runtime message
		}
		l.Raw = raw
		s.lines = append(s.lines, l)
	}
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	return len(p), nil
}

// nextChange is closed when the next line is written.
func (s *logSink) nextChange() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

func (s *logSink) all() []logLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]logLine(nil), s.lines...)
}

func (s *logSink) filter(pred func(*logLine) bool) []logLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []logLine
	for i := range s.lines {
		if pred(&s.lines[i]) {
			out = append(out, s.lines[i])
		}
	}
	return out
}

// waitFor returns the first line matching pred, waiting for it until timeout
// or until exited is closed (a dead process writes nothing more).
func (s *logSink) waitFor(pred func(*logLine) bool, timeout time.Duration, exited <-chan struct{}) (logLine, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		s.mu.Lock()
		for ; seen < len(s.lines); seen++ {
			if pred(&s.lines[seen]) {
				l := s.lines[seen]
				s.mu.Unlock()
				return l, true
			}
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-exited:
			// Wait has copied everything the process wrote: one last look.
			return s.firstMatch(pred)
		case <-deadline.C:
			return logLine{}, false
		}
	}
}

func (s *logSink) firstMatch(pred func(*logLine) bool) (logLine, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.lines {
		if pred(&s.lines[i]) {
			return s.lines[i], true
		}
	}
	return logLine{}, false
}

// waitAny waits for a log line matching pred from any of the processes: replicas
// on one store share the timers, so which one sends a page is not fixed.
func waitAny(ds []*daemon, pred func(*logLine) bool, timeout time.Duration) (logLine, bool) {
	deadline := time.Now().Add(timeout)
	for {
		for _, d := range ds {
			if l, ok := d.log.firstMatch(pred); ok {
				return l, true
			}
		}
		if time.Now().After(deadline) {
			return logLine{}, false
		}
		time.Sleep(2 * time.Millisecond)
	}
}
