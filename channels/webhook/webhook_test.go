package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/template"
	"github.com/hikyaku/hikyaku/config"
)

func message(t *testing.T, to string) *channels.Message {
	t.Helper()
	data, err := os.ReadFile("testdata/firing-two-alerts-ja.json")
	if err != nil {
		t.Fatal(err)
	}
	m := &channels.Message{IdempotencyKey: "outbox-77", Channel: "webhook", Kind: channels.KindPage, IncidentID: 12,
		To: to, Language: "ja", Data: data,
		Incident: channels.Incident{ID: 12, Status: "open", Severity: "critical", Department: "エンジニアリング", FiringAlerts: 2}}
	m.Subject, m.Text, err = template.Default().Render(m)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// receiver is a webhook endpoint that records what it got and answers status.
type receiver struct {
	*httptest.Server
	got    chan *http.Request
	bodies chan []byte
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{got: make(chan *http.Request, 1), bodies: make(chan []byte, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.got <- req
		r.bodies <- b
		w.Header().Set("X-Request-Id", "req-1")
		w.WriteHeader(status)
		io.WriteString(w, `{"error":"nope"}`)
	}))
	t.Cleanup(r.Close)
	return r
}

func TestDefaultBody(t *testing.T) {
	r := newReceiver(t, http.StatusOK)
	m := message(t, r.URL+"/hook")
	m.BearerToken = "tok-123"
	rc, err := New().Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	req, body := <-r.got, <-r.bodies
	if req.Method != http.MethodPost || req.URL.Path != "/hook" || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request = %s %s %s", req.Method, req.URL.Path, req.Header.Get("Content-Type"))
	}
	if got := req.Header.Get("Authorization"); got != "Bearer tok-123" {
		t.Errorf("Authorization = %q", got)
	}
	if got := req.Header.Get("Idempotency-Key"); got != "outbox-77" {
		t.Errorf("Idempotency-Key = %q", got)
	}
	if rc.ProviderID != "req-1" {
		t.Errorf("receipt = %q, want the receiver's request id", rc.ProviderID)
	}
	var b Body
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if b.Version != "1" || b.Kind != channels.KindPage || b.Incident.ID != 12 || b.Text != m.Text || b.Subject != m.Subject ||
		b.Status != "firing" || len(b.Alerts) != 2 || b.CommonLabels["team"] != "payments" || b.Language != "ja" {
		t.Errorf("body = %s", body)
	}
}

func TestNoAuthorizationWithoutAToken(t *testing.T) {
	r := newReceiver(t, http.StatusNoContent)
	if _, err := New().Send(context.Background(), message(t, r.URL)); err != nil {
		t.Fatal(err)
	}
	if got := (<-r.got).Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want none", got)
	}
}

func TestBodyTemplates(t *testing.T) {
	for _, name := range []string{"teams", "mattermost"} {
		t.Run(name, func(t *testing.T) {
			tmpl, err := os.ReadFile("testdata/" + name + ".tmpl")
			if err != nil {
				t.Fatal(err)
			}
			r := newReceiver(t, http.StatusOK)
			m := message(t, r.URL)
			m.BodyTemplate = string(tmpl)
			if _, err := New().Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			<-r.got
			body := <-r.bodies
			var v map[string]any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			for _, want := range []string{"決済APIのエラー率が5%を超えています", "incidents/12/ack", "https://runbooks.example.com/payments/high-error-rate"} {
				if !strings.Contains(asText(v), want) {
					t.Errorf("body lacks %q: %s", want, body)
				}
			}
		})
	}
}

// asText is every string in v, decoded, so checks see text and not its JSON escapes.
func asText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var s []string
		for _, e := range v {
			s = append(s, asText(e))
		}
		return strings.Join(s, "\n")
	case map[string]any:
		var s []string
		for _, e := range v {
			s = append(s, asText(e))
		}
		return strings.Join(s, "\n")
	}
	return ""
}

func TestBrokenTemplatesArePermanent(t *testing.T) {
	for name, tmpl := range map[string]string{
		"not JSON":        `{"text": {{ .Text }}}`, // unquoted text
		"execution error": `{"text": {{ .Incident.Nope }}}`,
		"parse error":     `{"text": {{ .Text | nosuch }}}`,
	} {
		t.Run(name, func(t *testing.T) {
			r := newReceiver(t, http.StatusOK)
			m := message(t, r.URL)
			m.BodyTemplate = tmpl
			_, err := New().Send(context.Background(), m)
			var pe *channels.PermanentError
			if !errors.As(err, &pe) || pe.Code != "template" {
				t.Errorf("err = %v, want permanent (template)", err)
			}
			select {
			case <-r.got:
				t.Error("a broken body was posted")
			default:
			}
		})
	}
}

func TestStatuses(t *testing.T) {
	for status, permanent := range map[int]bool{
		http.StatusBadRequest: true, http.StatusUnauthorized: true, http.StatusForbidden: true, http.StatusNotFound: true,
		http.StatusGone: true, http.StatusFound: true,
		http.StatusRequestTimeout: false, http.StatusTooManyRequests: false,
		http.StatusInternalServerError: false, http.StatusBadGateway: false, http.StatusServiceUnavailable: false,
	} {
		r := newReceiver(t, status)
		_, err := New().Send(context.Background(), message(t, r.URL+"/hooks/s3cr3t"))
		if err == nil {
			t.Errorf("%d: no error", status)
			continue
		}
		if channels.IsPermanent(err) != permanent {
			t.Errorf("%d: IsPermanent(%v) = %v, want %v", status, err, !permanent, permanent)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%d: the error shows the URL's secret path: %v", status, err)
		}
	}
}

func TestTimeoutIsTransient(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := New().Send(ctx, message(t, srv.URL+"/hooks/s3cr3t"))
	if err == nil || channels.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a transient deadline error", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("the error shows the URL's secret path: %v", err)
	}
}

func TestRefusedConnectionIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := New().Send(context.Background(), message(t, url))
	if err == nil || channels.IsPermanent(err) {
		t.Errorf("err = %v, want transient", err)
	}
}

func TestNotAURLIsPermanent(t *testing.T) {
	for _, to := range []string{"ftp://example.com/x", "example.com/hook", "://"} {
		if _, err := New().Send(context.Background(), message(t, to)); !channels.IsPermanent(err) {
			t.Errorf("%q: err = %v, want permanent", to, err)
		}
	}
}

func TestAdminsNamedTemplatesAreCallable(t *testing.T) {
	ts, err := template.Parse([]config.TemplateFile{{Path: "chat.tmpl", Text: `{{ define "chat.body" }}{"text": {{ .Title | toJson }}}{{ end }}`}})
	if err != nil {
		t.Fatal(err)
	}
	r := newReceiver(t, http.StatusOK)
	m := message(t, r.URL)
	m.BodyTemplate = `{{ template "chat.body" . }}`
	if _, err := New(WithTemplates(ts)).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	<-r.got
	if got := string(<-r.bodies); got != `{"text": "決済APIのエラー率が5%を超えています"}` {
		t.Errorf("body = %s", got)
	}
	if _, err := New().Send(context.Background(), m); !channels.IsPermanent(err) {
		t.Errorf("without the admin's templates: err = %v, want permanent", err)
	}
}
