package router

import (
	"context"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/store"
)

// TestWebhookWithHugeGroupKeyPagesAndResolves: a group key of 40 KiB (a
// group_by over many long label values) is over bbolt's 32 KiB key limit; it
// was answered 503 for ever and never paged.
func TestWebhookWithHugeGroupKeyPagesAndResolves(t *testing.T) {
	h, srv := newTestServer(t)
	url := srv.URL + "/api/v1/alertmanager"
	groupKey := `{}:{alertname="DiskFull", instance="` + strings.Repeat("i", 40<<10) + `"}`
	labels := map[string]string{"alertname": "DiskFull", "team": "infra"}

	code, body := do(t, "POST", url, "hook-token", webhookJSON("firing", groupKey, h.clock.Now(), labels))
	if code != 200 || !strings.Contains(body, `"incidents":[1]`) {
		t.Fatalf("firing post with a 40 KiB group key: %d %.200s; want 200 and incident 1", code, body)
	}
	h.advance(0)
	got, _ := h.pages(0)
	eq(t, "step 1 pages", got, []string{"slack:C0OPS", "slack:U0ALICE", "sms:+819000000001"})

	// Alertmanager re-posts the group: the same incident, not a second one.
	if code, body := do(t, "POST", url, "hook-token", webhookJSON("firing", groupKey, h.clock.Now(), labels)); code != 200 || !strings.Contains(body, `"incidents":[1]`) {
		t.Fatalf("re-post: %d %.200s", code, body)
	}
	if code, body := do(t, "POST", url, "hook-token", webhookJSON("resolved", groupKey, h.clock.Now(), labels)); code != 200 {
		t.Fatalf("resolved post: %d %.200s", code, body)
	}
	inc, err := h.st.Get(context.Background(), 1)
	if err != nil || inc.Status != store.StatusResolved || inc.Key != "hikyaku/"+groupKey {
		t.Fatalf("incident 1 after resolve: status %v, key of %d bytes, %v; want resolved with the full key", inc.Status, len(inc.Key), err)
	}
}
