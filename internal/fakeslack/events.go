package fakeslack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry marks the request as Slack's n-th retry of an event it got no 2xx
// for in three seconds (X-Slack-Retry-Num, X-Slack-Retry-Reason).
func Retry(n int) InteractionOption { return func(i *interaction) { i.retry = n } }

// Event posts body to rawURL as Slack posts to an app's Events API Request
// URL: JSON, signed with signingSecret as an interaction is. The caller
// closes the response body.
func Event(rawURL, signingSecret string, body []byte, opts ...InteractionOption) (*http.Response, error) {
	i := interaction{at: time.Now(), secret: signingSecret}
	for _, o := range opts {
		o(&i)
	}
	req, err := http.NewRequest(http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	ts := i.at.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Slack-Signature", Sign(i.secret, ts, body))
	if i.retry > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(i.retry))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	return http.DefaultClient.Do(req)
}

// URLVerification is the handshake Slack posts when the Request URL is
// set: the app answers with the challenge.
func URLVerification(challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"token": "legacy-verification-token", "challenge": challenge, "type": "url_verification"})
	return b
}

// ThreadReply writes text as user in the thread of the message at
// channel/ts (a Send receipt) and returns the event_callback Slack sends
// an app subscribed to message events: a message event with thread_ts,
// its text escaped as Slack escapes &, < and >, a fresh ts and event_id.
// The message must exist, so a test cannot reply to one never posted.
func (s *Server) ThreadReply(user, channel, ts, text string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	parent := s.messages[channel+"/"+ts]
	if parent == nil {
		return nil, fmt.Errorf("fakeslack: no message %s/%s", channel, ts)
	}
	s.events++
	s.lastTS = max(s.lastTS+1, time.Now().UnixMicro())
	replyTS := fmt.Sprintf("%d.%06d", s.lastTS/1e6, s.lastTS%1e6)
	escaped := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
	channelType := "channel"
	if strings.HasPrefix(channel, "D") {
		channelType = "im"
	}
	s.messages[channel+"/"+replyTS] = &Call{Method: "message", Channel: channel, PostedIn: channel, TS: replyTS, Text: escaped,
		User: user, At: time.Now().UTC()}
	return json.Marshal(map[string]any{
		"token": "legacy-verification-token", "team_id": "T0FAKE", "api_app_id": "A0FAKE", "type": "event_callback",
		"event_id": fmt.Sprintf("Ev0FAKE%06d", s.events), "event_time": time.Now().Unix(), "event_context": "4-fake",
		"authorizations": []map[string]any{{"team_id": "T0FAKE", "user_id": "U0BOT", "is_bot": true}},
		"event": map[string]any{
			"type": "message", "user": user, "text": escaped, "ts": replyTS, "thread_ts": ts, "parent_user_id": "U0BOT",
			"channel": channel, "channel_type": channelType, "event_ts": replyTS, "team": "T0FAKE",
		},
	})
}
