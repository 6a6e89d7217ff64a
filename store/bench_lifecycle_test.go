package store_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/store"
)

// BenchmarkLifecycleBytes measures the bytes a store writes for one incident's
// whole life, as the engine writes it: intake (created, routed, step timer),
// one step (step_fired, a page timer, the step timer cancelled), the page's
// send recorded (notified, fenced on its claim), ack, resolve. The embedded
// store's figure is what the process handed to write(2) and pwrite(2)
// (/proc/self/io wchar: bbolt's pages and meta pages); Redis's is the growth
// of its append-only file, which is what it persists and replicates.
func BenchmarkLifecycleBytes(b *testing.B) {
	for _, size := range []int{2 << 10, 1 << 20} {
		msg := alertMessage(size)
		name := fmt.Sprintf("msg=%dKiB", size>>10)
		b.Run("bolt/"+name, func(b *testing.B) {
			if _, err := wchar(); err != nil {
				b.Skip(err)
			}
			s, err := store.OpenBolt(b.TempDir() + "/" + store.BoltFileName)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			benchLifecycle(b, s, msg, wchar)
		})
		b.Run("redis/"+name, func(b *testing.B) {
			srv := redistest.Start(b, redistest.Options{AppendOnly: true, Args: []string{"--appendfsync", "everysec", "--aof-use-rdb-preamble", "no", "--auto-aof-rewrite-percentage", "0"}})
			s := openRedis(b, srv.URL())
			defer s.Close()
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
			defer rdb.Close()
			benchLifecycle(b, s, msg, func() (int64, error) { return aofSize(b.Context(), rdb) })
		})
	}
}

func benchLifecycle(b *testing.B, s store.Store, msg []byte, written func() (int64, error)) {
	store.UseCallerClock(s)
	ctx := b.Context()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var bytesTotal int64
	i := 0
	for b.Loop() {
		i++
		before, err := written()
		if err != nil {
			b.Fatal(err)
		}
		lifecycle(ctx, b, s, i, t0.Add(time.Duration(i)*time.Hour), msg)
		after, err := written()
		if err != nil {
			b.Fatal(err)
		}
		bytesTotal += after - before
	}
	b.ReportMetric(float64(bytesTotal)/float64(i), "B/lifecycle")
}

// lifecycle writes one incident's life, the Changes the engine makes.
func lifecycle(ctx context.Context, b *testing.B, s store.Store, i int, now time.Time, msg []byte) {
	key := fmt.Sprintf("ops/group-%d", i)
	stepID := fmt.Sprintf("%d/step/0", i)
	opened, err := s.UpdateByKey(ctx, key, func(cur *store.Incident) (*store.Change, error) {
		return &store.Change{
			Incident: &store.Incident{Status: store.StatusOpen, CreatedAt: now, UpdatedAt: now, LastAlertAt: now,
				Department: "infra", Policy: "infra", Route: "infra", Severity: "critical", Message: msg,
				Escalation: store.Escalation{Step: -1}},
			Events: []store.Event{
				{At: now, Type: "created", Actor: "alertmanager", Detail: map[string]string{"receiver": "ops", "alerts": "1"}},
				{At: now, Type: "routed", Detail: map[string]string{"route": "infra", "policy": "infra", "severity": "critical"}},
			},
			Schedule: []store.Timer{{ID: stepID, Due: now, Kind: "step", Payload: []byte(`{"gen":0,"round":0,"step":0}`)}},
		}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	id := opened.Incident.ID
	step := claimTimer(ctx, b, s, now, stepID)
	pageID := fmt.Sprintf("%d/notify/0", id)
	_, err = s.Update(ctx, id, func(cur *store.Incident) (*store.Change, error) {
		inc := *cur
		inc.UpdatedAt = now
		inc.Escalation.Step = 0
		return &store.Change{Incident: &inc, Cancel: []string{step.ID},
			Events: []store.Event{{At: now, Type: "step_fired", Detail: map[string]string{"step": "1", "round": "1", "users": "alice"}}},
			Schedule: []store.Timer{
				{ID: pageID, Due: now, Kind: "notify", Payload: []byte(`{"kind":"page","user":"alice","channel":"sms"}`)},
				{ID: fmt.Sprintf("%d/step/1", id), Due: now.Add(10 * time.Minute), Kind: "step", Payload: []byte(`{"gen":0,"round":0,"step":1}`)},
			}}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	page := claimTimer(ctx, b, s, now, pageID)
	_, err = s.Update(ctx, id, func(cur *store.Incident) (*store.Change, error) {
		inc := *cur
		return &store.Change{Incident: &inc, Complete: &page,
			Events: []store.Event{{At: now, Type: "notified", Detail: map[string]string{"user": "alice", "channel": "sms", "provider_id": "SM0123456789abcdef"}}}}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, st := range []store.Status{store.StatusAcked, store.StatusResolved} {
		_, err = s.Update(ctx, id, func(cur *store.Incident) (*store.Change, error) {
			inc := *cur
			inc.Status, inc.UpdatedAt = st, now
			if st == store.StatusAcked {
				inc.AckedAt, inc.AckedBy = now, "alice"
				inc.Escalation.Generation++
			} else {
				inc.ResolvedAt = now
			}
			return &store.Change{Incident: &inc, CancelIncidentTimers: true,
				Events: []store.Event{{At: now, Type: string(st), Actor: "alice"}}}, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// claimTimer claims the timer id, due at now.
func claimTimer(ctx context.Context, b *testing.B, s store.Store, now time.Time, id string) store.Claim {
	cs, err := s.ClaimDue(ctx, now, "bench", time.Minute, 10)
	if err != nil {
		b.Fatal(err)
	}
	if len(cs) != 1 || cs[0].ID != id {
		b.Fatalf("claimed %v, want only %s", cs, id)
	}
	return cs[0]
}

// alertMessage is an Alertmanager webhook body of about size bytes.
func alertMessage(size int) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"version":"4","status":"firing","receiver":"ops","groupKey":"{}:{alertname=\"HighLatency\"}","alerts":[`)
	for n := 0; buf.Len() < size-200; n++ {
		if n > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"status":"firing","labels":{"alertname":"HighLatency","instance":"web-%06d"},"annotations":{"summary":"p99 latency over 500ms"}}`, n)
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}

// wchar is the bytes this process has handed to write calls so far.
func wchar() (int64, error) {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return 0, fmt.Errorf("bytes written: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "wchar: "); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("bytes written: no wchar in /proc/self/io")
}

// aofSize is the size of Redis's append-only file.
func aofSize(ctx context.Context, rdb *redis.Client) (int64, error) {
	info, err := rdb.Info(ctx, "persistence").Result()
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "aof_current_size:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no aof_current_size in INFO persistence")
}
