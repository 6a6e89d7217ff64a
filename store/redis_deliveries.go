package store

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"

	gojson "github.com/goccy/go-json"
	"github.com/redis/go-redis/v9"
)

// Deliveries in Redis (key layout in docs/store.md): deliveries:<id>, a list
// of delivery JSON, and paged:<user>, the sorted set of a person's pages of
// incidents not resolved. write_incident.lua writes both with the incident;
// deliverylib.lua holds what every script that writes or deletes incidents
// shares.
var (
	//go:embed lua/deliverylib.lua
	luaDeliveryLib string
	//go:embed lua/paged.lua
	luaPaged string
	//go:embed lua/backfill_deliveries.lua
	luaBackfillDeliveries string
	//go:embed lua/index_posted.lua
	luaIndexPosted string

	scriptPaged              = redis.NewScript(luaPaged)
	scriptBackfillDeliveries = redis.NewScript(luaDeliveryLib + luaBackfillDeliveries)
	scriptIndexPosted        = redis.NewScript(luaDeliveryLib + luaIndexPosted)
)

// memberPrefix is the padded incident id that starts a paged:<user> member.
const memberPrefix = 19

func (s *Redis) deliveriesKey(id int64) string {
	return s.base + "deliveries:" + strconv.FormatInt(id, 10)
}
func (s *Redis) pagedKey(user string) string { return s.base + "paged:" + user }

// postedField is a delivery's field in the posted hash (deliverylib.lua).
func postedField(channel, providerID string) string { return channel + "\n" + providerID }

// postedBatch is how many incidents one BackfillPosted script indexes.
const postedBatch = 500

// appendDeliveries adds write_incident.lua's deliveries to its ARGV: their
// number, then each one's JSON.
func appendDeliveries(args []any, ds []Delivery) ([]any, error) {
	args = append(args, len(ds))
	for i := range ds {
		b, err := gojson.Marshal(&ds[i])
		if err != nil {
			return nil, fmt.Errorf("encode delivery: %w", err)
		}
		args = append(args, b)
	}
	return args, nil
}

func (s *Redis) Deliveries(ctx context.Context, id int64) ([]Delivery, error) {
	var exists *redis.IntCmd
	var list *redis.StringSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, s.incidentKey(id))
		list = p.LRange(ctx, s.deliveriesKey(id), 0, -1)
		return nil
	})
	if err == nil && exists.Val() == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: deliveries of incident %d: %w", id, err)
	}
	out := make([]Delivery, 0, len(list.Val()))
	for _, raw := range list.Val() {
		var d Delivery
		if err := gojson.Unmarshal([]byte(raw), &d); err != nil {
			return nil, fmt.Errorf("store: deliveries of incident %d: decode %q: %w", id, raw, err)
		}
		d.Incident = id
		out = append(out, d)
	}
	return out, nil
}

func (s *Redis) Paged(ctx context.Context, user, channel string) ([]Delivery, error) {
	res, err := scriptPaged.Run(ctx, s.rdb, []string{s.pagedKey(user)}, s.base).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("store: pages of %q on %q: %w", user, channel, err)
	}
	var out []Delivery
	for i := 0; i+1 < len(res); i += 2 {
		member, status := res[i], Status(res[i+1])
		if len(member) <= memberPrefix {
			return nil, fmt.Errorf("store: pages of %q: index member %q is too short", user, member)
		}
		id, err := strconv.ParseInt(member[:memberPrefix], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("store: pages of %q: index member %q: %w", user, member, err)
		}
		var d Delivery
		if err := gojson.Unmarshal([]byte(member[memberPrefix:]), &d); err != nil {
			return nil, fmt.Errorf("store: pages of %q: decode %q: %w", user, member, err)
		}
		if channel != "" && d.Channel != channel {
			continue
		}
		if status == "" {
			// Stored before the query indexes and not reindexed yet: the
			// incident itself says.
			inc, err := s.Get(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("store: pages of %q: status of incident %d: %w", user, id, err)
			}
			status = inc.Status
		}
		d.Incident, d.Status = id, status
		out = append(out, d)
	}
	sortPaged(out)
	return out, nil
}

