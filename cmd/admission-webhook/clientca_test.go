package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clientPair makes a CA and a client certificate it signed (what the API
// server presents when its AdmissionConfiguration names one), and writes
// the CA to dir/client-ca.crt.
func clientPair(t *testing.T, dir, name string) tls.Certificate {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, leafKey := key(), key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + "-ca"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, name+"-ca.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644))
	return tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}
}

// With --client-ca, /validate, /mutate and /metrics on the HTTPS port
// answer only a client with a certificate that CA signed (403 to one
// without, or with another CA's), while the probes stay
// open to the kubelet, which presents none; the metrics listener is on
// loopback by default.
func TestClientCertificateIsRequired(t *testing.T) {
	dir := t.TempDir()
	ca := writeCerts(t, dir)
	good := clientPair(t, dir, "apiserver")
	bad := clientPair(t, dir, "stranger")
	r := start(t, dir, "--client-ca", filepath.Join(dir, "apiserver-ca.crt"))
	with := func(cert *tls.Certificate) *http.Client {
		c := client(ca)
		if cert != nil {
			c.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		return c
	}
	forced := func(cert *tls.Certificate) *http.Client {
		c := client(ca)
		c.Transport.(*http.Transport).TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		return c
	}
	status := func(c *http.Client, method, path string) string {
		var resp *http.Response
		var err error
		if method == http.MethodPost {
			resp, err = c.Post("https://"+r.webhook+path, "application/json", strings.NewReader(reviewJSON))
		} else {
			resp, err = c.Get("https://" + r.webhook + path)
		}
		if err != nil {
			return "error"
		}
		resp.Body.Close()
		return resp.Status[:3]
	}
	for _, c := range []struct {
		name   string
		client *http.Client
		want   map[string]string
	}{
		{"the API server's certificate", with(&good), map[string]string{"/validate": "200", "/mutate": "200", "/metrics": "200", "/healthz": "200", "/readyz": "200"}},
		{"no certificate", with(nil), map[string]string{"/validate": "403", "/mutate": "403", "/metrics": "403", "/healthz": "200", "/readyz": "200"}},
		// The server names its CA in the handshake, so a client holding
		// only another CA's certificate presents none.
		{"another CA's certificate", with(&bad), map[string]string{"/validate": "403", "/mutate": "403", "/metrics": "403", "/healthz": "200", "/readyz": "200"}},
		// Presented all the same, it fails the handshake.
		{"another CA's certificate, forced", forced(&bad), map[string]string{"/validate": "error", "/healthz": "error"}},
	} {
		for path, want := range c.want {
			method := http.MethodGet
			if path == "/validate" || path == "/mutate" {
				method = http.MethodPost
			}
			if got := status(c.client, method, path); got != want {
				t.Errorf("%s: %s %s: %s, want %s", c.name, method, path, got, want)
			}
		}
	}
}

// The metrics listener binds loopback unless told otherwise: it has no
// authentication.
func TestMetricsListenDefaultsToLoopback(t *testing.T) {
	cmd := newRootCmd(nil, nil, nil)
	if got := cmd.Flags().Lookup("metrics-listen").DefValue; got != "127.0.0.1:9090" {
		t.Errorf("--metrics-listen defaults to %q", got)
	}
}
