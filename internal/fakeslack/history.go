package fakeslack

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
)

// Slack's conversations.history limits: 100 messages a page unless asked, at most 999.
const (
	defaultHistoryLimit = 100
	maxHistoryLimit     = 999
)

// history serves conversations.history as Slack does: the conversation's
// messages newest first, those after oldest (at it too with inclusive=1)
// and before latest, limit a page, paged by response_metadata.next_cursor
// while has_more; metadata only with include_all_metadata=1.
func (s *Server) history(c *Call) map[string]any {
	f := c.Form
	if !idRe.MatchString(c.Channel) || c.Channel[0] == 'U' || c.Channel[0] == 'W' {
		return map[string]any{"ok": false, "error": "channel_not_found"}
	}
	limit := defaultHistoryLimit
	if v := f.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return map[string]any{"ok": false, "error": "invalid_limit"}
		}
		limit = min(n, maxHistoryLimit)
	}
	oldest, latest := 0.0, 0.0
	for key, dst := range map[string]*float64{"oldest": &oldest, "latest": &latest} {
		if v := f.Get(key); v != "" {
			ts, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return map[string]any{"ok": false, "error": "invalid_ts_" + key}
			}
			*dst = ts
		}
	}
	inclusive := f.Get("inclusive") == "1" || f.Get("inclusive") == "true"
	withMeta := f.Get("include_all_metadata") == "1" || f.Get("include_all_metadata") == "true"

	s.mu.Lock()
	var msgs []*Call
	for _, m := range s.messages {
		if m.PostedIn != c.Channel {
			continue
		}
		ts, _ := strconv.ParseFloat(m.TS, 64)
		if (oldest != 0 && (ts < oldest || ts == oldest && !inclusive)) || (latest != 0 && (ts > latest || ts == latest && !inclusive)) {
			continue
		}
		cp := *m
		msgs = append(msgs, &cp)
	}
	s.mu.Unlock()
	slices.SortFunc(msgs, func(a, b *Call) int { return strings.Compare(b.TS, a.TS) }) // newest first
	start := 0
	if cur := f.Get("cursor"); cur != "" {
		raw, err := base64.StdEncoding.DecodeString(cur)
		ts, ok := strings.CutPrefix(string(raw), "next_ts:")
		i := slices.IndexFunc(msgs, func(m *Call) bool { return m.TS == ts })
		if err != nil || !ok || i < 0 {
			return map[string]any{"ok": false, "error": "invalid_cursor"}
		}
		start = i
	}
	end := min(start+limit, len(msgs))
	out := make([]map[string]any, 0, end-start)
	for _, m := range msgs[start:end] {
		item := map[string]any{"type": "message", "subtype": "bot_message", "text": m.Text, "ts": m.TS, "bot_id": "B0FAKE"}
		if withMeta && m.Metadata != nil {
			item["metadata"] = m.Metadata
		}
		out = append(out, item)
	}
	next := ""
	if end < len(msgs) {
		next = base64.StdEncoding.EncodeToString([]byte("next_ts:" + msgs[end].TS))
	}
	return map[string]any{"ok": true, "messages": out, "has_more": next != "", "pin_count": 0,
		"response_metadata": map[string]any{"next_cursor": next}}
}
