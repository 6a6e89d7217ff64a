package email

import (
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
)

func TestOwnTextLeavesTheQuoteOut(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"db-1 is full\n> [hikyaku] page", "db-1 is full"},
		{"db-1 is full\n\nOn Tue, 7 Jan 2026 at 06:00, hikyaku <pages@example.com> wrote:\n\n> page", "db-1 is full\n"},
		{"原因はディスク\n\n2026年1月7日(水) 6:00 hikyaku <pages@example.com>:\n> 呼び出し", "原因はディスク\n"},
		{"fail over\n-- \nCarol, SRE", "fail over"},
		{"fail over\n\n-----Original Message-----\nFrom: hikyaku", "fail over\n"},
		{"fail over\n________________________________\nFrom: hikyaku", "fail over"},
		{"fail over\n\nFrom: hikyaku <pages@example.com>\nSent: today", "fail over\n"},
		{"From: me, who writes this line\nand this", "From: me, who writes this line\nand this"},
		{"the ratio: 3:1\n\nstill", "the ratio: 3:1\n\nstill"},
		{"> all quote", ""},
	} {
		if got := ownText(tc.in); got != tc.want {
			t.Errorf("ownText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestEmailReplyBecomesANote: a proven reply whose first line is no
// command is a note on the incident, its text what the person wrote above
// the quote; "決定:" makes it a decision. The person is told, once, in
// their language; a note the engine refuses is answered with why.
func TestEmailReplyBecomesANote(t *testing.T) {
	r := newMailRig(t)
	pg := r.page(1, "carol")
	for i, tc := range []struct {
		text string
		note channels.NoteText
		told string
	}{
		{"db-1 のディスクが満杯です\n\n2026年1月7日(水) 6:00 hikyaku <pages@example.com>:\n> [hikyaku] page",
			channels.NoteText{Text: "db-1 のディスクが満杯です"}, "インシデント #1 のタイムラインにメモを記録しました（carol さん、メール）。"},
		{"決定: db-2 に切り替える\n-- \ncarol", channels.NoteText{Text: "db-2 に切り替える", Decision: true},
			"インシデント #1 のタイムラインに決定事項を記録しました（carol さん、メール）。"},
		{"Failed over to db-2.\r\nImpact: checkout\r\ncause: disk full\r\nSeverity: major (only retries fail)\r\n\r\nOn Tue, 7 Jan 2026, hikyaku wrote:\r\n> impact: page",
			channels.NoteText{Text: "Failed over to db-2.", Fields: channels.NoteFields{Impact: "checkout", Cause: "disk full"},
				Severity: "major", SeverityReason: "only retries fail"},
			"インシデント #1 のタイムラインにメモを記録しました（carol さん、メール）。\n次の報告項目を設定しました:\n現在のSeverity: major (only retries fail)\n影響範囲: checkout\n原因: disk full\n"},
	} {
		id := []string{"note-1@mail.example.com", "note-2@mail.example.com", "note-3@mail.example.com"}[i]
		a := answer{from: "carol@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, messageID: id, text: tc.text}
		for range 2 { // the relay's retry notes once
			if err := r.send(a); err != nil {
				t.Fatal(err)
			}
		}
		got := r.rcv.Actions()
		last := got[len(got)-1]
		want := channels.Action{Incident: 1, Verb: channels.AddNote, User: "carol", Via: "email", Dedup: "email:" + id, Note: tc.note}
		if first := got[len(got)-2]; first != want {
			t.Errorf("asked %+v, want %+v", first, want)
		}
		if !last.Replayed {
			t.Errorf("the second delivery is no replay: %+v", last)
		}
		mails := r.mailTo("carol@example.com")
		if n := len(mails); n != 2+i || !strings.Contains(strings.ReplaceAll(mails[n-1].Text, "\r\n", "\n"), tc.told) {
			t.Errorf("carol was told %+v, want one mail saying %q", mails[1:], tc.told)
		}
	}
	if n := r.repliesCounted("acted", ""); n != 3 {
		t.Errorf("acted replies %v, want 3", n)
	}

	r.rcv.ActFunc = func(a channels.Action) (channels.Result, error) {
		return channels.Result{Outcome: channels.Invalid, Reason: "bad note: text has 4001 characters, at most 4000"}, nil
	}
	if err := r.send(answer{from: "carol@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, messageID: "note-4@mail.example.com",
		text: strings.Repeat("長", 4001)}); err != nil {
		t.Fatal(err)
	}
	mails := r.mailTo("carol@example.com")
	if want := "インシデント #1 にメモを追加できませんでした: bad note: text has 4001 characters, at most 4000"; !strings.Contains(mails[len(mails)-1].Text, want) {
		t.Errorf("carol was told %q, want %q", mails[len(mails)-1].Text, want)
	}
}

// TestEmailNoteNeedsTheProofAnAckNeeds: a note by a stranger, by the wrong
// person's reply address, or by a thread reply without DKIM is refused as
// an ack would be, and no note is asked for.
func TestEmailNoteNeedsTheProofAnAckNeeds(t *testing.T) {
	r := newMailRig(t)
	pg := r.page(1, "carol")
	for name, c := range map[string]struct {
		a      answer
		reason string
	}{
		"stranger, carol's token":  {answer{from: "mallory@evil.example", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, text: "決定: 全部消す"}, "reply_address_of_another_user"},
		"bob, carol's token":       {answer{from: "bob@example.com", rcpt: []string{pg.ReplyTo}, inReplyTo: pg.MessageID, text: "a note"}, "reply_address_of_another_user"},
		"envelope is not From":     {answer{envFrom: "mallory@evil.example", from: "carol@example.com", rcpt: []string{pg.ReplyTo}, text: "a note"}, "envelope_from_mismatch"},
		"thread, no DKIM":          {answer{from: "carol@example.com", rcpt: []string{"hikyaku@example.com"}, inReplyTo: pg.MessageID, text: "a note"}, "dkim_none"},
		"thread, sender not paged": {answer{from: "bob@example.com", rcpt: []string{"hikyaku@example.com"}, inReplyTo: pg.MessageID, text: "a note"}, "not_emailed"},
	} {
		n := len(r.refusals(1))
		if err := r.send(c.a); err != nil {
			t.Errorf("%s: refused at SMTP (%v); want accepted", name, err)
		}
		if got := r.refusals(1); len(got) != n+1 || got[n].Detail["reason"] != c.reason {
			t.Errorf("%s: want one more refusal for %s, got %+v", name, c.reason, got[n:])
		}
	}
	if got := r.rcv.Actions(); len(got) != 0 {
		t.Errorf("unproven notes were asked for: %+v", got)
	}
}

// FuzzOwnText: the person's text is always the start of the reply, whole lines of it.
func FuzzOwnText(f *testing.F) {
	for _, s := range []string{"a\n> b", "a\n\nOn x wrote:\n> b", "-- \nsig", "x\n____________________\ny", "\n\n>", ":\n>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := ownText(in)
		if !strings.HasPrefix(in, got) {
			t.Fatalf("ownText(%q) = %q, not the start of it", in, got)
		}
		if got != in && !strings.HasPrefix(in[len(got):], "\n") && got != "" {
			t.Fatalf("ownText(%q) = %q cuts a line", in, got)
		}
	})
}
