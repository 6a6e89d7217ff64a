package store

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRedisLogsThroughSlog: go-redis's own lines (here: dialing a port
// nobody listens on) come out as slog records, so a JSON log stays JSON.
func TestRedisLogsThroughSlog(t *testing.T) {
	var buf syncBuffer
	SetRedisLogger(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { SetRedisLogger(slog.New(slog.DiscardHandler)) })

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	if err := rdb.Ping(context.Background()).Err(); err == nil {
		t.Fatal("PING to a closed port succeeded")
	}
	out := strings.TrimSpace(buf.String())
	if out == "" {
		t.Fatal("go-redis logged nothing through slog for a failed dial")
	}
	for _, line := range strings.Split(out, "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		if rec["component"] != "redis" || rec["level"] != "WARN" || !strings.Contains(rec["msg"].(string), "failed to dial") {
			t.Errorf("record %v, want a WARN from component redis about the dial", rec)
		}
	}
}

func TestRedisLogLevels(t *testing.T) {
	var buf syncBuffer
	log := redisLog{slog.New(slog.NewJSONHandler(&buf, nil))}
	log.Printf(context.Background(), "sentinel: new master=%q addr=%q", "mymaster", "127.0.0.1:6380")
	var rec map[string]any
	if err := json.Unmarshal(bytes.TrimSpace([]byte(buf.String())), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["level"] != "INFO" || rec["msg"] != `sentinel: new master="mymaster" addr="127.0.0.1:6380"` {
		t.Errorf("record %v", rec)
	}
}

// syncBuffer is a bytes.Buffer safe for go-redis's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
