package admission

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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

// CertReloader serves the certificate in a pair of files and re-reads them
// when they change (cert-manager renewals, Secret volume updates), without
// a restart. A pair that does not load (a half-written file during the
// swap) leaves the previous certificate in place, so no handshake fails.
type CertReloader struct {
	certFile, keyFile string
	// checkEvery bounds how often the files are stat'ed.
	checkEvery time.Duration

	mu        sync.RWMutex
	cert      *tls.Certificate
	modTime   time.Time
	lastCheck time.Time
	onLoad    func(notAfter time.Time)
}

// NewCertReloader loads the pair once; an error names the files.
func NewCertReloader(certFile, keyFile string, onLoad func(notAfter time.Time)) (*CertReloader, error) {
	r := &CertReloader{certFile: certFile, keyFile: keyFile, checkEvery: time.Second, onLoad: onLoad}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *CertReloader) stamp() (time.Time, error) {
	var latest time.Time
	for _, f := range []string{r.certFile, r.keyFile} {
		st, err := os.Stat(f)
		if err != nil {
			return time.Time{}, err
		}
		if st.ModTime().After(latest) {
			latest = st.ModTime()
		}
	}
	return latest, nil
}

func (r *CertReloader) load() error {
	mod, err := r.stamp()
	if err != nil {
		return fmt.Errorf("TLS certificate: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s / key %s: %w", r.certFile, r.keyFile, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return fmt.Errorf("TLS certificate %s: %w", r.certFile, err)
	}
	cert.Leaf = leaf
	r.mu.Lock()
	r.cert, r.modTime, r.lastCheck = &cert, mod, time.Now()
	r.mu.Unlock()
	if r.onLoad != nil {
		r.onLoad(leaf.NotAfter)
	}
	return nil
}

// GetCertificate is for tls.Config.GetCertificate.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.RLock()
	cert, mod, last := r.cert, r.modTime, r.lastCheck
	r.mu.RUnlock()
	if time.Since(last) >= r.checkEvery {
		r.mu.Lock()
		r.lastCheck = time.Now()
		r.mu.Unlock()
		if now, err := r.stamp(); err == nil && !now.Equal(mod) {
			if err := r.load(); err == nil {
				r.mu.RLock()
				cert = r.cert
				r.mu.RUnlock()
			}
		}
	}
	return cert, nil
}

// GeneratedCerts is a self-signed CA and a serving certificate signed by it.
type GeneratedCerts struct {
	CACert, ServingCert, ServingKey []byte // PEM
}

// GenerateCerts makes a CA and a serving certificate for the given DNS
// names and IPs (for the webhook Service: name.namespace.svc), valid for
// the given duration.
func GenerateCerts(dnsNames []string, ips []string, valid time.Duration) (*GeneratedCerts, error) {
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
	return &GeneratedCerts{
		CACert:      pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		ServingCert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		ServingKey:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}
