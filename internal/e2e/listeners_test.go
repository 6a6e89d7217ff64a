package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// auditLines are the daemon's audit records matching match, decoded whole,
// once at least n of them have been written or 10 s have passed. The audit
// line of a request may reach the log after its response reaches the test
// (it is written as the handler returns, then crosses a pipe), so a test
// reading right after its last request waits for the lines it expects.
func (d *daemon) auditLines(t *testing.T, n int, match func(map[string]any) bool) []map[string]any {
	t.Helper()
	decode := func(l *logLine) (map[string]any, bool) {
		if l.Msg != "audit" {
			return nil, false
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l.Raw), &m); err != nil {
			t.Errorf("audit line is not JSON: %s", l.Raw)
			return nil, false
		}
		return m, match(m)
	}
	seen := 0
	d.log.waitFor(func(l *logLine) bool {
		if _, ok := decode(l); ok {
			seen++
		}
		return seen >= n
	}, 10*time.Second, d.done)
	var out []map[string]any
	for _, l := range d.log.filter(func(l *logLine) bool { return l.Msg == "audit" }) {
		m, ok := decode(&l)
		if !ok {
			continue
		}
		if m["audit"] != true {
			t.Errorf("audit line without audit=true: %s", l.Raw)
		}
		out = append(out, m)
	}
	return out
}

// selfSigned writes a certificate for 127.0.0.1 and its key into dir and
// returns their paths and a pool trusting it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hikyaku-admin"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "admin.crt"), filepath.Join(dir, "admin.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestSeparateListeners runs serve with the new flags: the public listener
// answers 404 on every admin path (a refused reload's reasons, the config's
// path and errors, never reach it), and the admin listener serves them over
// TLS behind basic auth from a Prometheus web config file; the reload is
// audited with the user the listener proved.
func TestSeparateListeners(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("admin-secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "admin-web.yml")
	if err := os.WriteFile(webConfig, fmt.Appendf(nil, "tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  ops: %s\n", certFile, keyFile, hash), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startProcess(t, "hikyaku", binary, "serve", "--dry-run", "--config.file", writeConfig(t),
		"--web.listen-address", "127.0.0.1:0", "--web.admin-listen-address", "127.0.0.1:0",
		"--web.admin-config.file", webConfig, "--storage.path", t.TempDir(), "--log-format", "json")
	line, ok := d.WaitLog(func(l *logLine) bool { return l.Msg == "hikyaku serving" }, startTimeout)
	if !ok {
		t.Fatalf("did not log \"hikyaku serving\" within %s", startTimeout)
	}
	var serving struct{ Listen, AdminListen string }
	if err := json.Unmarshal([]byte(line.Raw), &struct {
		Listen      *string `json:"listen"`
		AdminListen *string `json:"admin_listen"`
	}{&serving.Listen, &serving.AdminListen}); err != nil || serving.AdminListen == "" || serving.AdminListen == serving.Listen {
		t.Fatalf("serving line %s: want two addresses (%v)", line.Raw, err)
	}
	if deprecated := d.log.filter(func(l *logLine) bool { return strings.HasPrefix(l.Msg, "deprecated flag") }); len(deprecated) != 0 {
		t.Errorf("the new flags logged a deprecation: %s", deprecated[0].Raw)
	}

	adminPaths := []struct{ method, path string }{{"GET", "/metrics"}, {"POST", "/-/reload"}, {"GET", "/-/ready"}, {"GET", "/-/healthy"}, {"GET", "/api/v1/timers/dead"},
		{"GET", "/api/v1/tokens"}, {"POST", "/api/v1/tokens"}, {"POST", "/api/v1/tokens/0123456789abcdef/revoke"}}
	for _, p := range adminPaths {
		req, _ := http.NewRequest(p.method, "http://"+serving.Listen+p.path, nil)
		if code, body := do(t, req); code != http.StatusNotFound {
			t.Errorf("public %s %s: %d %q, want 404", p.method, p.path, code, body)
		}
	}

	tlsClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	admin := "https://" + serving.AdminListen
	for _, p := range adminPaths[:2] {
		req, _ := http.NewRequest(p.method, admin+p.path, nil)
		req.SetBasicAuth("ops", "admin-secret")
		resp, err := tlsClient.Do(req)
		if err != nil {
			t.Fatalf("admin %s %s: %v", p.method, p.path, err)
		}
		if code, body := readResponse(t, resp); code != http.StatusOK {
			t.Errorf("admin %s %s: %d %q, want 200", p.method, p.path, code, body)
		}
	}
	for name, set := range map[string]func(*http.Request){
		"no credentials": func(*http.Request) {},
		"wrong password": func(r *http.Request) { r.SetBasicAuth("ops", "guess") },
	} {
		req, _ := http.NewRequest("POST", admin+"/-/reload", nil)
		set(req)
		resp, err := tlsClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if code, _ := readResponse(t, resp); code != http.StatusUnauthorized {
			t.Errorf("admin reload with %s: %d, want 401", name, code)
		}
	}
	if resp, err := client.Get("http://" + serving.AdminListen + "/metrics"); err == nil {
		if code, _ := readResponse(t, resp); code == http.StatusOK {
			t.Errorf("the admin listener answered plain HTTP with 200")
		}
	}

	reloads := d.auditLines(t, 1, func(a map[string]any) bool { return a["action"] == "reload" })
	if len(reloads) != 1 || reloads[0]["actor"] != "ops" || reloads[0]["channel"] != "http" || reloads[0]["result"] != "done" ||
		!strings.HasPrefix(fmt.Sprint(reloads[0]["source"]), "127.0.0.1:") {
		t.Errorf("audit lines of the reloads: %v, want one done by ops over http from 127.0.0.1", reloads)
	}
}
