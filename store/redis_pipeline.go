package store

import (
	"context"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// maxPipelines bounds the pipelines in flight at once. One would serialise
// the writes behind each round trip (and its fsync); a few keep Redis busy
// while the next batch gathers.
const maxPipelines = 4

// maxPipelined bounds one pipeline, so a burst does not become one huge
// request that holds every caller in it behind the slowest script.
const maxPipelined = 128

// pipeliner sends concurrent runs of one script as one pipeline: one write
// and one read on each side instead of one per call, which is most of what a
// short script costs both processes. Like groupCommit it never waits for
// company: a call arriving while fewer than maxPipelines are in flight goes
// at once; those arriving meanwhile share the next pipeline. Each call still
// runs as its own atomic script and gets its own reply, which Redis sends only
// after the write is in the AOF (and fsync'd, with appendfsync always).
type pipeliner struct {
	rdb    redis.UniversalClient
	script *redis.Script

	mu       sync.Mutex
	queue    []*pipeCall
	inFlight int
}

type pipeCall struct {
	ctx  context.Context
	keys []string
	args []any
	res  []any
	err  error
	// wake says true when the call is done, false when it is to lead the next pipeline.
	wake chan bool
}

// run runs the script with keys and args, possibly in one pipeline with others.
func (p *pipeliner) run(ctx context.Context, keys []string, args []any) ([]any, error) {
	c := &pipeCall{ctx: ctx, keys: keys, args: args, wake: make(chan bool, 1)}
	p.mu.Lock()
	if p.inFlight >= maxPipelines {
		p.queue = append(p.queue, c)
		p.mu.Unlock()
		if done := <-c.wake; done {
			return c.res, c.err
		}
		// A finished pipeline took us off the queue and passed us its slot.
		p.mu.Lock()
	} else {
		p.inFlight++
	}
	n := min(len(p.queue), maxPipelined-1)
	batch := append(make([]*pipeCall, 0, n+1), c)
	batch = append(batch, p.queue[:n]...)
	clear(p.queue[:n])
	p.queue = p.queue[n:]
	p.mu.Unlock()

	p.exec(ctx, batch)

	p.mu.Lock()
	if len(p.queue) == 0 {
		p.inFlight--
		p.mu.Unlock()
		return c.res, c.err
	}
	// Pass the slot to the oldest waiter rather than serve it ourselves, so
	// our caller is not held behind other people's round trips.
	next := p.queue[0]
	p.queue[0] = nil
	p.queue = p.queue[1:]
	p.mu.Unlock()
	next.wake <- false
	return c.res, c.err
}

// exec sends batch as one pipeline of EVALSHA. A script Redis lost (a restart,
// SCRIPT FLUSH) comes back NOSCRIPT, and that call runs alone with EVAL.
func (p *pipeliner) exec(ctx context.Context, batch []*pipeCall) {
	if len(batch) == 1 {
		c := batch[0]
		c.res, c.err = p.script.Run(c.ctx, p.rdb, c.keys, c.args...).Slice()
		c.wake <- true
		return
	}
	// One caller's cancellation must not fail the others sharing its pipeline;
	// the client's own timeouts still bound it.
	ctx = context.WithoutCancel(ctx)
	pipe := p.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(batch))
	for i, c := range batch {
		cmds[i] = pipe.EvalSha(ctx, p.script.Hash(), c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	for i, c := range batch {
		c.res, c.err = cmds[i].Slice()
		if c.err != nil && strings.HasPrefix(c.err.Error(), "NOSCRIPT") {
			c.res, c.err = p.script.Run(ctx, p.rdb, c.keys, c.args...).Slice()
		}
		c.wake <- true
	}
}
