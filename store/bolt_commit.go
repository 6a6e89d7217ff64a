package store

import (
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// maxGroup bounds how many writes share one transaction, so one commit never
// holds a crowd of callers behind a huge write.
const maxGroup = 256

// errClosed answers writes that arrive after Close.
var errClosed = errors.New("store: closed")

// groupCommit runs concurrent writes in one bbolt transaction and one fsync.
// Unlike bolt's DB.Batch it never waits for company: a write arriving while
// nothing is committing commits at once, and those arriving during a commit
// share the next one. Each caller returns only after the commit that holds
// its write is on disk.
type groupCommit struct {
	db    *bolt.DB
	reqs  chan *groupCall
	stop  chan struct{}
	done  chan struct{}
	close sync.Once
}

type groupCall struct {
	fn  func(*bolt.Tx) error
	err chan error
}

func newGroupCommit(db *bolt.DB) *groupCommit {
	g := &groupCommit{db: db, reqs: make(chan *groupCall), stop: make(chan struct{}), done: make(chan struct{})}
	go g.run()
	return g
}

// update runs fn in a write transaction, possibly shared with other writers.
// fn may run more than once (when a write sharing its transaction fails, the
// others run again without it), so it must only touch tx.
func (g *groupCommit) update(fn func(*bolt.Tx) error) error {
	c := &groupCall{fn: fn, err: make(chan error, 1)}
	select {
	case g.reqs <- c:
	case <-g.stop:
		return errClosed
	}
	return <-c.err
}

// shutdown stops taking writes and waits for the one in progress.
func (g *groupCommit) shutdown() {
	g.close.Do(func() { close(g.stop) })
	<-g.done
}

func (g *groupCommit) run() {
	defer close(g.done)
	for {
		var first *groupCall
		select {
		case first = <-g.reqs:
		case <-g.stop:
			return
		}
		calls := []*groupCall{first}
	gather: // whoever is already waiting; never wait for more
		for len(calls) < maxGroup {
			select {
			case c := <-g.reqs:
				calls = append(calls, c)
			default:
				break gather
			}
		}
		g.commit(calls)
	}
}

// commit writes calls in one transaction. If one fails, the transaction is
// rolled back; that call runs alone so it gets its own answer, and the
// others commit again without it.
func (g *groupCommit) commit(calls []*groupCall) {
	for len(calls) > 0 {
		failed := -1
		err := g.db.Update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				if err := safeCall(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if err == nil || failed < 0 {
			for _, c := range calls {
				c.err <- err // nil, or the commit itself failed: nothing of it was written
			}
			return
		}
		if len(calls) == 1 {
			calls[0].err <- err
			return
		}
		c := calls[failed]
		c.err <- g.db.Update(func(tx *bolt.Tx) error { return safeCall(c.fn, tx) })
		calls = append(calls[:failed:failed], calls[failed+1:]...)
	}
}

// safeCall turns a panic in fn into its error, so one bad write cannot take
// down the goroutine every writer depends on.
func safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: panic in update: %v", r)
		}
	}()
	return fn(tx)
}
