package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxTxAttempts bounds the optimistic-concurrency retries of one update.
// Conflicts need another writer on the same incident (or, for creates, any
// create) between our read and our EXEC, so a handful is plenty.
const maxTxAttempts = 100

// RedisOptions are hikyaku's own settings for a Redis store.
type RedisOptions struct {
	// Prefix namespaces the keys: hikyaku:{Prefix}:... The braces are a Cluster
	// hash tag, so all of hikyaku's data sits on one slot and multi-key
	// transactions and scripts work; fine at hikyaku's scale.
	Prefix string
	// Wait, when > 0, makes every incident write wait for that many replicas
	// to acknowledge it (WAIT), failing the write if fewer do within WaitTimeout.
	Wait        int
	WaitTimeout time.Duration
}

// Redis is the store on Redis (single, Sentinel or Cluster), shared by replicas.
type Redis struct {
	rdb  redis.UniversalClient
	opt  RedisOptions
	base string // "hikyaku:{prefix}:"
}

// NewRedis wraps a client; Close closes it.
func NewRedis(rdb redis.UniversalClient, opt RedisOptions) *Redis {
	if opt.Prefix == "" {
		opt.Prefix = defaultRedisPrefix
	}
	if opt.Wait > 0 && opt.WaitTimeout <= 0 {
		opt.WaitTimeout = defaultWaitTimeout // WAIT with timeout 0 would block forever
	}
	return &Redis{rdb: rdb, opt: opt, base: "hikyaku:{" + opt.Prefix + "}:"}
}

func (s *Redis) seqKey() string              { return s.base + "seq" }
func (s *Redis) incidentKey(id int64) string { return s.base + "incident:" + strconv.FormatInt(id, 10) }
func (s *Redis) dedupKey(key string) string  { return s.base + "key:" + key }
func (s *Redis) allKey() string              { return s.base + "incidents" }
func (s *Redis) statusKey(st Status) string  { return s.base + "status:" + string(st) }
func (s *Redis) timelineKey(id int64) string { return s.base + "timeline:" + strconv.FormatInt(id, 10) }
func (s *Redis) timersKey() string           { return s.base + "timers" }
func (s *Redis) dueKey() string              { return s.base + "due" }
func (s *Redis) claimsKey() string           { return s.base + "claims" }

// timerKeys are the KEYS of every timer script but release.lua, in this order.
func (s *Redis) timerKeys() []string { return []string{s.timersKey(), s.dueKey(), s.claimsKey()} }

// loadFunc reads the incident an update starts from, WATCHing what it read,
// and returns it with the id currently holding its dedup key (0 if none).
type loadFunc func(ctx context.Context, tx *redis.Tx) (cur *Incident, key string, holder int64, err error)

func (s *Redis) UpdateByKey(ctx context.Context, key string, fn func(cur *Incident) (*Change, error)) (*Incident, error) {
	dk := s.dedupKey(key)
	load := func(ctx context.Context, tx *redis.Tx) (*Incident, string, int64, error) {
		holder, err := getID(ctx, tx, dk)
		if err != nil || holder == 0 {
			return nil, key, 0, err
		}
		if err := tx.Watch(ctx, s.incidentKey(holder)).Err(); err != nil {
			return nil, key, 0, err
		}
		cur, err := s.getIncident(ctx, tx, holder)
		if errors.Is(err, ErrNotFound) {
			err = fmt.Errorf("key %q points at missing incident %d", key, holder)
		}
		return cur, key, holder, err
	}
	inc, err := s.update(ctx, load, fn, dk)
	if err != nil {
		return nil, fmt.Errorf("store: update %q: %w", key, err)
	}
	return inc, nil
}

func (s *Redis) Update(ctx context.Context, id int64, fn func(cur *Incident) (*Change, error)) (*Incident, error) {
	load := func(ctx context.Context, tx *redis.Tx) (*Incident, string, int64, error) {
		cur, err := s.getIncident(ctx, tx, id)
		if err != nil {
			return nil, "", 0, err
		}
		dk := s.dedupKey(cur.Key)
		if err := tx.Watch(ctx, dk).Err(); err != nil {
			return nil, "", 0, err
		}
		holder, err := getID(ctx, tx, dk)
		return cur, cur.Key, holder, err
	}
	inc, err := s.update(ctx, load, fn, s.incidentKey(id))
	if err != nil {
		return nil, fmt.Errorf("store: update incident %d: %w", id, err)
	}
	return inc, nil
}

