package fakentfy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func post(t *testing.T, s *Server, auth, body string) (int, errorBody) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/", strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e errorBody
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e
}

func TestChecksTheWireFormat(t *testing.T) {
	s := New("tk_good")
	defer s.Close()
	const ok = `{"topic":"alice","message":"hi","priority":5,"actions":[{"action":"http","label":"Ack","url":"https://h.example.com/act/x","method":"POST","clear":true}]}`
	for _, tc := range []struct {
		name, auth, body string
		status, code     int
	}{
		{"good", "Bearer tk_good", ok, 200, 0},
		{"no token", "", ok, 401, 40101},
		{"wrong token", "Bearer tk_bad", ok, 401, 40101},
		{"basic auth", "Basic dTpw", ok, 401, 40101},
		{"malformed JSON", "Bearer tk_good", `{"topic":"alice",`, 400, 40024},
		{"two documents", "Bearer tk_good", `{"topic":"alice","message":"a"}{"topic":"b"}`, 400, 40024},
		{"misspelt field", "Bearer tk_good", `{"topic":"alice","mesage":"hi"}`, 400, 40024},
		{"missing topic", "Bearer tk_good", `{"message":"hi"}`, 400, 40000},
		{"bad topic", "Bearer tk_good", `{"topic":"a/b","message":"hi"}`, 400, 40000},
		{"priority 6", "Bearer tk_good", `{"topic":"alice","message":"hi","priority":6}`, 400, 40000},
		{"action without label", "Bearer tk_good", `{"topic":"alice","message":"hi","actions":[{"action":"http","url":"https://x.example.com"}]}`, 400, 40000},
		{"four actions", "Bearer tk_good", `{"topic":"alice","message":"hi","actions":[` + strings.Repeat(`{"action":"view","label":"v","url":"https://x.example.com"},`, 3) + `{"action":"view","label":"v","url":"https://x.example.com"}]}`, 400, 40000},
	} {
		status, e := post(t, s, tc.auth, tc.body)
		if status != tc.status || e.Code != tc.code {
			t.Errorf("%s: %d %+v, want %d code %d", tc.name, status, e, tc.status, tc.code)
		}
	}
	if got := s.Messages("alice"); len(got) != 1 || got[0].ID == "" || got[0].Actions[0].ID == "" {
		t.Errorf("messages = %+v, want the good one with ids", got)
	}
}

func TestPressSendsTheAction(t *testing.T) {
	var got *http.Request
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r }))
	defer target.Close()
	m := Message{ID: "m1", Actions: []Action{{Action: "http", Label: "Ack", URL: target.URL + "/act/tok"}}}
	status, err := Press(t.Context(), m, "Ack")
	if err != nil || status != 200 || got == nil || got.Method != http.MethodPost || got.URL.Path != "/act/tok" {
		t.Errorf("press: %d %v, request %+v", status, err, got)
	}
	if _, err := Press(t.Context(), m, "Resolve"); err == nil {
		t.Error("pressed a button the message does not have")
	}
}

func do(t *testing.T, s *Server, method, path string, header map[string]string, body string) (int, Message, errorBody) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m Message
	var e errorBody
	if resp.StatusCode == 200 {
		json.Unmarshal(raw, &m)
	} else {
		json.Unmarshal(raw, &e)
	}
	return resp.StatusCode, m, e
}

