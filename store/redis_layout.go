package store

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	gojson "github.com/goccy/go-json"
	"github.com/redis/go-redis/v9"
)

// redisLayout is the Redis keys' layout, kept in the key "layout". Layout 1
// kept each incident's Alertmanager message in its record (incident:<id>),
// so every write sent and persisted the message again; layout 2 keeps it in
// message:<id>, written only when it changes.
const redisLayout = 2

func (s *Redis) layoutKey() string { return s.base + "layout" }

// Upgrade brings the keys to redisLayout and returns how many incidents it
// changed. It is safe while replicas write: each move is a script that
// checks the record is still as read, and every version of the store reads
// a message kept in its record as well as one kept apart (which is what a
// replica of layout 1 still running does not: upgrade them all). A second
// run, or one on several replicas at once, moves nothing twice.
func (s *Redis) Upgrade(ctx context.Context) (int, error) {
	v, err := s.rdb.Get(ctx, s.layoutKey()).Int()
	switch {
	case err == nil && v == redisLayout:
		return 0, nil
	case err == nil && v > redisLayout:
		return 0, fmt.Errorf("store: the keys have layout %d, newer than this version's %d: run the hikyaku that wrote them", v, redisLayout)
	case err != nil && !errors.Is(err, redis.Nil):
		return 0, fmt.Errorf("store: read layout: %w", err)
	}
	n := 0
	for start := int64(0); ; start += redisChunk {
		ids, err := s.rdb.ZRange(ctx, s.allKey(), start, start+redisChunk-1).Result()
		if err != nil {
			return n, fmt.Errorf("store: upgrade to layout %d: %w", redisLayout, err)
		}
		for _, id := range ids {
			moved, err := s.moveMessage(ctx, id)
			if err != nil {
				return n, fmt.Errorf("store: upgrade incident %s to layout %d: %w", id, redisLayout, err)
			}
			if moved {
				n++
			}
		}
		if len(ids) < redisChunk {
			break
		}
	}
	if err := s.rdb.Set(ctx, s.layoutKey(), redisLayout, 0).Err(); err != nil {
		return n, fmt.Errorf("store: write layout: %w", err)
	}
	return n, nil
}

// messageField is how a layout 1 record names its message.
var messageField = []byte(`"message":`)

func (s *Redis) moveMessage(ctx context.Context, id string) (bool, error) {
	raw, err := s.rdb.Get(ctx, s.base+"incident:"+id).Bytes()
	if errors.Is(err, redis.Nil) {
		return false, nil // deleted meanwhile
	}
	if err != nil {
		return false, err
	}
	if !bytes.Contains(raw, messageField) {
		return false, nil
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	inc, inline, err := decodeIncident(n, string(raw), nil)
	if err != nil || !inline {
		return false, err
	}
	msg := bytes.TrimSpace(inc.Message)
	if !json.Valid(msg) {
		return false, errors.New("its message is not valid JSON")
	}
	inc.Message = nil
	record, err := gojson.Marshal(inc)
	if err != nil {
		return false, err
	}
	sum := sha1.Sum(raw)
	done, err := scriptMoveMessage.Run(ctx, s.rdb, []string{s.base + "incident:" + id}, s.base, id, hex.EncodeToString(sum[:]), record, msg).Int()
	return done == 1, err
}