// update is one optimistic transaction: WATCH what load reads, run fn, and
// MULTI/EXEC the change; EXEC fails if anything watched changed, and we start over.
func (s *Redis) update(ctx context.Context, load loadFunc, fn func(cur *Incident) (*Change, error), watch string) (*Incident, error) {
	for range maxTxAttempts {
		var out *Incident
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			cur, key, holder, err := load(ctx, tx)
			if err != nil {
				return err
			}
			ch, err := fn(cloneIncident(cur))
			if err != nil {
				return err
			}
			next, err := nextState(cur, ch, key)
			if err != nil {
				return err
			}
			if next == nil {
				out = cur
				return nil
			}
			if err := s.write(ctx, tx, cur, next, holder, ch); err != nil {
				return err
			}
			out = next
			return s.waitReplicas(ctx, tx)
		}, watch)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, fmt.Errorf("gave up after %d conflicting attempts", maxTxAttempts)
}

// write queues next and ch in one MULTI/EXEC. A new incident gets its ID from
// the counter read under WATCH, so concurrent creates retry rather than leave gaps.
func (s *Redis) write(ctx context.Context, tx *redis.Tx, cur, next *Incident, holder int64, ch *Change) error {
	isNew := next.ID == 0
	if isNew {
		if err := tx.Watch(ctx, s.seqKey()).Err(); err != nil {
			return err
		}
		last, err := getID(ctx, tx, s.seqKey())
		if err != nil {
			return err
		}
		next.ID = last + 1
	}
	if holdsKey(next.Status) && holder != 0 && holder != next.ID {
		return fmt.Errorf("incident %d cannot reopen: %w", next.ID, ErrKeyConflict)
	}
	data, err := json.Marshal(next)
	if err != nil {
		return err
	}
	events := make([]any, len(ch.Events))
	for i, ev := range ch.Events {
		if events[i], err = json.Marshal(ev); err != nil {
			return err
		}
	}
	timerArgs, err := s.applyTimersArgs(next.ID, ch)
	if err != nil {
		return err
	}
	member := redis.Z{Score: float64(next.ID), Member: next.ID}
	_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if isNew {
			p.Set(ctx, s.seqKey(), next.ID, 0)
			p.ZAdd(ctx, s.allKey(), member)
		}
		p.Set(ctx, s.incidentKey(next.ID), data, 0)
		if cur != nil && cur.Status != next.Status {
			p.ZRem(ctx, s.statusKey(cur.Status), next.ID)
		}
		p.ZAdd(ctx, s.statusKey(next.Status), member)
		switch {
		case holdsKey(next.Status):
			p.Set(ctx, s.dedupKey(next.Key), next.ID, 0)
		case holder == next.ID:
			p.Del(ctx, s.dedupKey(next.Key))
		}
		if len(events) > 0 {
			p.RPush(ctx, s.timelineKey(next.ID), events...)
		}
		if timerArgs != nil {
			// EVAL, not EVALSHA: a NOSCRIPT inside MULTI could not be retried.
			scriptApplyTimers.Eval(ctx, p, s.timerKeys(), timerArgs...)
		}
		return nil
	})
	return err
}

// applyTimersArgs encodes ch's timer work for apply_timers.lua; nil if there is none.
func (s *Redis) applyTimersArgs(incidentID int64, ch *Change) ([]any, error) {
	if len(ch.Schedule) == 0 && len(ch.Cancel) == 0 && !ch.CancelIncidentTimers {
		return nil, nil
	}
	cancelAll := "0"
	if ch.CancelIncidentTimers {
		cancelAll = "1"
	}
	args := []any{s.base, incidentID, cancelAll, len(ch.Cancel)}
	for _, id := range ch.Cancel {
		args = append(args, id)
	}
	for _, t := range scheduleFor(ch, incidentID) {
		data, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		args = append(args, t.ID, dueScore(t.Due), data, t.IncidentID)
	}
	return args, nil
}

// waitReplicas makes a write durable on opt.Wait replicas before it counts as
// done, so a Sentinel failover cannot lose an incident we acknowledged.
// WAIT runs on the transaction's connection, so it covers this write.
func (s *Redis) waitReplicas(ctx context.Context, tx *redis.Tx) error {
	if s.opt.Wait <= 0 {
		return nil
	}
	n, err := tx.Wait(ctx, s.opt.Wait, s.opt.WaitTimeout).Result()
	if err != nil {
		return fmt.Errorf("wait for %d replicas: %w", s.opt.Wait, err)
	}
	if int(n) < s.opt.Wait {
		return fmt.Errorf("written but only %d of %d replicas acknowledged within %s", n, s.opt.Wait, s.opt.WaitTimeout)
	}
	return nil
}

func (s *Redis) Get(ctx context.Context, id int64) (*Incident, error) {
	inc, err := s.getIncident(ctx, s.rdb, id)
	if err != nil {
		return nil, fmt.Errorf("store: get incident %d: %w", id, err)
	}
	return inc, nil
}