// BackfillDeliveries records, from their timelines, the deliveries of the
// open and acknowledged incidents a version that kept none wrote, so an ack
// after the upgrade still finds its page; serve runs it before it takes
// requests. An incident with deliveries is left alone, so running it again
// (every start, every replica) writes nothing twice; one whose timeline
// grows while it is read is read again. It returns how many incidents it
// backfilled.
func (s *Redis) BackfillDeliveries(ctx context.Context) (int, error) {
	n := 0
	for _, st := range []Status{StatusOpen, StatusAcked} {
		ids, err := s.rdb.ZRange(ctx, s.statusKey(st), 0, -1).Result()
		if err != nil {
			return n, fmt.Errorf("store: backfill deliveries: list %s incidents: %w", st, err)
		}
		for _, sid := range ids {
			id, err := strconv.ParseInt(sid, 10, 64)
			if err != nil {
				return n, fmt.Errorf("store: backfill deliveries: incident id %q: %w", sid, err)
			}
			done, err := s.backfillIncident(ctx, id)
			if err != nil {
				return n, fmt.Errorf("store: backfill deliveries of incident %d: %w", id, err)
			}
			if done {
				n++
			}
		}
	}
	return n, nil
}

func (s *Redis) backfillIncident(ctx context.Context, id int64) (bool, error) {
	for range maxTxAttempts {
		has, err := s.rdb.Exists(ctx, s.deliveriesKey(id)).Result()
		if err != nil || has == 1 {
			return false, err
		}
		evs, err := s.Timeline(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return false, nil // resolved and deleted meanwhile
		}
		if err != nil {
			return false, err
		}
		ds := deliveriesFromTimeline(id, evs)
		if len(ds) == 0 {
			return false, nil // nothing was sent yet
		}
		args, err := appendDeliveries([]any{s.base, id, len(evs)}, ds)
		if err != nil {
			return false, err
		}
		res, err := scriptBackfillDeliveries.Run(ctx, s.rdb, []string{s.deliveriesKey(id)}, args...).Int()
		if err != nil || res >= 0 {
			return res == 1, err
		}
	}
	return false, fmt.Errorf("its timeline kept changing for %d reads", maxTxAttempts)
}

func (s *Redis) Posted(ctx context.Context, channel, providerID string) (Delivery, error) {
	if providerID == "" {
		return Delivery{}, fmt.Errorf("store: the %s message %q: %w", channel, providerID, ErrNotFound)
	}
	member, err := s.rdb.HGet(ctx, s.base+"posted", postedField(channel, providerID)).Result()
	if errors.Is(err, redis.Nil) {
		err = ErrNotFound
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("store: the %s message %q: %w", channel, providerID, err)
	}
	if len(member) <= memberPrefix {
		return Delivery{}, fmt.Errorf("store: the %s message %q: index entry %q is too short", channel, providerID, member)
	}
	id, err := strconv.ParseInt(member[:memberPrefix], 10, 64)
	if err != nil {
		return Delivery{}, fmt.Errorf("store: the %s message %q: index entry %q: %w", channel, providerID, member, err)
	}
	var d Delivery
	if err := gojson.Unmarshal([]byte(member[memberPrefix:]), &d); err != nil {
		return Delivery{}, fmt.Errorf("store: the %s message %q: decode %q: %w", channel, providerID, member, err)
	}
	d.Incident = id
	return d, nil
}

// BackfillPosted indexes by provider id the deliveries of the open and
// acknowledged incidents a version without the index wrote, so a reply in
// the thread of a page they posted still finds it; serve runs it before
// it takes requests. It runs once: the key posted:indexed marks the store
// done, and indexing again (another replica starting meanwhile) changes
// nothing. Resolved incidents are left out, as BackfillDeliveries leaves
// them. It returns how many incidents it indexed.
func (s *Redis) BackfillPosted(ctx context.Context) (int, error) {
	done, err := s.rdb.Exists(ctx, s.base+"posted:indexed").Result()
	if err != nil || done == 1 {
		return 0, err
	}
	var ids []string
	for _, st := range []Status{StatusOpen, StatusAcked} {
		got, err := s.rdb.ZRange(ctx, s.statusKey(st), 0, -1).Result()
		if err != nil {
			return 0, fmt.Errorf("store: index deliveries by provider id: list %s incidents: %w", st, err)
		}
		ids = append(ids, got...)
	}
	n := 0
	for start := 0; start == 0 || start < len(ids); start += postedBatch {
		batch := ids[start:min(start+postedBatch, len(ids))]
		last := "0"
		if start+postedBatch >= len(ids) {
			last = "1"
		}
		args := []any{s.base, last}
		for _, id := range batch {
			args = append(args, id)
		}
		got, err := scriptIndexPosted.Run(ctx, s.rdb, nil, args...).Int()
		if err != nil {
			return n, fmt.Errorf("store: index deliveries by provider id: %w", err)
		}
		n += got
	}
	return n, nil
}
