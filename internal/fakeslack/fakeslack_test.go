package fakeslack

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

func TestConversationsOpen(t *testing.T) {
	s := New("xoxb-t")
	defer s.Close()
	api := slack.New("xoxb-t", slack.OptionAPIURL(s.URL()))
	ch, _, _, err := api.OpenConversationContext(context.Background(), &slack.OpenConversationParameters{Users: []string{"U01ALICE"}})
	if err != nil || ch.ID != "D01ALICE" {
		t.Fatalf("open = %+v, %v; want D01ALICE", ch, err)
	}
	_, _, _, err = api.OpenConversationContext(context.Background(), &slack.OpenConversationParameters{Users: []string{"C01ENG"}})
	if se, ok := err.(slack.SlackErrorResponse); !ok || se.Err != "user_not_found" {
		t.Errorf("opening a DM with a channel: %v, want user_not_found", err)
	}
}

// TestJSONWithBearer posts as Slack recommends (JSON, token in the header),
// which other clients than slack-go do.
func TestJSONWithBearer(t *testing.T) {
	s := New("xoxb-t")
	defer s.Close()
	post := func(auth, body string) map[string]any {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"chat.postMessage", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	ok := post("Bearer xoxb-t", `{"channel":"C01ENG","text":"hi","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"hi"}}]}`)
	if ok["ok"] != true || ok["channel"] != "C01ENG" {
		t.Errorf("answer = %v", ok)
	}
	if got := s.Calls()[0].Blocks.BlockSet; len(got) != 1 || got[0].BlockType() != slack.MBTSection {
		t.Errorf("blocks = %+v", got)
	}
	for body, want := range map[string]string{
		`{"channel":"C01ENG","text":"hi","blocks":[{"type":"bogus"}]}`:                          "invalid_blocks",
		`{"channel":"C01ENG","blocks":[{"type":"header","text":{"type":"mrkdwn","text":"x"}}]}`: "invalid_blocks",
		`{"channel":"C01ENG"}`:          "no_text",
		`{"channel":"#eng","text":"x"}`: "channel_not_found",
	} {
		if got := post("Bearer xoxb-t", body); got["error"] != want {
			t.Errorf("%s: %v, want %s", body, got, want)
		}
	}
	if got := post("", `{"channel":"C01ENG","text":"x"}`); got["error"] != "not_authed" {
		t.Errorf("no token: %v", got)
	}
	if got := post("Bearer xoxb-other", `{"channel":"C01ENG","text":"x"}`); got["error"] != "invalid_auth" {
		t.Errorf("wrong token: %v", got)
	}
}

// TestPostEphemeral: chat.postEphemeral shows text to a user who is in the
// conversation (its DM's own user, or one who wrote there), in a thread of
// it when asked; Slack keeps no message and answers message_ts.
func TestPostEphemeral(t *testing.T) {
	s := New("xoxb-t")
	defer s.Close()
	api := slack.New("xoxb-t", slack.OptionAPIURL(s.URL()))
	ctx := context.Background()
	ch, ts, err := api.PostMessageContext(ctx, "C01ENG", slack.MsgOptionText("page", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ThreadReply("U01ALICE", ch, ts, "a note"); err != nil {
		t.Fatal(err)
	}
	got, err := api.PostEphemeralContext(ctx, ch, "U01ALICE", slack.MsgOptionText("only you", false), slack.MsgOptionTS(ts))
	if err != nil || got == "" {
		t.Fatalf("postEphemeral = %q, %v", got, err)
	}
	calls := s.Calls()
	c := calls[len(calls)-1]
	if c.Method != "chat.postEphemeral" || c.User != "U01ALICE" || c.Channel != "C01ENG" || c.Form.Get("thread_ts") != ts ||
		c.Text != "only you" || c.TS != got {
		t.Errorf("call %+v", c)
	}
	if s.Message(ch, got) != nil {
		t.Errorf("an ephemeral message was kept")
	}
	if _, err := api.PostEphemeralContext(ctx, "D01BOB", "U01BOB", slack.MsgOptionText("in the DM", false)); err != nil {
		t.Errorf("ephemeral in the user's own DM: %v", err)
	}
	for _, tc := range []struct {
		channel, user, thread, text, want string
	}{
		{"C01ENG", "U01BOB", "", "x", "user_not_in_channel"},
		{"U01ALICE", "U01ALICE", "", "x", "channel_not_found"},
		{"C01ENG", "C01ENG", "", "x", "user_not_found"},
		{"C01ENG", "U01ALICE", "1.000001", "x", "message_not_found"},
		{"C01ENG", "U01ALICE", "", "", "no_text"},
	} {
		opts := []slack.MsgOption{slack.MsgOptionText(tc.text, false)}
		if tc.thread != "" {
			opts = append(opts, slack.MsgOptionTS(tc.thread))
		}
		_, err := api.PostEphemeralContext(ctx, tc.channel, tc.user, opts...)
		if se, ok := err.(slack.SlackErrorResponse); !ok || se.Err != tc.want {
			t.Errorf("%+v: %v, want %s", tc, err, tc.want)
		}
	}
}
