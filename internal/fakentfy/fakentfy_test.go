package fakentfy

import (
	"encoding/json"
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
