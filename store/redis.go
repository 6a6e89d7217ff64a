package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	gojson "github.com/goccy/go-json"
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
	// fixed keys every write names, built once rather than per write.
	timers, due, claims, seq string
	snaps                    snapshots
	// writes pipelines concurrent incident writes (without WAIT, which must
	// follow its write on the same connection).
	writes pipeliner
	// calls numbers ClaimDue calls and gives back what an unanswered one
	// claimed (redis_claimcalls.go).
	calls *claimCalls
	// callerClock makes the timer scripts use the caller's now instead of
	// Redis TIME, with no lease freezing: for the conformance suite's fake
	// clock only (export_test.go).
	callerClock bool
}

// NewRedis wraps a client; Close closes it.
func NewRedis(rdb redis.UniversalClient, opt RedisOptions) *Redis {
	if opt.Prefix == "" {
		opt.Prefix = defaultRedisPrefix
	}
	if opt.Wait > 0 && opt.WaitTimeout <= 0 {
		opt.WaitTimeout = defaultWaitTimeout // WAIT with timeout 0 would block forever
	}
	base := "hikyaku:{" + opt.Prefix + "}:"
	return &Redis{rdb: rdb, opt: opt, base: base,
		timers: base + "timers", due: base + "due", claims: base + "claims", seq: base + "seq",
		writes: pipeliner{rdb: rdb, script: scriptWriteIncident}, calls: newClaimCalls()}
}

func (s *Redis) seqKey() string              { return s.seq }
func (s *Redis) incidentKey(id int64) string { return s.base + "incident:" + strconv.FormatInt(id, 10) }
func (s *Redis) dedupKey(key string) string  { return s.base + "key:" + IndexKey(key) }
func (s *Redis) allKey() string              { return s.base + "incidents" }
func (s *Redis) statusKey(st Status) string  { return s.base + "status:" + string(st) }
func (s *Redis) timelineKey(id int64) string { return s.base + "timeline:" + strconv.FormatInt(id, 10) }
func (s *Redis) messageKey(id int64) string  { return s.base + "message:" + strconv.FormatInt(id, 10) }
func (s *Redis) timersKey() string           { return s.timers }
func (s *Redis) dueKey() string              { return s.due }
func (s *Redis) claimsKey() string           { return s.claims }

// dedupKeys are the Redis keys a dedup key may be indexed under: its
// IndexKey, then, for a key longer than MaxIndexedKey, the key as it is,
// which is how versions before the digest wrote it. The scripts read the
// second only when the first is missing and delete it once they write the
// first, so an incident opened before an upgrade is still found and resolved.
func (s *Redis) dedupKeys(key string) []string {
	if len(key) <= MaxIndexedKey {
		return []string{s.dedupKey(key)}
	}
	return []string{s.dedupKey(key), s.base + "key:" + key}
}

// timerKeys are the KEYS of every timer script but release.lua, in this order.
func (s *Redis) timerKeys() []string { return []string{s.timersKey(), s.dueKey(), s.claimsKey()} }

// snapshot is what an update starts from: the incident fn is given, and what
// the write script checks is still so before it writes.
type snapshot struct {
	cur    *Incident
	key    string // the dedup key the update is for
	sha    string // sha1 of cur's record as stored ("" when cur is nil)
	holder string // the dedup key's holder as read; "" leaves it unchecked (Update by id checks the incident)
	// inline is set when cur's message is in its record (layout 1), not
	// under its own key: the next record written must move it there.
	inline bool
}

func (s *Redis) UpdateByKey(ctx context.Context, key string, fn UpdateFunc) (Result, error) {
	load := func(ctx context.Context) (snapshot, error) {
		res, err := scriptLoadByKey.Run(ctx, s.rdb, s.dedupKeys(key), s.base).Slice()
		if err != nil {
			return snapshot{}, err
		}
		if len(res) != 3 {
			return snapshot{}, fmt.Errorf("load script answered %d values, not 3", len(res))
		}
		holder, _ := res[0].(int64)
		return s.snapshotOf(key, holder, res[1], res[2])
	}
	// Most webhooks open a new group: guess the key is free and let the write
	// script check, which makes a create one round trip. A wrong guess comes
	// back with the real state, so it costs no extra read either.
	guess := &snapshot{key: key, holder: "0"}
	res, err := s.update(ctx, guess, load, fn)
	if err != nil {
		return Result{}, fmt.Errorf("store: update %q: %w", errKey(key), err)
	}
	return res, nil
}