func (s *Redis) getIncident(ctx context.Context, c redis.Cmdable, id int64) (*Incident, error) {
	data, err := c.Get(ctx, s.incidentKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var inc Incident
	if err := json.Unmarshal(data, &inc); err != nil {
		return nil, fmt.Errorf("decode incident %d: %w", id, err)
	}
	return &inc, nil
}

func (s *Redis) List(ctx context.Context, opt ListOptions) ([]*Incident, error) {
	index := s.allKey()
	if opt.Status != "" {
		index = s.statusKey(opt.Status)
	}
	ids, err := s.rdb.ZRevRange(ctx, index, 0, int64(opt.Limit)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("store: list incidents: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.base + "incident:" + id
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("store: list incidents: %w", err)
	}
	out := make([]*Incident, 0, len(vals))
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue // deleted between the two reads; there is no delete today
		}
		var inc Incident
		if err := json.Unmarshal([]byte(str), &inc); err != nil {
			return nil, fmt.Errorf("store: list incidents: decode incident %s: %w", ids[i], err)
		}
		out = append(out, &inc)
	}
	return out, nil
}

func (s *Redis) Timeline(ctx context.Context, id int64) ([]Event, error) {
	n, err := s.rdb.Exists(ctx, s.incidentKey(id)).Result()
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: timeline of incident %d: %w", id, err)
	}
	raw, err := s.rdb.LRange(ctx, s.timelineKey(id), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("store: timeline of incident %d: %w", id, err)
	}
	out := make([]Event, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal([]byte(r), &out[i]); err != nil {
			return nil, fmt.Errorf("store: timeline of incident %d: decode event %d: %w", id, i, err)
		}
	}
	return out, nil
}

func (s *Redis) ClaimDue(ctx context.Context, now time.Time, owner string, lease time.Duration, max int) ([]Claim, error) {
	if max <= 0 {
		return nil, nil
	}
	leaseUntil := now.Add(lease)
	res, err := scriptClaimDue.Run(ctx, s.rdb, s.timerKeys(),
		nowScore(now), dueScore(leaseUntil), max, owner, rand.Text()).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("store: claim timers: %w", err)
	}
	out := make([]Claim, 0, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		c := Claim{Owner: owner, Token: res[i+1], LeaseUntil: leaseUntil}
		if err := json.Unmarshal([]byte(res[i]), &c.Timer); err != nil {
			// The claim is recorded; its lease will expire and it will come back.
			return out, fmt.Errorf("store: claim timers: decode timer: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *Redis) Complete(ctx context.Context, c Claim) error {
	ok, err := scriptComplete.Run(ctx, s.rdb, s.timerKeys(), s.base, c.ID, c.Token).Bool()
	if err == nil && !ok {
		err = ErrStaleClaim
	}
	if err != nil {
		return fmt.Errorf("store: complete timer %q: %w", c.ID, err)
	}
	return nil
}

func (s *Redis) Retry(ctx context.Context, c Claim, due time.Time) error {
	t := c.Timer
	t.Due, t.Attempt = due, t.Attempt+1
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("store: retry timer %q: %w", c.ID, err)
	}
	ok, err := scriptRetry.Run(ctx, s.rdb, s.timerKeys(), c.ID, c.Token, data, dueScore(due)).Bool()
	if err == nil && !ok {
		err = ErrStaleClaim
	}
	if err != nil {
		return fmt.Errorf("store: retry timer %q: %w", c.ID, err)
	}
	return nil
}

func (s *Redis) Release(ctx context.Context, owner string) error {
	if err := scriptRelease.Run(ctx, s.rdb, []string{s.dueKey(), s.claimsKey()}, owner).Err(); err != nil {
		return fmt.Errorf("store: release claims of %q: %w", owner, err)
	}
	return nil
}

func (s *Redis) NextDue(ctx context.Context) (time.Time, bool, error) {
	zs, err := s.rdb.ZRangeWithScores(ctx, s.dueKey(), 0, 0).Result()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next due timer: %w", err)
	}
	if len(zs) == 0 {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(int64(zs[0].Score)), true, nil
}

func (s *Redis) Pending(ctx context.Context) (int, error) {
	n, err := s.rdb.HLen(ctx, s.timersKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("store: count timers: %w", err)
	}
	return int(n), nil
}

func (s *Redis) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("store: ping redis: %w", err)
	}
	return nil
}

func (s *Redis) Close() error {
	if err := s.rdb.Close(); err != nil {
		return fmt.Errorf("store: close redis: %w", err)
	}
	return nil
}

// getID reads an integer key; 0 if it does not exist.
func getID(ctx context.Context, c redis.Cmdable, key string) (int64, error) {
	id, err := c.Get(ctx, key).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return id, err
}

// dueScore rounds up to the millisecond so a timer is never claimed early.
func dueScore(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return ms
}

// nowScore rounds down, for the same reason.
func nowScore(t time.Time) int64 { return t.UnixMilli() }
