package router

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/policies"
	"github.com/hikyaku/hikyaku/store"
)

// FuzzStoredRequests: whatever arrives as an override or mute request is
// stored only when it is one the engine can apply (known people and
// routes, times in order and not past, a bounded mute with a reason), or
// refused with ErrBadOverride; and on-call math over a stored cover,
// whatever its times, answers without a panic.
func FuzzStoredRequests(f *testing.F) {
	for _, s := range []string{
		`{"for":"alice","by":"bob","start":"2026-01-07T05:00:00Z","end":"2026-01-07T06:00:00Z"}`,
		`{"for":"alice","by":"bob","rotation":"primary","start":"2026-01-07T05:00:00Z","end":"9999-12-31T23:59:59Z"}`,
		`{"for":"alice","by":"alice","start":"2026-01-07T05:00:00Z","end":"2026-01-07T06:00:00Z"}`,
		`{"route":"nights","for":"30m","reason":"deploy"}`, `{"department":"eng","for":"168h","reason":"x"}`,
		`{"department":"eng","route":"nights","for":"-1s","reason":"x"}`, `{"for":"1e9h"}`, `{} {}`, `[`,
	} {
		f.Add([]byte(s))
	}
	cfg, err := config.Parse([]byte(testConfig), "test.yml")
	if err != nil {
		f.Fatal(err)
	}
	st, err := store.OpenBolt(filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	e := New(policies.Compile(cfg), Options{Store: st, Clock: &fakeClock{t: t0}, Owner: "fuzz"})
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, body []byte) {
		var oq overrideRequest
		if decodeJSON(body, &oq) == nil {
			o, err := e.AddOverride(ctx, "alice", CoverRequest{For: oq.For, By: oq.By, Rotation: oq.Rotation, Start: oq.Start, End: oq.End})
			switch {
			case err != nil && !errors.Is(err, ErrBadOverride) && !errors.Is(err, ErrForbidden):
				t.Fatalf("override %q: error %v is neither ErrBadOverride nor ErrForbidden", body, err)
			case err == nil:
				if cfg.User(o.For) == nil || cfg.User(o.By) == nil || o.For == o.By || !o.Start.Before(o.End) || !o.End.After(t0) {
					t.Fatalf("override %q stored as %+v", body, o)
				}
				set, err := e.LivePolicies(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, id := range []string{"primary", "secondary"} {
					if _, err := set.Shifts(id, o.Start, o.Start.Add(48*time.Hour)); err != nil {
						t.Fatal(err)
					}
					set.OnCall(id, o.Start)
					set.OnCall(id, o.End.Add(-time.Nanosecond))
				}
				if _, err := e.RemoveOverride(ctx, "alice", o.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		var mq muteRequest
		if decodeJSON(body, &mq) == nil {
			d, perr := time.ParseDuration(mq.For)
			m, err := e.StartMute(ctx, "alice", MuteRequest{Route: mq.Route, Department: mq.Department, For: d, Reason: mq.Reason})
			switch {
			case err != nil && !errors.Is(err, ErrBadOverride) && !errors.Is(err, ErrForbidden):
				t.Fatalf("mute %q: error %v is neither ErrBadOverride nor ErrForbidden", body, err)
			case err == nil:
				if perr != nil || d <= 0 || d > MaxMute || m.Reason == "" || (m.Route == "") == (m.Department == "") ||
					(m.Route != "" && cfg.Route(m.Route) == nil) || (m.Department != "" && cfg.Department(m.Department) == nil) {
					t.Fatalf("mute %q stored as %+v", body, m)
				}
				if _, err := e.EndMute(ctx, "alice", m.ID); err != nil {
					t.Fatal(err)
				}
				if _, err := st.DeleteEnded(ctx, t0.Add(time.Second)); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