func (s *Redis) Update(ctx context.Context, id int64, fn UpdateFunc) (Result, error) {
	load := func(ctx context.Context) (snapshot, error) {
		vals, err := s.rdb.MGet(ctx, s.incidentKey(id), s.messageKey(id)).Result()
		if err != nil {
			return snapshot{}, err
		}
		if vals[0] == nil {
			return snapshot{}, ErrNotFound
		}
		return s.snapshotOf("", id, vals[0], vals[1])
	}
	var guess *snapshot
	if snap, ok := s.snaps.get(id); ok {
		guess = &snap
	}
	res, err := s.update(ctx, guess, load, fn)
	if err != nil {
		return Result{}, fmt.Errorf("store: update incident %d: %w", id, err)
	}
	return res, nil
}

// snapshotOf decodes raw, the record of incident id (nil if it is missing),
// and msg, its message (nil if none). key is the dedup key id was found
// under, or "" for an update by id.
func (s *Redis) snapshotOf(key string, id int64, raw, msg any) (snapshot, error) {
	snap := snapshot{key: key}
	if key != "" {
		snap.holder = strconv.FormatInt(id, 10)
		if id == 0 {
			return snap, nil
		}
	}
	str, ok := raw.(string)
	if !ok {
		if key == "" {
			return snap, ErrNotFound
		}
		return snap, fmt.Errorf("key %q points at missing incident %d", errKey(key), id)
	}
	inc, inline, err := decodeIncident(id, str, msg)
	if err != nil {
		return snap, err
	}
	sum := sha1.Sum([]byte(str))
	snap.cur, snap.sha, snap.inline = inc, hex.EncodeToString(sum[:]), inline
	if key == "" {
		snap.key = inc.Key
	}
	if !inline {
		s.snaps.put(cloneIncident(inc), snap.sha, len(str)+len(inc.Message))
	}
	return snap, nil
}

// decodeIncident decodes incident id's record and puts msg, its message as
// stored apart (a string, or nil if none), in it. inline says the record
// holds its message itself, as layout 1 wrote it.
func decodeIncident(id int64, record string, msg any) (*Incident, bool, error) {
	var inc Incident
	if err := json.Unmarshal([]byte(record), &inc); err != nil {
		return nil, false, fmt.Errorf("decode incident %d: %w", id, err)
	}
	if m, ok := msg.(string); ok {
		inc.Message = json.RawMessage(m)
		return &inc, false, nil
	}
	return &inc, len(inc.Message) > 0, nil
}

// update is an optimistic update: run fn on a snapshot and let the write
// script apply the change only if the snapshot is still current. A stale
// snapshot comes back fresh from the script, and we go again. guess, when
// set, is tried first without a read; fn's verdict on a guess counts only
// once a write confirms it, so a guess that leads to no write or to an error
// is checked against a real read.
func (s *Redis) update(ctx context.Context, guess *snapshot, load func(context.Context) (snapshot, error), fn UpdateFunc) (Result, error) {
	var snap snapshot
	loaded := false
	if guess != nil {
		snap = *guess
	}
	for range maxTxAttempts {
		if guess == nil && !loaded {
			var err error
			if snap, err = load(ctx); err != nil {
				return Result{}, err
			}
		}
		guessing := guess != nil
		guess, loaded = nil, false
		ch, err := fn(cloneIncident(snap.cur))
		var next *Incident
		if err == nil {
			next, err = nextState(snap.cur, ch, snap.key)
		}
		if guessing && (err != nil || next == nil) {
			continue // read for real
		}
		if err != nil {
			return Result{}, err
		}
		res := Result{Incident: cloneIncident(snap.cur)}
		if ch != nil {
			res.Outcome = ch.Outcome
		}
		if next == nil {
			return res, nil
		}
		written, fresh, err := s.write(ctx, snap, next, ch)
		if err != nil {
			return Result{}, err
		}
		if written {
			res.Incident, res.Written = next, true
			return res, nil
		}
		snap, loaded = fresh, true
	}
	return Result{}, fmt.Errorf("gave up after %d conflicting attempts", maxTxAttempts)
}

// newIncidentPrefix is how a new incident's JSON starts; write_incident.lua
// puts the id it takes from the counter in place of the 0.
var newIncidentPrefix = []byte(`{"id":0,`)

