package e2e

import (
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// mailFloodSessions and mailFloodBytes are the mail flood of issue 9: 40
// concurrent mails of 9 MiB from anyone, which took the daemon to 545 MiB
// before the listener had a session limit and a reply-sized message limit.
const (
	mailFloodSessions = 40
	mailFloodBytes    = 9 << 20
)

// TestMailFloodMemoryIsBounded: 40 strangers send 9 MiB mails to the reply
// listener at once. With the defaults (20 sessions, 256 KiB a message) the
// sessions beyond 20 are told 421 to come back later, every mail taken is
// refused 552 as too large, and the daemon's peak RSS (VmHWM) stays within
// the bound docs/acknowledge.md gives. The figures are logged (-v).
func TestMailFloodMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 360 MiB over loopback")
	}
	env := startAckEnv(t)
	pid := env.cmd.Process.Pid
	before := procStatus(t, pid, "VmRSS")

	// Every session sends its envelope and the first 64 KiB of its message,
	// and only then does any send the rest: the mails are in flight at once
	// by construction, not by the scheduler.
	chunk := []byte(strings.Repeat(strings.Repeat("x", 998)+"\r\n", 64))
	var started, sending sync.WaitGroup
	started.Add(mailFloodSessions)
	sending.Add(1)
	results := make([]string, mailFloodSessions)
	var done sync.WaitGroup
	for i := range mailFloodSessions {
		done.Go(func() {
			results[i] = floodMail(env.SMTP, &started, &sending, chunk)
		})
	}
	started.Wait()
	sending.Done()
	done.Wait()
	peak := procStatus(t, pid, "VmHWM")

	counts := map[string]int{}
	for _, r := range results {
		counts[r]++
	}
	t.Logf("RSS before %d MiB; peak after %d mails of %d MiB at once: %d MiB; answers %v; RSS now %d MiB",
		before>>20, mailFloodSessions, mailFloodBytes>>20, peak>>20, counts, procStatus(t, pid, "VmRSS")>>20)
	for r, n := range counts {
		if r != "421" && r != "552" {
			t.Errorf("%d mails answered %s; want 421 (over the session limit) or 552 (over the message limit)", n, r)
		}
	}
	if counts["421"] == 0 || counts["552"] == 0 {
		t.Errorf("answers %v: 40 sessions over a limit of 20 should see both 421 and 552", counts)
	}
	// sessions × message bytes, twice while a message is parsed (5 MiB and
	// 10 MiB with the defaults), and 54 MiB for goroutines, buffers and the
	// collector's headroom.
	const bound = 64 << 20
	if grew := peak - before; grew > bound {
		t.Errorf("peak RSS grew by %d MiB, over the bound of %d MiB", grew>>20, bound>>20)
	}
}

// floodMail sends one stranger's 9 MiB mail and returns the SMTP code that
// ended it ("421", "552"…), or "error: …". It marks started once its first
// 64 KiB are written (or it was refused) and waits on sending for the rest.
func floodMail(addr string, started, sending *sync.WaitGroup, chunk []byte) string {
	once := sync.OnceFunc(started.Done)
	defer once()
	code := func(err error) string {
		var perr *textproto.Error
		if errors.As(err, &perr) {
			return strings.Fields(perr.Error())[0]
		}
		return "error: " + err.Error()
	}
	c, err := smtp.Dial(addr)
	if err != nil {
		return code(err) // 421 at the greeting: over the session limit
	}
	defer c.Close()
	if err := c.Hello("flood.example.net"); err != nil {
		return code(err)
	}
	if err := c.Mail("stranger@example.net"); err != nil {
		return code(err)
	}
	if err := c.Rcpt("reply@" + replyDomain); err != nil {
		return code(err)
	}
	w, err := c.Data()
	if err != nil {
		return code(err)
	}
	if _, err := w.Write([]byte("From: stranger@example.net\r\nTo: reply@" + replyDomain + "\r\nSubject: flood\r\n\r\n")); err != nil {
		return code(err)
	}
	if _, err := w.Write(chunk); err != nil {
		return code(err)
	}
	once()
	sending.Wait()
	deadline := time.Now().Add(time.Minute)
	for sent := len(chunk); sent < mailFloodBytes && time.Now().Before(deadline); sent += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return code(err)
		}
	}
	if err := w.Close(); err != nil {
		return code(err)
	}
	return "250"
}
