package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
)

// SetRedisLogger sends go-redis's own log lines (dial failures, Sentinel
// failovers) to l instead of its default stderr logger, whose plain lines
// would break a JSON log. go-redis has one logger per process.
func SetRedisLogger(l *slog.Logger) {
	redis.SetLogger(redisLog{l.With("component", "redis")})
}

// redisLog implements go-redis's Logging interface on slog. go-redis's
// lines carry no level: those about a failure are warnings (the store's
// caller reports what the failure costs), the rest (a Sentinel naming the
// new master) are information.
type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	lower := strings.ToLower(msg)
	level := slog.LevelInfo
	for _, w := range []string{"fail", "error", "panic", "refused", "reject", "unexpected", "timeout"} {
		if strings.Contains(lower, w) {
			level = slog.LevelWarn
			break
		}
	}
	r.l.Log(ctx, level, msg)
}
