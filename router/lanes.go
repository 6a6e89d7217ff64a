package router

import (
	"context"
	"encoding/json"
	"sync"
)

// lanes keep the pages to one recipient on one channel in the order they
// were claimed, which is due order: after downtime a burst of overdue pages
// runs on many workers at once, and without a lane a later page to someone
// could overtake an earlier one. Pages to different people still run in
// parallel, so one slow provider never holds up another person's page.
type lanes struct {
	mu   sync.Mutex
	tail map[string]chan struct{} // lane → done channel of its last job
}

// enter queues a job on lane key, in call order: wait is closed when the
// job before it is done (nil when none is running), and done must be
// called when this job is.
func (l *lanes) enter(key string) (wait <-chan struct{}, done func()) {
	if key == "" {
		return nil, func() {}
	}
	mine := make(chan struct{})
	l.mu.Lock()
	if l.tail == nil {
		l.tail = map[string]chan struct{}{}
	}
	if prev, ok := l.tail[key]; ok {
		wait = prev
	}
	l.tail[key] = mine
	l.mu.Unlock()
	return wait, func() {
		close(mine)
		l.mu.Lock()
		if l.tail[key] == mine {
			delete(l.tail, key)
		}
		l.mu.Unlock()
	}
}

// laneOf is the recipient and channel of a job's messages, "" for a job
// that sends nothing itself (a step, an exhaustion, a report's schedule).
func laneOf(j job) string {
	c := j.claims[0]
	if c.Kind != kindNotify {
		return ""
	}
	var p notifyPayload
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		return "" // deliver reports it
	}
	return who(&p) + "\x00" + p.Channel
}

type laneCtxKey struct{}

// withLane gives a handler the way to leave its lane (leaveLane).
func withLane(ctx context.Context, leave func()) context.Context {
	return context.WithValue(ctx, laneCtxKey{}, leave)
}

// leaveLane lets the next page in the handler's lane start once the
// provider has answered this one (or the takeover found it sent): the
// order the lane keeps is the order the provider takes them in, and
// recording this one (a store write, slow on a busy disk) need not hold
// up the next. A handler without a lane (ProcessDue) has nothing to leave.
func leaveLane(ctx context.Context) {
	if leave, ok := ctx.Value(laneCtxKey{}).(func()); ok {
		leave()
	}
}
