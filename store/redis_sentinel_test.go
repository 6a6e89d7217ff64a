package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hikyaku/hikyaku/internal/redistest"
	"github.com/hikyaku/hikyaku/store"
)

// With wait=1, every incident the store acknowledged is on the replica, so a
// Sentinel failover after the master is killed loses none of them.
func TestRedisSentinelFailoverKeepsAcknowledgedIncidents(t *testing.T) {
	if testing.Short() {
		t.Skip("failover takes a few seconds")
	}
	master := redistest.Start(t, redistest.Options{AppendOnly: true})
	replica := redistest.Start(t, redistest.Options{AppendOnly: true, Args: []string{"--replicaof", "127.0.0.1", strconv.Itoa(master.Port())}})
	waitFor(t, 10*time.Second, "replica attached", func(ctx context.Context) bool {
		info, err := redisAt(t, master.Addr()).Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "connected_slaves:1") && strings.Contains(info, "state=online")
	})
	sentinel := redistest.StartSentinel(t, master, "hikyaku")

	s := openRedis(t, fmt.Sprintf("redis-sentinel://%s/hikyaku?wait=1&wait_timeout=1s&dial_timeout=300ms&max_retries=0", sentinel.Addr()))
	defer s.Close()

	var acked []int64
	write := func(i int) error {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		incRes, err := s.UpdateByKey(ctx, fmt.Sprintf("r/%d", i), func(*store.Incident) (*store.Change, error) {
			return &store.Change{Incident: &store.Incident{}, Events: []store.Event{{Type: "created"}}}, nil
		})
		inc := incRes.Incident
		if err == nil {
			acked = append(acked, inc.ID)
		}
		return err
	}
	i := 0
	for ; i < 20; i++ {
		if err := write(i); err != nil {
			t.Fatalf("write %d before failover: %v", i, err)
		}
	}

	master.Kill()
	sentinelClient := redis.NewSentinelClient(&redis.Options{Addr: sentinel.Addr()})
	defer sentinelClient.Close()
	// A sentinel whose first failover attempt fails retries only after twice
	// failover-timeout (10 s here): leave room for that on a loaded CI machine.
	waitFor(t, 45*time.Second, "sentinel promotes the replica", func(ctx context.Context) bool {
		addr, err := sentinelClient.GetMasterAddrByName(ctx, "hikyaku").Result()
		return err == nil && len(addr) == 2 && addr[1] == strconv.Itoa(replica.Port())
	})

	// The promoted master has no replica, so wait=1 now fails every write:
	// hikyaku reports that instead of acknowledging a write on one node only.
	if err := write(i); err == nil || !strings.Contains(err.Error(), "replicas acknowledged") {
		t.Fatalf("write with no replica left: err = %v, want a WAIT failure", err)
	}
	for _, id := range acked {
		if _, err := s.Get(t.Context(), id); err != nil {
			t.Fatalf("acknowledged incident %d lost in failover: %v", id, err)
		}
	}
}

func redisAt(t *testing.T, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		ok := cond(ctx)
		cancel()
		if ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for: %s", timeout, what)
}
