package ntfy

import (
	"context"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/internal/fakentfy"
)

// paged sends a critical page to alice-pager and returns the receipt and ntfy's id.
func paged(t *testing.T, fake *fakentfy.Server, s *Sender, m *channels.Message) (string, string) {
	t.Helper()
	rc, err := s.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	ms := fake.Messages("alice-pager")
	return rc.ProviderID, ms[len(ms)-1].ID
}

func TestUpdateOnAck(t *testing.T) {
	fake := fakentfy.New(token)
	defer fake.Close()
	s := sender(t, fake, token)
	m := page("critical")
	receipt, id := paged(t, fake, s, m)
	m.Incident.Status, m.Incident.AckedBy = "acked", "alice"
	m.Links = map[string]string{"ack": "https://hikyaku.example.com/act/ack-2", "resolve": "https://hikyaku.example.com/act/resolve-2"}
	if err := s.Update(context.Background(), receipt, m); err != nil {
		t.Fatal(err)
	}
	n, ok := fake.Notification("alice-pager", id)
	if !ok || n.Revisions != 2 || n.Cleared || n.Deleted {
		t.Fatalf("notification %+v (found %v): want a second revision, shown", n, ok)
	}
	got := n.Message
	if got.Title != "[hikyaku #7] CRITICAL Payments: checkout down" || got.Message != "Acknowledged by alice" ||
		got.Priority != 2 || strings.Join(got.Tags, ",") != "eyes" || got.SequenceID != id {
		t.Errorf("revision = %+v", got)
	}
	if len(got.Actions) != 1 || got.Actions[0].Label != "Resolve" || got.Actions[0].URL != "https://hikyaku.example.com/act/resolve-2" ||
		got.Actions[0].Method != "POST" || !got.Actions[0].Clear {
		t.Errorf("actions = %+v, want Resolve alone", got.Actions)
	}
	if n := len(fake.Refused()); n != 0 {
		t.Errorf("refused: %+v", fake.Refused())
	}
}

func TestUpdateOnResolveClears(t *testing.T) {
	fake := fakentfy.New(token)
	defer fake.Close()
	s := sender(t, fake, token)
	m := page("critical")
	m.Language, m.Subject = "ja", "[hikyaku #7] CRITICAL 決済: チェックアウト停止"
	receipt, id := paged(t, fake, s, m)
	m.Incident.Status = "resolved"
	if err := s.Update(context.Background(), receipt, m); err != nil {
		t.Fatal(err)
	}
	n, _ := fake.Notification("alice-pager", id)
	if n.Revisions != 2 || !n.Cleared || n.Message.Message != "解決済み" || n.Message.Title != m.Subject ||
		n.Message.Priority != 1 || len(n.Message.Actions) != 0 {
		t.Errorf("notification = %+v: want the resolved revision, without buttons, cleared", n)
	}
	for _, a := range fake.Authorizations() {
		if a != "Bearer "+token {
			t.Errorf("a request carried %q", a)
		}
	}
}

func TestUpdateOnAnOldServer(t *testing.T) {
	fake := fakentfy.New("")
	defer fake.Close()
	fake.Legacy()
	s := sender(t, fake, "")
	m := page("critical")
	receipt, id := paged(t, fake, s, m)
	m.Incident.Status = "acked"
	err := s.Update(context.Background(), receipt, m)
	if !channels.IsPermanent(err) || channels.IsAuthFailure(err) || channels.ReasonOf(err) != channels.ReasonClient ||
		!strings.Contains(err.Error(), "ntfy v2.16.0 or later") {
		t.Errorf("err = %v: want a permanent failure naming the version needed", err)
	}
	if n, _ := fake.Notification("alice-pager", id); n.Revisions != 1 || len(fake.Messages("")) != 1 {
		t.Errorf("an old server got a second notification: %+v", fake.Messages(""))
	}
}

func TestUpdateReceipts(t *testing.T) {
	fake := fakentfy.New("")
	defer fake.Close()
	s := sender(t, fake, "")
	m := page("critical")
	_, id := paged(t, fake, s, m)
	m.Incident.Status = "acked"
	before := len(fake.Authorizations())
	for _, bad := range []string{"unknown", "alice-pager/a.b", "alice-pager/", "ftp://x/alice-pager/" + id} {
		if err := s.Update(context.Background(), bad, m); !channels.IsPermanent(err) {
			t.Errorf("receipt %q: %v, want a permanent failure", bad, err)
		}
	}
	if n := len(fake.Authorizations()) - before; n != 0 {
		t.Errorf("%d requests for receipts that name no message", n)
	}
	// A bare id (a receipt from before receipts named their topic) is m.To's.
	if err := s.Update(context.Background(), id, m); err != nil {
		t.Fatal(err)
	}
	if n, _ := fake.Notification("alice-pager", id); n.Revisions != 2 {
		t.Errorf("bare id: %+v", n)
	}
	// Open again: nothing to rewrite, nothing sent.
	m.Incident.Status = "open"
	before = len(fake.Authorizations())
	if err := s.Update(context.Background(), id, m); err != nil || len(fake.Authorizations()) != before {
		t.Errorf("open: %v, %d requests", err, len(fake.Authorizations())-before)
	}
}

func TestUpdateRetriedOnServerTrouble(t *testing.T) {
	fake := fakentfy.New("")
	defer fake.Close()
	s := sender(t, fake, "")
	m := page("critical")
	receipt, _ := paged(t, fake, s, m)
	m.Incident.Status = "resolved"
	fake.Fail(503)
	if err := s.Update(context.Background(), receipt, m); err == nil || channels.IsPermanent(err) {
		t.Errorf("err = %v, want a transient failure", err)
	}
	// The retry rewrites the whole update; publishing a revision again is harmless.
	if err := s.Update(context.Background(), receipt, m); err != nil {
		t.Fatal(err)
	}
}
