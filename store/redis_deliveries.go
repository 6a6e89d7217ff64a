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

	scriptPaged              = redis.NewScript(luaPaged)
	scriptBackfillDeliveries = redis.NewScript(luaDeliveryLib + luaBackfillDeliveries)
)

// memberPrefix is the padded incident id that starts a paged:<user> member.
const memberPrefix = 19

func (s *Redis) deliveriesKey(id int64) string {
	return s.base + "deliveries:" + strconv.FormatInt(id, 10)
}
func (s *Redis) pagedKey(user string) string { return s.base + "paged:" + user }

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
