package slack

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/hikyaku/hikyaku/internal/fakeslack"
)

// TestLookup: a message posted with its ref in metadata is found in the
// conversation's history (a user's DM, or a channel), past the first page;
// another ref, or a message posted before since, is not.
func TestLookup(t *testing.T) {
	fake := fakeslack.New(token)
	defer fake.Close()
	s := newSender(t, fake, token)
	since := time.Now().Add(-time.Second)
	for _, to := range []string{"U0ALICE", "C0123ENG"} {
		m := page(t, to)
		m.Ref = "target" + to
		rc, err := s.Send(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 120 { // more than a page of 100 after it
			f := page(t, to)
			f.Ref = fmt.Sprintf("filler%d", i)
			if _, err := s.Send(context.Background(), f); err != nil {
				t.Fatal(err)
			}
		}
		got, found, err := s.Lookup(context.Background(), m, since)
		if err != nil || !found || got.ProviderID != rc.ProviderID {
			t.Fatalf("Lookup(%s) = %v %v %v, want found as %s", to, got, found, err, rc.ProviderID)
		}
		m.Ref = "never"
		if _, found, err := s.Lookup(context.Background(), m, since); err != nil || found {
			t.Fatalf("Lookup(unknown ref in %s) = %v %v, want not found", to, found, err)
		}
		m.Ref = "target" + to
		if _, found, err := s.Lookup(context.Background(), m, time.Now().Add(time.Minute)); err != nil || found {
			t.Fatalf("Lookup(%s since after it) = %v %v, want not found", to, found, err)
		}
	}
	var history, withMeta int
	for _, c := range fake.Calls() {
		if c.Method == "conversations.history" {
			history++
			if c.Form.Get("include_all_metadata") == "1" && c.Form.Get("oldest") != "" {
				withMeta++
			}
		}
	}
	if history < 4 || withMeta != history {
		t.Fatalf("%d history calls, %d with include_all_metadata and oldest; want every one", history, withMeta)
	}
}

// TestFakeHistoryHidesMetadataUnlessAsked: history without include_all_metadata carries no
// metadata (as Slack), so a message posted without a ref cannot be found.
func TestFakeHistoryHidesMetadataUnlessAsked(t *testing.T) {
	fake := fakeslack.New(token)
	defer fake.Close()
	s := newSender(t, fake, token)
	m := page(t, "C0123ENG")
	m.Ref = "abc"
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	p := fake.Calls()[0]
	if p.Metadata == nil || p.Metadata.EventType != metadataEventType || p.Metadata.EventPayload["ref"] != "abc" {
		t.Fatalf("posted metadata = %+v, want event_type %s with ref abc", p.Metadata, metadataEventType)
	}
	h, err := s.api.GetConversationHistoryContext(context.Background(), historyParams("C0123ENG", false))
	if err != nil || len(h.Messages) != 1 || h.Messages[0].Metadata.EventType != "" {
		t.Fatalf("history without include_all_metadata = %+v, %v; want the message without metadata", h, err)
	}
	if _, err := s.api.GetConversationHistoryContext(context.Background(), historyParams("U0ALICE", true)); err == nil {
		t.Fatal("history of a user id answered; Slack wants the DM's conversation id (channel_not_found)")
	}
}

func historyParams(ch string, meta bool) *slack.GetConversationHistoryParameters {
	return &slack.GetConversationHistoryParameters{ChannelID: ch, IncludeAllMetadata: meta}
}
