package fakeslack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Sign is the X-Slack-Signature Slack puts on a request to an app: "v0="
// and the hex HMAC-SHA256, under the app's signing secret, of
// "v0:{timestamp}:{body}". It is written from Slack's description, apart
// from slack-go's verifier, so each checks the other.
func Sign(signingSecret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(signingSecret))
	fmt.Fprintf(mac, "v0:%d:", timestamp)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// InteractionOption changes how Interaction signs and sends.
type InteractionOption func(*interaction)

type interaction struct {
	at     time.Time
	secret string
	retry  int // X-Slack-Retry-Num, 0 for the first delivery
}

// At stamps the request with t instead of now: six minutes ago is a replay
// Slack's rules say to refuse.
func At(t time.Time) InteractionOption { return func(i *interaction) { i.at = t } }

// SignedWith signs with another secret than the app's: a forgery.
func SignedWith(secret string) InteractionOption { return func(i *interaction) { i.secret = secret } }

// Interaction posts payload to rawURL as Slack posts to an app's
// interactivity Request URL: a form whose payload field is the JSON, signed
// with signingSecret (headers X-Slack-Signature, X-Slack-Request-Timestamp).
// The caller closes the response body.
func Interaction(rawURL, signingSecret string, payload []byte, opts ...InteractionOption) (*http.Response, error) {
	i := interaction{at: time.Now(), secret: signingSecret}
	for _, o := range opts {
		o(&i)
	}
	body := []byte(url.Values{"payload": {string(payload)}}.Encode())
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	ts := i.at.Unix()
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Slack-Signature", Sign(i.secret, ts, body))
	return http.DefaultClient.Do(req)
}

// Click is the block_actions payload Slack sends when user presses the
// button actionID of the message at channel/ts (a Send receipt) as the
// message now reads: the value is what the message carries, so a test
// cannot press a button that was never posted or was updated away. Each
// click has its own action_ts, as each press in Slack does.
func (s *Server) Click(user, channel, ts, actionID string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := s.messages[channel+"/"+ts]
	if msg == nil {
		return nil, fmt.Errorf("fakeslack: no message %s/%s", channel, ts)
	}
	var button *slack.ButtonBlockElement
	for _, b := range msg.Blocks.BlockSet {
		ab, ok := b.(*slack.ActionBlock)
		if !ok || ab.Elements == nil {
			continue
		}
		for _, el := range ab.Elements.ElementSet {
			if bt, ok := el.(*slack.ButtonBlockElement); ok && bt.ActionID == actionID {
				button = bt
			}
		}
	}
	if button == nil {
		return nil, fmt.Errorf("fakeslack: message %s/%s has no button %q", channel, ts, actionID)
	}
	s.clicks++
	actionTS := fmt.Sprintf("1700000100.%06d", s.clicks)
	return json.Marshal(map[string]any{
		"type":         "block_actions",
		"user":         map[string]any{"id": user, "username": strings.ToLower(user), "name": strings.ToLower(user), "team_id": "T0FAKE"},
		"api_app_id":   "A0FAKE",
		"token":        "legacy-verification-token",
		"container":    map[string]any{"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false},
		"trigger_id":   "1700000100.0000000001.fake",
		"team":         map[string]any{"id": "T0FAKE", "domain": "fake"},
		"enterprise":   nil,
		"channel":      map[string]any{"id": channel, "name": "fake"},
		"message":      map[string]any{"type": "message", "ts": ts, "text": msg.Text, "bot_id": "B0FAKE", "blocks": msg.Blocks},
		"response_url": fmt.Sprintf("%s/actions/T0FAKE/%d/fake", s.srv.URL, s.clicks),
		"actions": []map[string]any{{
			"type": "button", "action_id": button.ActionID, "block_id": "hikyaku_actions",
			"text": button.Text, "value": button.Value, "style": button.Style, "action_ts": actionTS,
		}},
	})
}

// Response is one message an app posted to an interaction's response_url.
type Response struct {
	URL             string
	ResponseType    string `json:"response_type"` // ephemeral or in_channel
	ReplaceOriginal bool   `json:"replace_original"`
	Text            string `json:"text"`
}

// Responses are the response_url posts so far, in order.
func (s *Server) Responses() []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Response(nil), s.responses...)
}

// respond takes a post to a response_url, which needs no token: the URL is
// the credential.
func (s *Server) respond(w http.ResponseWriter, r *http.Request) {
	var resp Response
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if r.Method != http.MethodPost || json.Unmarshal(body, &resp) != nil || resp.Text == "" {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	resp.URL = r.URL.String()
	s.mu.Lock()
	s.responses = append(s.responses, resp)
	s.mu.Unlock()
	io.WriteString(w, "ok")
}
