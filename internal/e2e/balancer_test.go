package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// balancer is the load balancer a deployment of replicas puts behind its
// external_url: it hands each request to the next replica and, when that
// one does not answer (killed, stopped), to the one after. Twilio's
// callbacks reach a live replica through it, as they would in production.
type balancer struct {
	URL   string
	addrs []string
	next  atomic.Uint64
}

func startBalancer(t *testing.T, addrs []string) *balancer {
	t.Helper()
	b := &balancer{addrs: addrs}
	client := &http.Client{Timeout: 5 * time.Second}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		start := int(b.next.Add(1))
		for i := range b.addrs {
			addr := b.addrs[(start+i)%len(b.addrs)]
			req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+addr+r.URL.RequestURI(), bytes.NewReader(body))
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			req.Header = r.Header.Clone()
			resp, err := client.Do(req)
			if err != nil {
				continue // that replica is down: the next one
			}
			for k, v := range resp.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
			resp.Body.Close()
			return
		}
		http.Error(w, "no replica answered", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	b.URL = srv.URL
	return b
}
