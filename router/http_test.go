package router

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/store"
)

func newTestServer(t *testing.T) (*harness, *httptest.Server) {
	t.Helper()
	h := newHarness(t, testConfig)
	srv := httptest.NewServer((&Server{Engine: h.engine}).Handler())
	t.Cleanup(srv.Close)
	return h, srv
}

func do(t *testing.T, method, url, token string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "alertmanager", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWebhookAnswers(t *testing.T) {
	h, srv := newTestServer(t)
	url := srv.URL + "/api/v1/alertmanager"
	good := fixture(t, "firing-two-alerts-ja.json")
	huge := append([]byte(`{"receiver":"hikyaku","x":"`), bytes.Repeat([]byte("a"), 5<<20)...)
	cases := []struct {
		name, token string
		body        []byte
		code        int
		says        string
	}{
		{"no credentials", "", good, 401, "credentials"},
		{"wrong token", "nope", good, 401, "credentials"},
		{"malformed JSON", "hook-token", []byte(`{"receiver":`), 400, "line 1, column 13: unexpected end of file"},
		{"not version 4", "hook-token", bytes.Replace(good, []byte(`"version":"4"`), []byte(`"version":"3"`), 1), 400, "version"},
		{"no groupKey", "hook-token", bytes.Replace(good, []byte(`"groupKey"`), []byte(`"other"`), 1), 400, "groupKey"},
		{"no alerts", "hook-token", []byte(`{"receiver":"hikyaku","status":"firing","alerts":[],"version":"4","groupKey":"g"}`), 400, `no "alerts"`},
		{"bad alert status", "hook-token", []byte(`{"receiver":"hikyaku","status":"firing","alerts":[{"status":"odd","startsAt":"2026-01-01T00:00:00Z"}],"version":"4","groupKey":"g"}`), 400, "alerts[0].status"},
		{"too large", "hook-token", huge, 413, "larger than"},
		{"unknown receiver", "hook-token", bytes.Replace(good, []byte(`"receiver":"hikyaku"`), []byte(`"receiver":"other"`), 1), 401, "other"},
	}
	for _, c := range cases {
		code, body := do(t, "POST", url, c.token, c.body)
		if code != c.code || !strings.Contains(body, c.says) {
			t.Errorf("%s: got %d %q, want %d containing %q", c.name, code, body, c.code, c.says)
		}
	}
	// Nothing of the refused requests was stored.
	if incs, _ := h.st.List(context.Background(), store.ListOptions{}); len(incs) != 0 {
		t.Fatalf("refused requests stored %d incidents", len(incs))
	}
	code, body := do(t, "POST", url, "hook-token", good)
	if code != 200 || !strings.Contains(body, `"incidents":[1]`) {
		t.Fatalf("valid post: %d %s", code, body)
	}
}

func TestWebhookAnswers503WhenStoreIsDown(t *testing.T) {
	h, srv := newTestServer(t)
	h.st.Close()
	code, _ := do(t, "POST", srv.URL+"/api/v1/alertmanager", "hook-token", fixture(t, "firing-one-alert-en.json"))
	if code != 503 {
		t.Fatalf("store down: got %d, want 503 so Alertmanager retries", code)
	}
	if code, _ := do(t, "GET", srv.URL+"/-/ready", "", nil); code != 503 {
		t.Fatalf("ready with store down: %d", code)
	}
}

func TestIncidentAPI(t *testing.T) {
	_, srv := newTestServer(t)
	do(t, "POST", srv.URL+"/api/v1/alertmanager", "hook-token", fixture(t, "firing-two-alerts-ja.json"))
	api := srv.URL + "/api/v1/incidents"
	if code, _ := do(t, "GET", api, "", nil); code != 401 {
		t.Fatalf("no API token: %d", code)
	}
	if code, _ := do(t, "GET", api, "hook-token", nil); code != 401 {
		t.Fatalf("webhook token used as API token: %d", code)
	}
	code, body := do(t, "GET", api+"?status=open", "test-api-token", nil)
	var list IncidentPage
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list.Items) != 1 || list.NextCursor != "" {
		t.Fatalf("list: %d %v %s", code, err, body)
	}
	alice := createToken(t, srv.URL, "alice").Token
	if code, body := do(t, "POST", api+"/1/ack", alice, nil); code != 200 || !strings.Contains(body, `"acked_by": "alice"`) {
		t.Fatalf("ack: %d %s", code, body)
	}
	code, body = do(t, "GET", api+"/1", "test-api-token", nil)
	var one IncidentView
	if err := json.Unmarshal([]byte(body), &one); code != 200 || err != nil || one.Status != store.StatusAcked || len(one.Timeline) == 0 {
		t.Fatalf("get: %d %v %s", code, err, body)
	}
	if one.Message == nil || len(one.Message.Alerts) != 2 {
		t.Fatalf("get: alerts missing: %s", body)
	}
	if code, _ := do(t, "POST", api+"/1/resolve", "test-api-token", nil); code != 200 {
		t.Fatalf("resolve: %d", code)
	}
	if code, _ := do(t, "POST", api+"/1/ack", "test-api-token", nil); code != 409 {
		t.Fatalf("ack of resolved: %d, want 409", code)
	}
	if code, _ := do(t, "POST", api+"/99/ack", "test-api-token", nil); code != 404 {
		t.Fatalf("unknown id: %d, want 404", code)
	}
	if code, _ := do(t, "POST", api+"/abc/ack", "test-api-token", nil); code != 400 {
		t.Fatalf("bad id: %d, want 400", code)
	}
	if code, _ := do(t, "POST", api+"/1/dance", "test-api-token", nil); code != 404 {
		t.Fatalf("unknown action: %d, want 404", code)
	}
	if code, body := do(t, "GET", srv.URL+"/api/v1/oncall", "test-api-token", nil); code != 200 || !strings.Contains(body, `"primary"`) {
		t.Fatalf("oncall: %d %s", code, body)
	}
}

func TestReloadRefusesInvalidConfigAndKeepsServing(t *testing.T) {
	h := newHarness(t, testConfig)
	dir := t.TempDir()
	path := filepath.Join(dir, "hikyaku.yml")
	os.WriteFile(path, []byte(strings.Replace(testConfig, "shift: 1w", "shift: 1 week", 1)), 0o600)
	before := h.engine.Policies()
	srv := httptest.NewServer((&Server{Engine: h.engine, Reload: func(context.Context) error { return h.engine.Reload(path) }}).Handler())
	defer srv.Close()
	code, body := do(t, "POST", srv.URL+"/-/reload", "", nil)
	if code != 400 || !strings.Contains(body, "hikyaku.yml:") || !strings.Contains(body, "invalid duration") {
		t.Fatalf("invalid reload: %d %s", code, body)
	}
	if h.engine.Policies() != before {
		t.Fatal("an invalid config replaced the running one")
	}
	os.WriteFile(path, []byte(testConfig), 0o600)
	if code, _ := do(t, "POST", srv.URL+"/-/reload", "", nil); code != 200 || h.engine.Policies() == before {
		t.Fatalf("valid reload: %d", code)
	}
}
