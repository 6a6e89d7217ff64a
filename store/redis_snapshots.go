package store

import "sync"

// maxSnapshotBytes bounds the bytes the snapshot cache holds; an incident
// carries its Alertmanager message, so a count alone would not bound memory.
const maxSnapshotBytes = 32 << 20

// snapshots remembers, per incident, the JSON this process last read or
// wrote, as the guess an Update by id starts from: the engine's Get then
// Update of one incident (deliver) or its Updates in a row (fire a step,
// then record its pages) cost one round trip instead of two. A guess is
// never trusted: the write script compares its sha1 with what is stored and
// answers a stale one with the current state.
type snapshots struct {
	mu    sync.Mutex
	m     map[int64]cachedSnapshot
	bytes int
}

type cachedSnapshot struct {
	inc  *Incident // never handed out or modified: callers get clones
	sha  string
	size int
}

// get returns the snapshot to guess from for an update of incident id.
func (c *snapshots) get(id int64) (snapshot, bool) {
	c.mu.Lock()
	cs, ok := c.m[id]
	c.mu.Unlock()
	if !ok {
		return snapshot{}, false
	}
	return snapshot{cur: cs.inc, key: cs.inc.Key, sha: cs.sha}, true
}

// put remembers inc, whose record as stored has sha1 sha and which takes
// size bytes with its message; inc must not be modified afterwards.
func (c *snapshots) put(inc *Incident, sha string, size int) {
	if size > maxSnapshotBytes/64 {
		return // a huge message would evict many others for one guess
	}
	cs := cachedSnapshot{inc: inc, sha: sha, size: size}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[int64]cachedSnapshot)
	}
	if old, ok := c.m[inc.ID]; ok {
		c.bytes -= old.size
	}
	// Evict arbitrary entries: a miss costs one read, so no LRU bookkeeping.
	for id, old := range c.m {
		if c.bytes+cs.size <= maxSnapshotBytes {
			break
		}
		delete(c.m, id)
		c.bytes -= old.size
	}
	c.m[inc.ID] = cs
	c.bytes += cs.size
}
