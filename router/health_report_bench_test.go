package router

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// BenchmarkHealthReport: a week's report of a department with 1,000
// incidents (two pages each) in a store that also holds 10,000 of another
// department's in the same week. The other department's are never read,
// so the time is that of the 1,000 (docs/reports.md, "What it costs").
func BenchmarkHealthReport(b *testing.B) {
	cfg, err := config.Parse([]byte(reportConfig), "report.yml")
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.OpenBolt(filepath.Join(b.TempDir(), "hikyaku.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	seed := func(dept string, n int) {
		for i := range n {
			at := reportFrom.Add(time.Duration(i) * (reportTo.Sub(reportFrom) / time.Duration(n)))
			inc := store.Incident{Key: fmt.Sprintf("%s/%d", dept, i), Status: store.StatusResolved, CreatedAt: at, UpdatedAt: at,
				AckedAt: at.Add(time.Minute), ResolvedAt: at.Add(time.Hour), Department: dept, Policy: "page"}
			ds := []store.Delivery{{Kind: store.DeliveryPage, Channel: "sms", User: "ada", Step: 1, At: at},
				{Kind: store.DeliveryPage, Channel: "voice", User: "ada", Step: 1, At: at.Add(30 * time.Second)}}
			if _, err := st.UpdateByKey(ctx, inc.Key, func(*store.Incident) (*store.Change, error) {
				return &store.Change{Incident: &inc, Deliveries: ds}, nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	seed("infra", 1000)
	seed("web", 10000)
	e := New(policies.Compile(cfg), Options{Store: st, Owner: "bench"})
	b.ResetTimer()
	for b.Loop() {
		r, err := e.HealthReport(ctx, "infra", reportFrom, reportTo)
		if err != nil || r.Incidents != 1000 || r.Pages != 2000 {
			b.Fatalf("%v %+v", err, r)
		}
	}
}