func TestSequences(t *testing.T) {
	s := New("tk_good")
	defer s.Close()
	auth := map[string]string{"Authorization": "Bearer tk_good"}
	status, first, _ := do(t, s, http.MethodPost, "/", auth, `{"topic":"alice","message":"FIRING","priority":5}`)
	if status != 200 || first.ID == "" {
		t.Fatalf("publish: %d %+v", status, first)
	}
	update := map[string]string{"Authorization": "Bearer tk_good", "X-Title": "=?UTF-8?B?5LqG6Kej?=", "X-Priority": "low",
		"X-Tags": "white_check_mark, eyes", "X-Actions": `[{"action":"http","label":"Resolve","url":"https://h.example.com/act/r","method":"POST","clear":true}]`}
	for _, tc := range []struct {
		name, method, path string
		header             map[string]string
		body               string
		status, code       int
	}{
		{"update without token", http.MethodPut, "/alice/" + first.ID, nil, "acked", 401, 40101},
		{"update with a bad sequence id", http.MethodPut, "/alice/a.b", auth, "acked", 400, 40049},
		{"update of a bad topic", http.MethodPut, "/a.b/" + first.ID, auth, "acked", 400, 40009},
		{"raw UTF-8 title", http.MethodPut, "/alice/" + first.ID, map[string]string{"Authorization": "Bearer tk_good", "X-Title": "了解"}, "acked", 400, 40000},
		{"priority 7", http.MethodPut, "/alice/" + first.ID, map[string]string{"Authorization": "Bearer tk_good", "X-Priority": "7"}, "acked", 400, 40000},
		{"short-form actions", http.MethodPut, "/alice/" + first.ID, map[string]string{"Authorization": "Bearer tk_good", "X-Actions": "view, Open, https://x.example.com"}, "acked", 400, 40000},
		{"clear by POST", http.MethodPost, "/alice/" + first.ID + "/clear", auth, "", 404, 40401},
		{"clear with a body", http.MethodPut, "/alice/" + first.ID + "/clear", auth, "x", 400, 40000},
		{"three segments", http.MethodPut, "/alice/" + first.ID + "/read", auth, "", 404, 40401},
		{"update", http.MethodPut, "/alice/" + first.ID, update, "Acknowledged by alice", 200, 0},
	} {
		status, _, e := do(t, s, tc.method, tc.path, tc.header, tc.body)
		if status != tc.status || e.Code != tc.code {
			t.Errorf("%s: %d %+v, want %d code %d", tc.name, status, e, tc.status, tc.code)
		}
	}
	n, ok := s.Notification("alice", first.ID)
	if !ok || n.Revisions != 2 || n.Cleared || n.Message.Title != "了解" || n.Message.Message != "Acknowledged by alice" ||
		n.Message.Priority != 2 || strings.Join(n.Message.Tags, ",") != "white_check_mark,eyes" ||
		len(n.Message.Actions) != 1 || n.Message.Actions[0].Label != "Resolve" || n.Message.SequenceID != first.ID {
		t.Fatalf("after the update: %+v, %v", n, ok)
	}
	status, cleared, _ := do(t, s, http.MethodPut, "/alice/"+first.ID+"/clear", auth, "")
	if status != 200 || cleared.Event != "message_clear" || cleared.SequenceID != first.ID {
		t.Errorf("clear: %d %+v", status, cleared)
	}
	if n, _ := s.Notification("alice", first.ID); !n.Cleared || n.Deleted {
		t.Errorf("after clear: %+v", n)
	}
	if status, m, _ := do(t, s, http.MethodDelete, "/alice/"+first.ID, auth, ""); status != 200 || m.Event != "message_delete" {
		t.Errorf("delete: %d %+v", status, m)
	}
	if n, _ := s.Notification("alice", first.ID); !n.Deleted {
		t.Errorf("after delete: %+v", n)
	}
	if _, ok := s.Notification("alice", "nosuchid"); ok {
		t.Error("a sequence nobody published")
	}
	if a := s.Authorizations(); len(a) < 2 || a[0] != "Bearer tk_good" || a[1] != "" {
		t.Errorf("authorizations = %q", a)
	}
}

func TestLegacyServerHasNoSequences(t *testing.T) {
	s := New("")
	defer s.Close()
	s.Legacy()
	_, first, _ := do(t, s, http.MethodPost, "/", nil, `{"topic":"alice","message":"FIRING"}`)
	for _, tc := range []struct{ method, path string }{
		{http.MethodPut, "/alice/" + first.ID}, {http.MethodPut, "/alice/" + first.ID + "/clear"}, {http.MethodDelete, "/alice/" + first.ID},
	} {
		if status, _, e := do(t, s, tc.method, tc.path, nil, ""); status != 404 || e.Code != 40401 {
			t.Errorf("%s %s: %d %+v, want 404", tc.method, tc.path, status, e)
		}
	}
	// A sequence_id in JSON is a field older servers do not know: a new message.
	_, second, _ := do(t, s, http.MethodPost, "/", nil, `{"topic":"alice","message":"acked","sequence_id":"`+first.ID+`"}`)
	if n, _ := s.Notification("alice", first.ID); n.Revisions != 1 || second.SequenceID != "" {
		t.Errorf("legacy JSON update: %+v, answer %+v", n, second)
	}
}
