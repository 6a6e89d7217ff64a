package router

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

func TestParseIncidentQuery(t *testing.T) {
	q, _ := url.ParseQuery("status=resolved&department=db&severity=critical&route=r1&policy=p1&acked_by=alice" +
		"&opened_after=2026-11-01T00:00:00Z&opened_before=2026-11-24T11:27:00%2B09:00" +
		"&resolved_after=2026-11-02T00:00:00Z&resolved_before=2026-11-03T00:00:00.5Z&order=oldest&limit=20&cursor=abc")
	got, err := ParseIncidentQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	want := store.ListOptions{Status: store.StatusResolved, Department: "db", Severity: "critical", Route: "r1",
		Policy: "p1", AckedBy: "alice", Oldest: true, Limit: 20, Cursor: "abc",
		OpenedAfter:    time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		OpenedBefore:   time.Date(2026, 11, 24, 2, 27, 0, 0, time.UTC),
		ResolvedAfter:  time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
		ResolvedBefore: time.Date(2026, 11, 3, 0, 0, 0, 500_000_000, time.UTC),
	}
	if !got.OpenedBefore.Equal(want.OpenedBefore) {
		t.Fatalf("opened_before = %v, want %v", got.OpenedBefore, want.OpenedBefore)
	}
	got.OpenedBefore = want.OpenedBefore
	if got != want {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	for _, tc := range []struct{ query, want string }{
		{"status=closed", "status: want open, acked or resolved"},
		{"statsu=open", `unknown parameter "statsu"`},
		{"department=a&department=b", "department: given 2 times"},
		{"opened_after=yesterday", `opened_after: "yesterday" is not an RFC 3339 time`},
		{"resolved_before=2026-11-24", "resolved_before: "},
		{"opened_after=1960-01-01T00:00:00Z", "before 1970"},
		{"opened_after=2026-11-02T00:00:00Z&opened_before=2026-11-01T00:00:00Z", "opened_after must be before opened_before"},
		{"resolved_after=2026-11-02T00:00:00Z&resolved_before=2026-11-02T00:00:00Z", "resolved_after must be before resolved_before"},
		{"order=random", "order: want newest or oldest"},
		{"limit=-1", "limit: want a number from 0 to 500"},
		{"limit=501", "limit: want a number from 0 to 500"},
		{"limit=ten", "limit: want a number"},
	} {
		q, _ := url.ParseQuery(tc.query)
		if _, err := ParseIncidentQuery(q); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.query, err, tc.want)
		}
	}
}

func FuzzParseIncidentQuery(f *testing.F) {
	for _, s := range []string{"", "status=open&limit=5", "opened_after=2026-11-01T00:00:00Z&order=oldest",
		"resolved_before=2026-11-03T00:00:00.5%2B09:00&cursor=AQ", "limit=99999999999999999999", "a=%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		opt, err := ParseIncidentQuery(q)
		if err != nil {
			return
		}
		if opt.Limit < 0 || opt.Limit > store.MaxPage {
			t.Fatalf("%q: limit %d accepted", raw, opt.Limit)
		}
		if !opt.OpenedAfter.IsZero() && !opt.OpenedBefore.IsZero() && !opt.OpenedAfter.Before(opt.OpenedBefore) {
			t.Fatalf("%q: empty opened range accepted", raw)
		}
	})
}

// TestIncidentListAPIFiltersAndPages: the list answers a filtered page with
// a cursor that reaches every matching incident once, and 400 with the
// parameter's name on bad input.
func TestIncidentListAPIFiltersAndPages(t *testing.T) {
	h, srv := newTestServer(t)
	st := h.st
	for i := range 5 {
		dept := "db"
		if i%2 == 1 {
			dept = "web"
		}
		_, err := st.UpdateByKey(t.Context(), "k/"+string(rune('a'+i)), func(*store.Incident) (*store.Change, error) {
			return &store.Change{Incident: &store.Incident{Department: dept, CreatedAt: time.Date(2030, 1, 1, i, 0, 0, 0, time.UTC)}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	api := srv.URL + "/api/v1/incidents?department=db&order=oldest&limit=2"
	var ids []int64
	cursor := ""
	for range 5 {
		code, body := do(t, "GET", api+"&cursor="+url.QueryEscape(cursor), "test-api-token", nil)
		var page IncidentPage
		if err := json.Unmarshal([]byte(body), &page); code != 200 || err != nil {
			t.Fatalf("list: %d %v %s", code, err, body)
		}
		for _, v := range page.Items {
			if v.Department != "db" {
				t.Fatalf("department=db returned %d of %s", v.ID, v.Department)
			}
			ids = append(ids, v.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(ids) != 3 || ids[0] != 1 || ids[1] != 3 || ids[2] != 5 {
		t.Fatalf("db incidents oldest first = %v, want [1 3 5]", ids)
	}
	code, body := do(t, "GET", api, "test-api-token", nil)
	var first IncidentPage
	if err := json.Unmarshal([]byte(body), &first); code != 200 || err != nil || first.NextCursor == "" {
		t.Fatalf("first page: %d %v %s", code, err, body)
	}
	for _, bad := range []struct{ query, param string }{
		{"?opened_after=nope", "opened_after"},
		{"?limit=1000", "limit"},
		{"?cursor=garbage", "cursor"},
		// A cursor of another query: it would skip or repeat incidents.
		{"?department=web&cursor=" + url.QueryEscape(first.NextCursor), "cursor"},
	} {
		code, body := do(t, "GET", srv.URL+"/api/v1/incidents"+bad.query, "test-api-token", nil)
		if code != 400 || !strings.Contains(body, bad.param) {
			t.Errorf("%s: %d %s, want 400 naming %s", bad.query, code, body, bad.param)
		}
	}
}
