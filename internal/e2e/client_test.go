package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// Credentials written into every test config.
const (
	webhookToken = "e2e-webhook-token"
	apiToken     = "e2e-api-token"
)

// client talks to one replica. Its timeout is longer than hikyaku's own
// store timeouts, so a 503 from hikyaku is seen as a 503, not a client timeout.
var client = &http.Client{Timeout: 30 * time.Second}

// postWebhook posts an Alertmanager body as Alertmanager does, with the
// receiver's bearer token, and returns the status code.
func postWebhook(addr string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/alertmanager", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+webhookToken)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// incidentView is what GET /api/v1/incidents/{id} answers.
type incidentView struct {
	store.Incident
	Timeline []store.Event `json:"timeline"`
}

// events are the timeline's events of one type, in order.
func (v *incidentView) events(typ string) []store.Event {
	var out []store.Event
	for _, ev := range v.Timeline {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func getIncident(addr string, id int64) (*incidentView, error) {
	var v incidentView
	if err := apiGet(addr, fmt.Sprintf("/api/v1/incidents/%d", id), &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// listIncidents is every incident, newest first.
func listIncidents(addr string) ([]incidentView, error) {
	var out []incidentView
	cursor := ""
	for {
		var page struct {
			Items      []incidentView `json:"items"`
			NextCursor string         `json:"next_cursor"`
		}
		if err := apiGet(addr, "/api/v1/incidents?cursor="+url.QueryEscape(cursor), &page); err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			return out, nil
		}
	}
}

// onCallView is one entry of GET /api/v1/oncall.
type onCallView struct {
	ID   string `json:"id"`
	User string `json:"user"`
}

func onCall(addr, rotation string) (string, error) {
	var out []onCallView
	if err := apiGet(addr, "/api/v1/oncall", &out); err != nil {
		return "", err
	}
	for _, v := range out {
		if v.ID == rotation {
			return v.User, nil
		}
	}
	return "", fmt.Errorf("rotation %q not in /api/v1/oncall", rotation)
}

func apiGet(addr, path string, v any) error {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: decode: %w", path, err)
	}
	return nil
}

// statusOf is the status code of a plain GET (health and readiness).
func statusOf(addr, path string) int {
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
