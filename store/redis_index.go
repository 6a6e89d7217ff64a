package store

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The query indexes on Redis: one sorted set per facet value,
// hikyaku:{prefix}:ix:<facet>:<value>, scored by created unix milliseconds
// (resolved milliseconds for ix:resolved:), members the id padded to 19
// digits so equal scores sort by id; and the hash index_meta, id → the
// incident's indexMeta with the sets it sits in, which the write script
// reads to move it and a query reads to filter.

func (s *Redis) indexSet(f facet) string { return s.base + "ix:" + f.name + ":" + f.value }
func (s *Redis) metaKey() string         { return s.base + "index_meta" }

// indexMeta is the meta the write script stores for inc, with its sets.
func (s *Redis) indexMeta(inc *Incident) (string, error) {
	m := metaOf(inc)
	for _, f := range m.facets() {
		m.Ix = append(m.Ix, [2]string{s.indexSet(f), strconv.FormatInt(m.Created/1e6, 10)})
	}
	if m.Status == StatusResolved {
		m.Ix = append(m.Ix, [2]string{s.indexSet(resolvedFacet), strconv.FormatInt(m.Resolved/1e6, 10)})
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// redisChunk is how many index entries a query reads per round trip.
const redisChunk = 200

func (s *Redis) Query(ctx context.Context, opt ListOptions) (Page, error) {
	p, err := planQuery(opt)
	if err != nil {
		return Page{}, err
	}
	page, err := s.query(ctx, &p)
	if err != nil {
		return Page{}, fmt.Errorf("store: query incidents: %w", err)
	}
	return page, nil
}

func (s *Redis) query(ctx context.Context, p *plan) (Page, error) {
	// Scores are milliseconds: walk the milliseconds the range touches and
	// let match drop what lies outside it by the nanosecond.
	lo, hi := p.lo/1e6, int64(math.MaxInt64)/1e6
	if p.hi != math.MaxInt64 {
		hi = (p.hi + 1e6 - 1) / 1e6
	}
	if p.after != nil {
		if at := p.after.at / 1e6; p.desc {
			hi = min(hi, at)
		} else {
			lo = max(lo, at)
		}
	}
	set, err := s.pickIndex(ctx, p.candidates, lo, hi)
	if err != nil {
		return Page{}, err
	}
	var page Page
	var ids []string
	scanned := 0
	for offset := int64(0); ; offset += redisChunk {
		by := &redis.ZRangeBy{Min: strconv.FormatInt(lo, 10), Max: strconv.FormatInt(hi, 10), Offset: offset, Count: redisChunk}
		var zs []redis.Z
		if p.desc {
			zs, err = s.rdb.ZRevRangeByScoreWithScores(ctx, set, by).Result()
		} else {
			zs, err = s.rdb.ZRangeByScoreWithScores(ctx, set, by).Result()
		}
		if err != nil {
			return Page{}, err
		}
		var fresh []string
		var poss []position
		for _, z := range zs {
			member, _ := z.Member.(string)
			id, err := strconv.ParseInt(member, 10, 64)
			if err != nil {
				return Page{}, fmt.Errorf("index %s: member %q is not an id", set, member)
			}
			pos := position{int64(z.Score) * 1e6, id}
			if p.past(pos) {
				fresh, poss = append(fresh, strconv.FormatInt(id, 10)), append(poss, pos)
			}
		}
		metas := []any{}
		if len(fresh) > 0 {
			if metas, err = s.rdb.HMGet(ctx, s.metaKey(), fresh...).Result(); err != nil {
				return Page{}, err
			}
		}
		for i, raw := range metas {
			if len(ids) == p.limit || scanned == scanBudget {
				page.Next = encodeCursor(p.lastPos, p.opt)
				return s.fill(ctx, page, ids)
			}
			scanned++
			p.lastPos = poss[i]
			str, ok := raw.(string)
			if !ok {
				continue // deleted since the index was read
			}
			var m indexMeta
			if err := json.Unmarshal([]byte(str), &m); err != nil {
				return Page{}, fmt.Errorf("decode index meta of incident %s: %w", fresh[i], err)
			}
			if p.match(m) {
				ids = append(ids, fresh[i])
			}
		}
		if len(zs) < redisChunk {
			return s.fill(ctx, page, ids)
		}
	}
}

// pickIndex is the candidate with the fewest entries in the score range:
// ZCOUNT is O(log n), so asking costs less than walking a poor choice.
func (s *Redis) pickIndex(ctx context.Context, candidates []facet, lo, hi int64) (string, error) {
	if len(candidates) == 1 {
		return s.indexSet(candidates[0]), nil
	}
	pipe := s.rdb.Pipeline()
	counts := make([]*redis.IntCmd, len(candidates))
	for i, f := range candidates {
		counts[i] = pipe.ZCount(ctx, s.indexSet(f), strconv.FormatInt(lo, 10), strconv.FormatInt(hi, 10))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return "", err
	}
	best := 0
	for i, c := range counts {
		if c.Val() < counts[best].Val() {
			best = i
		}
	}
	return s.indexSet(candidates[best]), nil
}

// fill reads the incidents of ids into page, in order.
func (s *Redis) fill(ctx context.Context, page Page, ids []string) (Page, error) {
	if len(ids) == 0 {
		return page, nil
	}
	// Each incident's record, then its message.
	keys := make([]string, 2*len(ids))
	for i, id := range ids {
		keys[2*i], keys[2*i+1] = s.base+"incident:"+id, s.base+"message:"+id
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return Page{}, err
	}
	for i, id := range ids {
		str, ok := vals[2*i].(string)
		if !ok {
			continue // deleted by retention between the two reads
		}
		n, _ := strconv.ParseInt(id, 10, 64)
		inc, _, err := decodeIncident(n, str, vals[2*i+1])
		if err != nil {
			return Page{}, err
		}
		page.Incidents = append(page.Incidents, inc)
	}
	return page, nil
}

func (s *Redis) DeleteResolved(ctx context.Context, cutoff time.Time, max int) (int, error) {
	n, err := scriptDeleteResolved.Run(ctx, s.rdb, s.timerKeys(), s.base, nanos(cutoff)/1e6, max).Int()
	if err != nil {
		return 0, fmt.Errorf("store: delete resolved incidents: %w", err)
	}
	return n, nil
}

// Reindex indexes the incidents a version without the query indexes wrote,
// which queries would otherwise not find, and returns how many it indexed.
// It reads the incidents in pages and is safe to run while replicas write
// (each incident is indexed by a script that checks it is unchanged and
// still unindexed), and to run again.
func (s *Redis) Reindex(ctx context.Context) (int, error) {
	n := 0
	for start := int64(0); ; start += redisChunk {
		ids, err := s.rdb.ZRange(ctx, s.allKey(), start, start+redisChunk-1).Result()
		if err != nil {
			return n, fmt.Errorf("store: reindex: %w", err)
		}
		if len(ids) == 0 {
			return n, nil
		}
		have, err := s.rdb.HMGet(ctx, s.metaKey(), ids...).Result()
		if err != nil {
			return n, fmt.Errorf("store: reindex: %w", err)
		}
		for i, id := range ids {
			if have[i] != nil {
				continue
			}
			done, err := s.reindexOne(ctx, id)
			if err != nil {
				return n, fmt.Errorf("store: reindex incident %s: %w", id, err)
			}
			if done {
				n++
			}
		}
	}
}

func (s *Redis) reindexOne(ctx context.Context, id string) (bool, error) {
	raw, err := s.rdb.Get(ctx, s.base+"incident:"+id).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var inc Incident
	if err := json.Unmarshal([]byte(raw), &inc); err != nil {
		return false, fmt.Errorf("decode: %w", err)
	}
	meta, err := s.indexMeta(&inc)
	if err != nil {
		return false, err
	}
	sum := sha1.Sum([]byte(raw))
	n, err := scriptReindex.Run(ctx, s.rdb, []string{s.metaKey()}, s.base, id, hex.EncodeToString(sum[:]), meta).Int()
	return n == 1, err
}

// Unindexed counts incidents no query index holds (written by a version
// without them), so the daemon can say so instead of hiding them.
func (s *Redis) Unindexed(ctx context.Context) (int64, error) {
	pipe := s.rdb.Pipeline()
	all, metas := pipe.ZCard(ctx, s.allKey()), pipe.HLen(ctx, s.metaKey())
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("store: count unindexed incidents: %w", err)
	}
	return max(all.Val()-metas.Val(), 0), nil
}
