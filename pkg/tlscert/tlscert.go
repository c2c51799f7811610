// Package tlscert serves a webhook's certificate from files it re-reads when
// they change, and generates a CA and serving certificate for clusters
// without cert-manager.
package tlscert

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"sync"
	"time"
)

// Reloader serves the certificate in a pair of files and re-reads them
// when their content changes (cert-manager renewals, Secret volume updates,
// whose "..data" swap can keep modification times), without a restart.
// A pair that does not load (a half-written file during the swap, a key
// that does not match, a deleted file) leaves the previous certificate in
// place, so no handshake fails, and is reported once through OnError.
type Reloader struct {
	certFile, keyFile string
	// checkEvery bounds how often the files are read.
	checkEvery time.Duration
	onLoad     func(notAfter time.Time)
	onError    func(err error)

	mu        sync.RWMutex
	cert      *tls.Certificate
	loaded    [sha256.Size]byte // content of the pair being served
	failed    [sha256.Size]byte // content of the last pair that did not load
	lastCheck time.Time
}

// NewReloader loads the pair once; an error names the files. onLoad
// is called with the expiry of each certificate loaded, onError with each
// failed reload (once per content of the files).
func NewReloader(certFile, keyFile string, onLoad func(notAfter time.Time), onError func(err error)) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile, checkEvery: time.Second, onLoad: onLoad, onError: onError}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// reload reads the pair and serves it if its content changed; it returns
// an error when the new content does not load.
func (r *Reloader) reload() error {
	certPEM, err := os.ReadFile(r.certFile)
	if err != nil {
		return r.fail(sha256.Sum256([]byte("unreadable\x00"+err.Error())), fmt.Errorf("TLS certificate: %w", err))
	}
	keyPEM, err := os.ReadFile(r.keyFile)
	if err != nil {
		return r.fail(sha256.Sum256([]byte("unreadable\x00"+err.Error())), fmt.Errorf("TLS key: %w", err))
	}
	h := sha256.New()
	h.Write(certPEM)
	h.Write([]byte{0})
	h.Write(keyPEM)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	r.mu.RLock()
	same := r.cert != nil && sum == r.loaded
	r.mu.RUnlock()
	if same {
		return nil
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return r.fail(sum, fmt.Errorf("TLS certificate %s / key %s: %w", r.certFile, r.keyFile, err))
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return r.fail(sum, fmt.Errorf("TLS certificate %s: %w", r.certFile, err))
	}
	cert.Leaf = leaf
	r.mu.Lock()
	r.cert, r.loaded, r.failed = &cert, sum, [sha256.Size]byte{}
	r.mu.Unlock()
	if r.onLoad != nil {
		r.onLoad(leaf.NotAfter)
	}
	return nil
}

// fail reports a pair that did not load, once for each content (state)
// of the files, and returns err.
func (r *Reloader) fail(state [sha256.Size]byte, err error) error {
	r.mu.Lock()
	first := state != r.failed
	r.failed = state
	serving := r.cert != nil
	r.mu.Unlock()
	if first && serving && r.onError != nil {
		r.onError(err)
	}
	return err
}

// Check re-reads the files if checkEvery has passed since the last check.
func (r *Reloader) Check() {
	r.mu.Lock()
	due := time.Since(r.lastCheck) >= r.checkEvery
	if due {
		r.lastCheck = time.Now()
	}
	r.mu.Unlock()
	if due {
		_ = r.reload()
	}
}

// Watch checks the files every checkEvery until ctx ends, so a failed
// renewal is reported even when no client connects.
func (r *Reloader) Watch(ctx context.Context) {
	t := time.NewTicker(r.checkEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.Check()
		}
	}
}

// GetCertificate is for tls.Config.GetCertificate.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.Check()
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cert, nil
}

// Generated is a self-signed CA and a serving certificate signed by it.
type Generated struct {
	CACert, ServingCert, ServingKey []byte // PEM
}

// Generate makes a CA and a serving certificate for the given DNS
// names and IPs (for the webhook Service: name.namespace.svc), valid for
// the given duration.
func Generate(dnsNames []string, ips []string, valid time.Duration) (*Generated, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now().Add(-5 * time.Minute)
	ca := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "klint-webhook-ca"},
		NotBefore: now, NotAfter: now.Add(valid), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: dnsNames[0]}, DNSNames: dnsNames,
		NotBefore: now, NotAfter: now.Add(valid),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, ip := range ips {
		if p := net.ParseIP(ip); p != nil {
			leaf.IPAddresses = append(leaf.IPAddresses, p)
		}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &Generated{
		CACert:      pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		ServingCert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		ServingKey:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}
