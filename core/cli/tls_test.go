package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files
// and returns their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "portal test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// With http.tls_cert and http.tls_key the portal serves HTTPS itself: the
// banner says https, answers carry HSTS and Secure cookies, plain HTTP is
// not served, and `portal health` asks over TLS (issue 19, item 8).
func TestServeOverTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	tlsEnv := []string{"PORTAL_HTTP_TLS_CERT=" + certFile, "PORTAL_HTTP_TLS_KEY=" + keyFile}
	_, addr, stderr := startPortalEnv(t, tlsEnv, "serve", "--addr", "127.0.0.1:0")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := client.Get("https://" + addr + "/login")
	if err != nil {
		t.Fatalf("HTTPS: %v\n%s", err, stderr)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil {
		t.Fatalf("HTTPS /login: %d (TLS %v)", res.StatusCode, res.TLS != nil)
	}
	if !strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("no HSTS over TLS: %q", res.Header.Get("Strict-Transport-Security"))
	}
	if len(res.Cookies()) == 0 {
		t.Error("the sign-in page set no cookie; nothing to check")
	}
	for _, c := range res.Cookies() {
		if !c.Secure {
			t.Errorf("cookie %s lacks Secure over TLS", c.Name)
		}
	}
	if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Error("plain HTTP answered 200 on the TLS listener")
		}
	}
	env, out, errb := testEnv(t, append(tlsEnv, "PORTAL_HTTP_ADDR="+addr)...)
	if code := runWith(env, []string{"health"}); code != 0 {
		t.Errorf("health over TLS: exit %d: %s%s", code, out, errb)
	}
}

// A certificate that cannot be loaded stops serve with one line naming
// the keys and the file, before anything is written.
func TestServeTLSBadCertificate(t *testing.T) {
	data := t.TempDir()
	missing := filepath.Join(t.TempDir(), "nope.pem")
	env, out, errb := testEnv(t, "PORTAL_DATA_DIR="+data, "PORTAL_MQTT_LISTEN=127.0.0.1:0",
		"PORTAL_HTTP_TLS_CERT="+missing, "PORTAL_HTTP_TLS_KEY="+missing)
	// Were the certificate ignored, serve would run: stop it after a while.
	env.signals = func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 10*time.Second)
	}
	if code := runWith(env, []string{"serve", "--addr", "127.0.0.1:0"}); code != exitError {
		t.Fatalf("exit %d, want %d: %s", code, exitError, errb)
	}
	line := errb.String()
	if strings.Count(line, "\n") != 1 || !strings.Contains(line, "http.tls_cert, http.tls_key: cannot load "+missing) {
		t.Errorf("stderr %q: want one line naming the keys and the file", line)
	}
	if strings.Contains(out.String(), "serving on") {
		t.Errorf("banner printed: %s", out)
	}
	if entries, _ := os.ReadDir(data); len(entries) > 0 {
		t.Errorf("the data dir was written: %v", entries)
	}
}