// write runs write_incident.lua: next, its events and its timers in one
// atomic script. When snap is stale it writes nothing and returns the current
// snapshot to retry from. A new incident gets its id from the script.
//
// The record is sent only when a field other than Version changed, and the
// message only when it changed; an update that only appends events or
// changes timers keeps the incident's Version.
func (s *Redis) write(ctx context.Context, snap snapshot, next *Incident, ch *Change) (bool, snapshot, error) {
	msgOp, msg, err := messageOp(snap, next)
	if err != nil {
		return false, snapshot{}, err
	}
	data, sha, err := encodeRecord(snap, next, msgOp != "")
	if err != nil {
		return false, snapshot{}, err
	}
	if next.ID == 0 && !bytes.HasPrefix(data, newIncidentPrefix) {
		return false, snapshot{}, fmt.Errorf("encode new incident: JSON does not start with %s", newIncidentPrefix)
	}
	curStatus := ""
	if snap.cur != nil {
		curStatus = string(snap.cur.Status)
	}
	args := make([]any, 0, 14+len(ch.Events)+len(ch.Cancel)+4*len(ch.Schedule))
	args = append(args, s.base, snap.holder, next.ID, snap.sha, curStatus, string(next.Status), data, len(ch.Events))
	for _, ev := range ch.Events {
		b, err := gojson.Marshal(ev)
		if err != nil {
			return false, snapshot{}, err
		}
		args = append(args, b)
	}
	if ch.Complete != nil {
		args = append(args, ch.Complete.ID, ch.Complete.Token)
	} else {
		args = append(args, "", "")
	}
	meta, err := s.indexMeta(next)
	if err != nil {
		return false, snapshot{}, err
	}
	args = append(args, meta, msgOp, msg)
	if args, err = appendDeliveries(args, ch.Deliveries); err != nil {
		return false, snapshot{}, err
	}
	cancelAll := "0"
	if ch.CancelIncidentTimers {
		cancelAll = "1"
	}
	args = append(args, cancelAll, len(ch.Cancel))
	for _, id := range ch.Cancel {
		args = append(args, id)
	}
	for _, t := range scheduleFor(ch, next.ID) {
		b, err := gojson.Marshal(t)
		if err != nil {
			return false, snapshot{}, err
		}
		args = append(args, t.ID, dueScore(t.Due), b, t.IncidentID)
	}
	keys := append([]string{s.timersKey(), s.dueKey(), s.claimsKey(), s.seqKey()}, s.dedupKeys(next.Key)...)
	var res []any
	if s.opt.Wait > 0 {
		// WAIT covers the writes of its own connection: run both on one.
		err = s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			var err error
			if res, err = scriptWriteIncident.Run(ctx, tx, keys, args...).Slice(); err != nil || len(res) == 0 || res[0] != int64(1) {
				return err
			}
			return s.waitReplicas(ctx, tx)
		}, s.seqKey())
	} else {
		res, err = s.writes.run(ctx, keys, args)
	}
	if err != nil {
		return false, snapshot{}, err
	}
	switch code, _ := res[0].(int64); {
	case code == 1 && len(res) == 2:
		if next.ID == 0 {
			next.ID, _ = res[1].(int64)
			// What the script stored: our JSON with the id it took.
			data = append(strconv.AppendInt([]byte(`{"id":`), next.ID, 10), data[len(newIncidentPrefix)-1:]...)
			sum := sha1.Sum(data)
			sha = hex.EncodeToString(sum[:])
		}
		s.snaps.put(cloneIncident(next), sha, len(data)+len(next.Message))
		return true, snapshot{}, nil
	case code == 0 && len(res) == 4 && snap.holder == "":
		// By id: the incident itself changed.
		fresh, err := s.snapshotOf("", next.ID, res[2], res[3])
		return false, fresh, err
	case code == 0 && len(res) == 4:
		holder, _ := res[1].(int64)
		fresh, err := s.snapshotOf(snap.key, holder, res[2], res[3])
		return false, fresh, err
	case code == -2:
		return false, snapshot{}, fmt.Errorf("incident %d cannot reopen: %w", next.ID, ErrKeyConflict)
	case code == -3:
		return false, snapshot{}, fmt.Errorf("complete timer %q: %w", ch.Complete.ID, ErrStaleClaim)
	}
	return false, snapshot{}, fmt.Errorf("write script answered %v", res)
}

