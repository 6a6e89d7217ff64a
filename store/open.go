package store

import (
	"context"
	"fmt"
	"path/filepath"
)

// BoltFileName is the embedded store's file inside the data dir.
const BoltFileName = "hikyaku.db"

// Open opens the store a URL names. An empty url is the embedded bbolt file
// dataDir/hikyaku.db (dataDir is created 0700); redis://, rediss://,
// redis-sentinel:// and redis-cluster:// are Redis (see parseRedisURL).
// For Redis, Open pings once so a wrong address fails at start-up. Either
// store is brought to its current layout (bolt_layout.go, redis_layout.go).
func Open(ctx context.Context, url string, dataDir string) (Store, error) {
	if url == "" {
		if dataDir == "" {
			return nil, fmt.Errorf("store: no store URL and no data dir")
		}
		return OpenBolt(filepath.Join(dataDir, BoltFileName))
	}
	conn, opt, err := parseRedisURL(url)
	if err != nil {
		return nil, err
	}
	s := NewRedis(conn.client(), opt)
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if _, err := s.Upgrade(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
