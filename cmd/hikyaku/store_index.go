package main

import (
	"context"
	"log/slog"
)

// reindexer is a store whose incidents may predate the query indexes
// (Redis; the embedded store indexes an old file when it opens it).
type reindexer interface {
	Unindexed(ctx context.Context) (int64, error)
	Reindex(ctx context.Context) (int, error)
}

// reindexStore indexes, in the background, the incidents an older version
// wrote, which queries would otherwise not show, and says so meanwhile.
func reindexStore(ctx context.Context, log *slog.Logger, st any) {
	r, ok := st.(reindexer)
	if !ok {
		return
	}
	n, err := r.Unindexed(ctx)
	if err != nil {
		log.Error("cannot tell whether every incident is indexed; queries may miss old incidents until `hikyaku store reindex` runs", "err", err)
		return
	}
	if n == 0 {
		return
	}
	log.Warn("incidents written by an older version are not indexed: queries miss them until reindexing ends", "unindexed", n)
	done, err := r.Reindex(ctx)
	if err != nil {
		log.Error("reindexing stopped; queries miss the incidents left until `hikyaku store reindex` runs", "indexed", done, "err", err)
		return
	}
	log.Info("reindexed incidents written by an older version", "indexed", done)
}