// messageOp says what a write does with the message kept apart: "" leaves
// it, "set" writes msg, "del" deletes it. A message still in its record
// (layout 1) is moved out by the write that rewrites the record.
func messageOp(snap snapshot, next *Incident) (string, []byte, error) {
	msg := bytes.TrimSpace(next.Message)
	var had []byte
	if snap.cur != nil && !snap.inline {
		had = bytes.TrimSpace(snap.cur.Message)
	}
	switch {
	case snap.cur != nil && !snap.inline && bytes.Equal(had, msg):
		return "", nil, nil
	case len(msg) == 0:
		return "del", nil, nil
	case !json.Valid(msg):
		return "", nil, errors.New("encode incident: its message is not valid JSON")
	}
	return "set", msg, nil
}

// encodeRecord encodes next without its message, with go-json: the same
// bytes as encoding/json (TestEncodeMatchesEncodingJSON) in half the time.
// When neither the message changes nor any field but Version, it returns
// no record ("": the script leaves the incident as it is) and the stored
// record's sha1, and next keeps snap's Version.
func encodeRecord(snap snapshot, next *Incident, msgChanged bool) ([]byte, string, error) {
	bare := *next
	bare.Message = nil
	if snap.cur != nil && !msgChanged {
		bare.Version = snap.cur.Version
		same, err := gojson.Marshal(&bare)
		if err != nil {
			return nil, "", err
		}
		if sum := sha1.Sum(same); hex.EncodeToString(sum[:]) == snap.sha {
			next.Version = snap.cur.Version
			return []byte{}, snap.sha, nil
		}
		bare.Version = next.Version
	}
	data, err := gojson.Marshal(&bare)
	if err != nil {
		return nil, "", err
	}
	sum := sha1.Sum(data)
	return data, hex.EncodeToString(sum[:]), nil
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
	vals, err := c.MGet(ctx, s.incidentKey(id), s.messageKey(id)).Result()
	if err != nil {
		return nil, err
	}
	record, ok := vals[0].(string)
	if !ok {
		return nil, ErrNotFound
	}
	inc, inline, err := decodeIncident(id, record, vals[1])
	if err != nil {
		return nil, err
	}
	if !inline {
		sum := sha1.Sum([]byte(record))
		s.snaps.put(cloneIncident(inc), hex.EncodeToString(sum[:]), len(record)+len(inc.Message))
	}
	return inc, nil
}

