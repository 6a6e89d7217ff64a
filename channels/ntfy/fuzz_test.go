package ntfy

import (
	"encoding/json"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
)

// FuzzRefusal reads whatever a server answers with an error status: the
// error is never nil, and only 401 from providers.ntfy's own server is
// taken as hikyaku's credentials; a contact's own server never is.
func FuzzRefusal(f *testing.F) {
	f.Add(401, []byte(`{"code":40101,"http":401,"error":"unauthorized"}`))
	f.Add(429, []byte(`{"code":42901,"http":429,"error":"limit reached: too many requests"}`))
	f.Add(502, []byte("<html>bad gateway</html>"))
	f.Add(400, []byte(`{"code":"x"}`))
	f.Fuzz(func(t *testing.T, status int, raw []byte) {
		if status < 300 || status > 599 {
			return
		}
		var a answer
		_ = json.Unmarshal(raw, &a)
		for _, own := range []bool{false, true} {
			err := refusal(status, a, raw, own)
			if err == nil {
				t.Fatal("nil error")
			}
			if channels.IsAuthFailure(err) != (status == 401 && !own) {
				t.Errorf("status %d (own %v): auth failure %v", status, own, channels.IsAuthFailure(err))
			}
			if retried := !channels.IsPermanent(err); retried != (status == 429 || status == 408 || status >= 500) {
				t.Errorf("status %d (own %v): retried %v", status, own, retried)
			}
		}
	})
}

// FuzzAddress reads any contact: one taken is a valid topic, on no server
// or on an http(s) server with a host and no credentials, and the same
// contact written back from its parts reads the same.
func FuzzAddress(f *testing.F) {
	for _, s := range []string{"alice-pager", "https://ntfy.example.com/alice", "http://h:80/base/a/", "https://u:p@h/a",
		"https://h/a?b", "https://h/%2F", "HTTPS://H/a", "https:///a", "https://h/a#x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		server, topic, err := parseAddress(s)
		if err != nil {
			return
		}
		if checkTopic(topic) != nil {
			t.Fatalf("%q: topic %q taken", s, topic)
		}
		if server == nil {
			if topic != s {
				t.Fatalf("%q: bare topic %q", s, topic)
			}
			return
		}
		if (server.Scheme != "http" && server.Scheme != "https") || server.Host == "" || server.User != nil || server.RawQuery != "" {
			t.Fatalf("%q: server %v", s, server)
		}
		again, topic2, err := parseAddress(server.String() + "/" + topic)
		if err != nil || topic2 != topic || !sameServer(again, server) {
			t.Fatalf("%q: written back as %s/%s reads %v %q %v", s, server, topic, again, topic2, err)
		}
	})
}
