package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// auditLines are the audit records logs holds, with the attributes the
// stable format names (docs/operations.md, "Audit log").
func auditLines(t *testing.T, logs *logBuffer) []map[string]any {
	t.Helper()
	lines := logs.lines(t, "audit")
	for _, l := range lines {
		if l["audit"] != true {
			t.Errorf("audit line without audit=true: %v", l)
		}
	}
	return lines
}

func wantAttrs(t *testing.T, what string, got map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %#v, want %#v (line %v)", what, k, got[k], v, got)
		}
	}
}

// TestAuditSMSAck: an ack by SMS writes one audit line naming the action,
// incident, actor, channel, source and result; Twilio's retry of the same
// reply writes one saying it changed nothing.
func TestAuditSMSAck(t *testing.T) {
	h := newTwilioHarness(t)
	logs := &logBuffer{}
	h.engine.log = slog.New(slog.NewJSONHandler(logs, nil))
	id := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0].ID
	h.advance(0)
	_, sid := h.sms(aliceNumber, fmt.Sprintf("ack %d", id))
	h.smsWithSID(aliceNumber, fmt.Sprintf("ack %d", id), sid)
	lines := auditLines(t, logs)
	if len(lines) != 2 {
		t.Fatalf("%d audit lines, want 2: %v", len(lines), lines)
	}
	for i, result := range []string{"done", "unchanged"} {
		wantAttrs(t, result, lines[i], map[string]any{"action": "ack", "incident": float64(id), "actor": "alice",
			"channel": "sms", "result": result, "auth_user": ""})
		if src, _ := lines[i]["source"].(string); src == "" {
			t.Errorf("%s: no source address: %v", result, lines[i])
		}
	}
}

// TestAuditReload: each reload through the admin handler writes an audit
// line with the authenticated user (when the listener checks one) and the
// source; a refused one says why.
func TestAuditReload(t *testing.T) {
	h := newHarness(t, testConfig)
	logs := &logBuffer{}
	h.engine.log = slog.New(slog.NewJSONHandler(logs, nil))
	fail := errors.New("hikyaku.yml:3:1: bad")
	var next error
	s := &Server{Engine: h.engine, AdminBasicAuth: true, Reload: func(context.Context) error { return next }}
	srv := httptest.NewServer(s.AdminHandler())
	defer srv.Close()
	for _, err := range []error{nil, fail} {
		next = err
		req, _ := http.NewRequest("POST", srv.URL+"/-/reload", nil)
		req.SetBasicAuth("ops", "secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	lines := auditLines(t, logs)
	if len(lines) != 2 {
		t.Fatalf("%d audit lines, want 2: %v", len(lines), lines)
	}
	wantAttrs(t, "reload", lines[0], map[string]any{"action": "reload", "actor": "ops", "auth_user": "ops", "channel": "http", "result": "done"})
	wantAttrs(t, "refused reload", lines[1], map[string]any{"action": "reload", "actor": "ops", "channel": "http", "result": "refused", "error": fail.Error(), "level": "WARN"})
	if src, _ := lines[0]["source"].(string); src == "" {
		t.Errorf("no source address: %v", lines[0])
	}
}