func (s *Redis) List(ctx context.Context, opt ListOptions) ([]*Incident, error) {
	out, err := listPages(ctx, s.Query, opt)
	if err != nil {
		return nil, fmt.Errorf("store: list incidents: %w", err)
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

// ClaimDue claims on the store's clock (Redis TIME), not now: replicas'
// clocks may disagree, Redis's is one. Leases run on the lease clock of
// timerlib.lua, which stops while Redis is away.
func (s *Redis) ClaimDue(ctx context.Context, now time.Time, owner string, lease time.Duration, max int) ([]Claim, error) {
	if max <= 0 {
		return nil, nil
	}
	seq, base := s.calls.next(owner), rand.Text()
	res, err := scriptClaimDue.Run(ctx, s.rdb, s.timerKeys(),
		s.callerNow(now), lease.Milliseconds(), max, owner, base, s.base, s.calls.caller(owner), seq).StringSlice()
	if err != nil {
		// Redis may have claimed for this call all the same.
		s.abandonClaims(owner, seq, base)
		return nil, fmt.Errorf("store: claim timers: %w", err)
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("store: claim timers: the script answered nothing")
	}
	at, err := strconv.ParseInt(res[0], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("store: claim timers: the script's clock %q: %w", res[0], err)
	}
	leaseUntil := time.UnixMilli(at).Add(lease)
	out := make([]Claim, 0, len(res)/2)
	for i := 1; i+1 < len(res); i += 2 {
		c := Claim{Owner: owner, Token: res[i+1], LeaseUntil: leaseUntil}
		if err := json.Unmarshal([]byte(res[i]), &c.Timer); err != nil {
			// The claim is recorded; its lease will expire and it will come back.
			return out, fmt.Errorf("store: claim timers: decode timer: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// callerNow is the now the timer scripts run at: "" for the store's clock,
// or, for the conformance tests' fake clock only, the caller's.
func (s *Redis) callerNow(now time.Time) string {
	if !s.callerClock {
		return ""
	}
	return strconv.FormatInt(nowScore(now), 10)
}

// Renew extends a claim still held to a full lease, on the store's clock.
func (s *Redis) Renew(ctx context.Context, c Claim, now time.Time, lease time.Duration) error {
	n, err := scriptRenew.Run(ctx, s.rdb, s.timerKeys(), s.base, c.ID, c.Token, s.callerNow(now), lease.Milliseconds()).Int64()
	if err == nil && n < 0 {
		err = ErrStaleClaim
	}
	if err != nil {
		return fmt.Errorf("store: renew claim on timer %q: %w", c.ID, err)
	}
	return nil
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
	// A stored mark stays whatever c says (Timers.Retry): the script
	// writes this copy when the stored timer is taken over.
	t.TakenOver = true
	over, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("store: retry timer %q: %w", c.ID, err)
	}
	ok, err := scriptRetry.Run(ctx, s.rdb, s.timerKeys(), c.ID, c.Token, data, dueScore(due), over).Bool()
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
	s.calls.close()
	if err := s.rdb.Close(); err != nil {
		return fmt.Errorf("store: close redis: %w", err)
	}
	return nil
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

// optOutKey is the set of addresses that opted out (SMS STOP).
func (s *Redis) optOutKey() string { return s.base + "optout" }

func (s *Redis) SetOptOut(ctx context.Context, address string, out bool) error {
	if address == "" {
		return fmt.Errorf("store: opt-out: empty address")
	}
	var err error
	if out {
		err = s.rdb.SAdd(ctx, s.optOutKey(), address).Err()
	} else {
		err = s.rdb.SRem(ctx, s.optOutKey(), address).Err()
	}
	if err != nil {
		return fmt.Errorf("store: opt-out %q: %w", address, err)
	}
	return nil
}

func (s *Redis) OptedOut(ctx context.Context, address string) (bool, error) {
	out, err := s.rdb.SIsMember(ctx, s.optOutKey(), address).Result()
	if err != nil {
		return false, fmt.Errorf("store: opted out %q: %w", address, err)
	}
	return out, nil
}

var timerOpArg = map[TimerOp]string{TimerGet: "get", TimerAdd: "add", TimerReplace: "replace", TimerRemove: "remove"}

func (s *Redis) SetTimer(ctx context.Context, op TimerOp, t Timer) (*Timer, error) {
	if err := checkStandalone(op, t); err != nil {
		return nil, err
	}
	data, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("store: %v timer %q: %w", op, t.ID, err)
	}
	res, err := scriptSetTimer.Run(ctx, s.rdb, s.timerKeys(), s.base, timerOpArg[op], t.ID, dueScore(t.Due), data).Slice()
	if err != nil {
		return nil, fmt.Errorf("store: %v timer %q: %w", op, t.ID, err)
	}
	switch code, _ := res[0].(int64); {
	case code == 0:
		return nil, nil
	case code == 1 && len(res) == 2:
		raw, _ := res[1].(string)
		var prev Timer
		if err := json.Unmarshal([]byte(raw), &prev); err != nil {
			return nil, fmt.Errorf("store: %v timer %q: decode the timer it replaced: %w", op, t.ID, err)
		}
		return &prev, nil
	case code == -1 && len(res) == 2:
		incident, _ := res[1].(int64)
		return nil, errIncidentTimer(t.ID, incident)
	}
	return nil, fmt.Errorf("store: %v timer %q: script answered %v", op, t.ID, res)
}

// verifiedKey is the hash of contact verifications: user NUL channel → verifiedStamp.
func (s *Redis) verifiedKey() string { return s.base + "verified" }

func (s *Redis) SetVerified(ctx context.Context, user, channel string, at time.Time) error {
	if err := checkVerified(user, channel); err != nil {
		return err
	}
	if err := scriptVerified.Run(ctx, s.rdb, []string{s.verifiedKey()}, verifiedField(user, channel), verifiedStamp(at)).Err(); err != nil {
		return fmt.Errorf("store: verified %s %s: %w", user, channel, err)
	}
	return nil
}

func (s *Redis) Verified(ctx context.Context) ([]Verification, error) {
	all, err := s.rdb.HGetAll(ctx, s.verifiedKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("store: verified: %w", err)
	}
	out := make([]Verification, 0, len(all))
	for f, v := range all {
		vf, err := parseVerified(f, v)
		if err != nil {
			return nil, fmt.Errorf("store: verified: %w", err)
		}
		out = append(out, vf)
	}
	return out, nil
}
