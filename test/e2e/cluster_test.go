// Package e2e runs klint's admission webhook against a real kube-apiserver
// and etcd, built from their Go modules, on loopback.
package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// repoRoot is the klint repository, two levels up.
var repoRoot, _ = filepath.Abs("../..")

// binaries checks that dir holds kube-apiserver, etcd (built as
// "server") and admission-webhook. They are built before the tests run
// (make e2e-tools), never inside them: a cold build of kube-apiserver takes
// minutes, which no test timeout should have to cover.
func binaries(t testing.TB, dir string) {
	t.Helper()
	for _, name := range []string{"kube-apiserver", "server", "admission-webhook", "klint"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("%s is not built in %s: run make e2e-tools first (make e2e does)", name, dir)
		}
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// createNamespace makes a namespace and its default ServiceAccount (the
// controller manager's job in a cluster).
func (c *cluster) createNamespace(ctx context.Context, ns string) error {
	if _, err := c.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	_, err := c.client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// pki is a CA and the certificates signed by it.
type pki struct {
	dir    string
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
}

func newPKI(t testing.TB, dir string) *pki {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := &pki{dir: dir, caCert: cert, caKey: key}
	p.write("ca.crt", "CERTIFICATE", der)
	return p
}

func (p *pki) write(name, typ string, der []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		panic(err)
	}
	return path
}

// issue writes name.crt and name.key: a serving certificate for 127.0.0.1
// or, with orgs, a client certificate.
func (p *pki) issue(t testing.TB, name, cn string, orgs []string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	p.write(name+".crt", "CERTIFICATE", der)
	p.write(name+".key", "EC PRIVATE KEY", kder)
}

// process is a started binary whose output goes to a log file.
type process struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

func startProcess(t testing.TB, dir, name, bin string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() { cmd.Wait(); logFile.Close(); close(p.exited) }()
	return p
}

func (p *process) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (p *process) tail() string {
	data, _ := os.ReadFile(p.log)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// cluster is etcd plus kube-apiserver on loopback.
type cluster struct {
	dir       string
	bin       string
	pki       *pki
	etcd, api *process
	config    *rest.Config
	client    *kubernetes.Clientset
}

func startCluster(t testing.TB, dir, bin string) *cluster {
	t.Helper()
	c := &cluster{dir: dir, bin: bin, pki: newPKI(t, dir)}
	c.pki.issue(t, "apiserver", "kube-apiserver", nil)
	c.pki.issue(t, "admin", "e2e-admin", []string{"system:masters"})
	// The API server presents a client certificate to every webhook (its
	// AdmissionConfiguration says so); the webhook, started with
	// --client-ca, answers no one else.
	c.pki.issue(t, "webhook-client", "kube-apiserver-webhook-client", nil)
	kubeconfig := filepath.Join(dir, "webhook-kubeconfig.yaml")
	os.WriteFile(kubeconfig, []byte(fmt.Sprintf("apiVersion: v1\nkind: Config\nusers:\n  - name: \"*\"\n    user:\n      client-certificate: %s\n      client-key: %s\n",
		filepath.Join(dir, "webhook-client.crt"), filepath.Join(dir, "webhook-client.key"))), 0o600)
	admissionConfig := filepath.Join(dir, "admission.yaml")
	var plugins strings.Builder
	for _, name := range []string{"ValidatingAdmissionWebhook", "MutatingAdmissionWebhook"} {
		fmt.Fprintf(&plugins, "  - name: %s\n    configuration:\n      apiVersion: apiserver.config.k8s.io/v1\n      kind: WebhookAdmissionConfiguration\n      kubeConfigFile: %s\n", name, kubeconfig)
	}
	os.WriteFile(admissionConfig, []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n"+plugins.String()), 0o600)
	saKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	saDER, _ := x509.MarshalECPrivateKey(saKey)
	saPath := c.pki.write("sa.key", "EC PRIVATE KEY", saDER)

	clientPort, peerPort := freePort(t), freePort(t)
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	c.etcd = startProcess(t, dir, "etcd", filepath.Join(bin, "server"),
		"--data-dir", filepath.Join(dir, "etcd"), "--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL, "--initial-cluster", "default="+peerURL,
		"--listen-metrics-urls", fmt.Sprintf("http://127.0.0.1:%d", freePort(t)))

	apiPort := freePort(t)
	c.api = startProcess(t, dir, "kube-apiserver", filepath.Join(bin, "kube-apiserver"),
		"--etcd-servers", etcdURL, "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(apiPort), "--cert-dir", filepath.Join(dir, "apiserver-certs"),
		"--tls-cert-file", filepath.Join(dir, "apiserver.crt"), "--tls-private-key-file", filepath.Join(dir, "apiserver.key"),
		"--client-ca-file", filepath.Join(dir, "ca.crt"), "--authorization-mode", "RBAC",
		"--service-account-key-file", saPath, "--service-account-signing-key-file", saPath,
		"--service-account-issuer", "https://kubernetes.default.svc", "--service-cluster-ip-range", "10.96.0.0/16",
		// Privileged containers allowed, as kubeadm and kind run it (and
		// klint judges). The ServiceAccount admission plugin is on, as in
		// any cluster; with no controller manager, each namespace's default
		// ServiceAccount is made by createNamespace.
		"--allow-privileged=true", "--enable-priority-and-fairness=false",
		// Loopback is refused as the advertised address of the kubernetes
		// Service's endpoints; nothing here needs them.
		"--endpoint-reconciler-type", "none",
		"--admission-control-config-file", admissionConfig,
		"--storage-backend", "etcd3")
	c.config = &rest.Config{
		Host: fmt.Sprintf("https://127.0.0.1:%d", apiPort),
		TLSClientConfig: rest.TLSClientConfig{
			CAFile: filepath.Join(dir, "ca.crt"), CertFile: filepath.Join(dir, "admin.crt"), KeyFile: filepath.Join(dir, "admin.key"),
		},
		QPS: 100, Burst: 200,
	}
	cs, err := kubernetes.NewForConfig(c.config)
	if err != nil {
		t.Fatal(err)
	}
	c.client = cs
	deadline := time.Now().Add(90 * time.Second)
	for {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(context.Background())
		if err == nil && string(body) == "ok" {
			break
		}
		if time.Now().After(deadline) || !c.api.running() || !c.etcd.running() {
			t.Fatalf("kube-apiserver not ready: %v\netcd:\n%s\napiserver:\n%s", err, c.etcd.tail(), c.api.tail())
		}
		time.Sleep(300 * time.Millisecond)
	}
	return c
}

func (c *cluster) stop() {
	if c.api != nil {
		c.api.stop()
	}
	if c.etcd != nil {
		c.etcd.stop()
	}
}

func intOrString(port int) intstr.IntOrString { return intstr.FromInt32(int32(port)) }
