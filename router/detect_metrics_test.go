package router

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestTimeToDetect: an alert that started firing 45 s before Alertmanager's
// post opens an incident detected in 45 s; one whose startsAt is ahead of
// hikyaku's clock is counted as skewed and logged, not recorded as 0; a
// repeated post of an open incident is no new detection.
func TestTimeToDetect(t *testing.T) {
	h := newHarness(t, testConfig)
	var logs bytes.Buffer
	h.engine.log = slog.New(slog.NewTextHandler(&logs, nil))
	ingest := func(group string, startsAt time.Time) {
		t.Helper()
		raw := webhookJSON("firing", group, startsAt, map[string]string{"alertname": "X"})
		msg, err := DecodeMessage(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.engine.Ingest(context.Background(), msg, raw); err != nil {
			t.Fatal(err)
		}
	}
	ingest("g1", t0.Add(-45*time.Second))
	ingest("g1", t0.Add(-45*time.Second)) // Alertmanager's re-send
	ingest("g2", t0.Add(10*time.Second))

	var m dto.Metric
	if err := h.engine.metrics.detect.timeToDetect.WithLabelValues("eng").(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetHistogram(); got.GetSampleCount() != 1 || got.GetSampleSum() != 45 {
		t.Errorf("hikyaku_time_to_detect_seconds{department=eng}: count %d sum %v, want 1 and 45", got.GetSampleCount(), got.GetSampleSum())
	}
	if got := counterValue(t, h.engine.metrics.detect.skewed.WithLabelValues("eng")); got != 1 {
		t.Errorf("hikyaku_time_to_detect_skewed_total{department=eng} = %v, want 1", got)
	}
	if !strings.Contains(logs.String(), "level=WARN msg=\"alert starts after its incident opened") || !strings.Contains(logs.String(), "skew=10s") {
		t.Errorf("the skew is not logged:\n%s", logs.String())
	}
}
