package router

import (
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
