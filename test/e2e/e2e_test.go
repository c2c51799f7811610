package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

func TestE2E(t *testing.T) {
	dir := t.TempDir()
	bin := os.Getenv("KLINT_E2E_BIN")
	if bin == "" {
		bin = filepath.Join(repoRoot, "bin", "e2e")
	}
	start := time.Now()
	binaries(t, bin)
	c := startCluster(t, dir, bin)
	defer c.stop()
	t.Logf("etcd and kube-apiserver ready after %s", time.Since(start).Round(time.Second))
	ctx := context.Background()
	for _, ns := range []string{"shop", "ci"} {
		if err := c.createNamespace(ctx, ns); err != nil {
			t.Fatal(err)
		}
	}

	// Before any webhook is registered: the API server's own verdict on the
	// schema fixtures.
	t.Run("schema fixtures", func(t *testing.T) { schemaFixtures(t, c, bin) })
	t.Run("pod security", func(t *testing.T) { podSecurity(t, c, bin) })
	t.Run("custom resources", func(t *testing.T) { customResources(t, c, bin) })
	t.Run("updates with --base", func(t *testing.T) { updates(t, c, bin) })
	if corpus := os.Getenv("CORPUS"); corpus != "" {
		t.Run("corpus agreement", func(t *testing.T) { corpusAgreement(t, c, bin, corpus) })
	} else {
		t.Log("corpus agreement not measured: CORPUS names no directory (make e2e sets it to ../shared/corpus when that exists)")
	}
	// After the corpus: the policies stay, and apply cluster-wide.
	t.Run("admission policies", func(t *testing.T) { admissionPolicies(t, c, bin, "testdata/admission-policies", false) })
	t.Run("mutating admission policies", func(t *testing.T) {
		admissionPolicies(t, c, bin, "testdata/admission-policies-mutating", true)
	})
	t.Run("klint's rules as admission policies", func(t *testing.T) { compiledPolicies(t, c, bin) })
	t.Run("klint's fixes as mutating admission policies", func(t *testing.T) { compiledFixes(t, c, bin) })

	wh := startWebhook(t, c, dir, bin)
	defer wh.stop()
	register(t, c, wh, admissionregistrationv1.Ignore)
	waitForWebhook(t, c)

	t.Run("latest image is denied with the rule ID", func(t *testing.T) {
		_, err := c.client.AppsV1().Deployments("shop").Create(ctx, deployment("latest", "nginx:latest", nil), metav1.CreateOptions{})
		if err == nil || !strings.Contains(err.Error(), "[image-latest-tag]") || !strings.Contains(err.Error(), "denied the request") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("clean deployment is created and warnings reach the client", func(t *testing.T) {
		wc, warnings := warningClient(t, c.config)
		if _, err := wc.AppsV1().Deployments("shop").Create(ctx, deployment("clean", "nginx:1.27", nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got := warnings()
		if len(got) == 0 || !strings.HasPrefix(got[0], "[missing-liveness-probe]") {
			t.Errorf("warnings = %q", got)
		}
	})
	t.Run("mutation is persisted", func(t *testing.T) {
		// The selector asks for tier=web, which the template lacks: the
		// API server would reject it, but the mutating webhook adds the
		// label first.
		d := deployment("mutated", "nginx:1.27", map[string]string{"tier": "web"})
		if _, err := c.client.AppsV1().Deployments("shop").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		stored, err := c.client.AppsV1().Deployments("shop").Get(ctx, "mutated", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if stored.Spec.Template.Labels["tier"] != "web" {
			t.Errorf("stored template labels = %v", stored.Spec.Template.Labels)
		}
	})
	t.Run("server dry run gets the same verdict", func(t *testing.T) {
		_, err := c.client.AppsV1().Deployments("shop").Create(ctx, deployment("dry", "nginx:latest", nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil || !strings.Contains(err.Error(), "[image-latest-tag]") {
			t.Fatalf("err = %v", err)
		}
		if _, err := c.client.AppsV1().Deployments("shop").Create(ctx, deployment("dry", "nginx:1.27", nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.client.AppsV1().Deployments("shop").Get(ctx, "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("dry run stored the object: %v", err)
		}
	})
	t.Run("excluded namespace is not checked", func(t *testing.T) {
		if _, err := c.client.AppsV1().Deployments("kube-system").Create(ctx, deployment("system", "nginx:latest", nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("kubectl sees the same", func(t *testing.T) { kubectl(t, c, dir) })
	t.Run("webhook down: Ignore lets requests through, Fail blocks them", func(t *testing.T) {
		wh.stop()
		if _, err := c.client.AppsV1().Deployments("shop").Create(ctx, deployment("unchecked", "nginx:latest", nil), metav1.CreateOptions{}); err != nil {
			t.Fatalf("failurePolicy Ignore: %v", err)
		}
		register(t, c, wh, admissionregistrationv1.Fail)
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := c.client.AppsV1().Deployments("shop").Create(ctx, deployment("blocked", "nginx:1.27", nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if err != nil && strings.Contains(err.Error(), "failed calling webhook") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("failurePolicy Fail did not block: %v", err)
			}
			time.Sleep(300 * time.Millisecond)
		}
	})
}

func deployment(name, image string, extraSelector map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app.kubernetes.io/name": name}
	sel := map[string]string{"app.kubernetes.io/name": name}
	for k, v := range extraSelector {
		sel[k] = v
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "web", Image: image,
					ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intOrString(80)}}},
				}}},
			},
		},
	}
}

type webhook struct {
	proc *process
	port int
	ca   []byte
	once sync.Once
}

func (w *webhook) stop() { w.once.Do(w.proc.stop) }

// startWebhook runs admission-webhook with a generated certificate and the
// config shipped in deploy/webhook.
func startWebhook(t *testing.T, c *cluster, dir, bin string) *webhook {
	t.Helper()
	certDir := filepath.Join(dir, "webhook-certs")
	out, err := exec.Command(filepath.Join(bin, "admission-webhook"), "certs", "--host", "127.0.0.1", "--out-dir", certDir).Output()
	if err != nil || len(out) < 100 {
		t.Fatalf("certs: %v %s", err, out)
	}
	var cm corev1.ConfigMap
	readYAML(t, filepath.Join(repoRoot, "deploy/webhook/base/configmap.yaml"), &cm)
	cfg := filepath.Join(dir, "klint.yaml")
	os.WriteFile(cfg, []byte(cm.Data["klint.yaml"]), 0o644)
	port := freePort(t)
	w := &webhook{port: port}
	w.ca, _ = os.ReadFile(filepath.Join(certDir, "ca.crt"))
	w.proc = startProcess(t, dir, "admission-webhook", filepath.Join(bin, "admission-webhook"),
		"--listen", fmt.Sprintf("127.0.0.1:%d", port), "--metrics-listen", fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"--tls-cert-file", filepath.Join(certDir, "tls.crt"), "--tls-private-key-file", filepath.Join(certDir, "tls.key"),
		"--config", cfg, "--drain-delay", "0s", "--client-ca", filepath.Join(c.dir, "ca.crt"))
	return w
}

// register creates (or replaces) the webhook configurations from
// deploy/webhook, pointed at the loopback webhook.
func register(t *testing.T, c *cluster, w *webhook, policy admissionregistrationv1.FailurePolicyType) {
	t.Helper()
	ctx := context.Background()
	url := func(path string) *string { u := fmt.Sprintf("https://127.0.0.1:%d%s", w.port, path); return &u }
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	readYAML(t, filepath.Join(repoRoot, "deploy/webhook/base/validatingwebhookconfiguration.yaml"), &vwc)
	for i := range vwc.Webhooks {
		vwc.Webhooks[i].ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: url("/validate"), CABundle: w.ca}
		vwc.Webhooks[i].FailurePolicy = &policy
	}
	var mwc admissionregistrationv1.MutatingWebhookConfiguration
	readYAML(t, filepath.Join(repoRoot, "deploy/webhook/base/mutatingwebhookconfiguration.yaml"), &mwc)
	for i := range mwc.Webhooks {
		mwc.Webhooks[i].ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: url("/mutate"), CABundle: w.ca}
		mwc.Webhooks[i].FailurePolicy = &policy
	}
	api := c.client.AdmissionregistrationV1()
	_ = api.ValidatingWebhookConfigurations().Delete(ctx, vwc.Name, metav1.DeleteOptions{})
	_ = api.MutatingWebhookConfigurations().Delete(ctx, mwc.Name, metav1.DeleteOptions{})
	if _, err := api.ValidatingWebhookConfigurations().Create(ctx, &vwc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.MutatingWebhookConfigurations().Create(ctx, &mwc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitForWebhook waits until the API server calls the webhook (its
// configuration cache is refreshed asynchronously).
func waitForWebhook(t *testing.T, c *cluster) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := c.client.AppsV1().Deployments("shop").Create(context.Background(), deployment("probe", "nginx:latest", nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil && strings.Contains(err.Error(), "image-latest-tag") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook never called: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// warningClient records the warnings the API server passes on.
func warningClient(t *testing.T, cfg *rest.Config) (*kubernetes.Clientset, func() []string) {
	var mu sync.Mutex
	var got []string
	c := rest.CopyConfig(cfg)
	c.WarningHandler = warningFunc(func(msg string) { mu.Lock(); got = append(got, msg); mu.Unlock() })
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	return cs, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), got...) }
}

type warningFunc func(string)

func (f warningFunc) HandleWarningHeader(code int, agent, msg string) {
	if code == 299 {
		f(msg)
	}
}

// schemaFixtures creates every fixture of testdata/manifests/schema with
// strict field validation (server-side dry run): the API server must
// reject each object of invalid/ and accept each of valid/, and klint's
// verdict (a schema, removed-api or unreleased-api error) must be the
// API server's on every one.
func schemaFixtures(t *testing.T, c *cluster, bin string) {
	for _, kind := range []string{"invalid", "valid", "warnings"} {
		files, _ := filepath.Glob(filepath.Join(repoRoot, "testdata/manifests/schema", kind, "*.yaml"))
		r := agreement(t, c, bin, files, nil)
		for _, d := range r.warningDiffs {
			t.Errorf("api-warning: %s", d)
		}
		if kind == "warnings" && (r.warned == 0 || r.warned != r.accepted) {
			t.Errorf("warnings: the API server warned about %d of the %d objects it accepted", r.warned, r.accepted)
		}
		for _, m := range r.missed {
			t.Errorf("the API server rejects what klint accepts: %s", m)
		}
		for _, f := range r.flagged {
			t.Errorf("klint rejects what the API server accepts: %s", f)
		}
		if kind == "invalid" && r.accepted > 0 || kind != "invalid" && r.rejected > 0 {
			t.Errorf("%s: the API server rejected %d and accepted %d objects", kind, r.rejected, r.accepted)
		}
		t.Logf("schema fixtures, %s: %d objects rejected by the API server (klint flags %d), %d accepted (klint flags %d); warned about %d (klint's api-warning findings the same on %d)", kind, r.rejected, r.caught, r.accepted, r.wronglyFlagged, r.warned, r.warnedAlike)
		switch kind {
		case "invalid":
			readmeQuotes(t, fmt.Sprintf("the %d invalid fixtures rejected and flagged", r.caught))
		case "valid":
			readmeQuotes(t, fmt.Sprintf("the %d valid ones accepted and clean", r.accepted-r.wronglyFlagged))
		}
	}
}

// corpusAgreement measures klint against the API server on the plain
// manifests of a corpus: what the server rejects that klint flags, and
// what it accepts that klint flags. A measurement, logged, not a test:
// the corpus is not the project's.
//
// The corpus's CRDs are registered first (the first of each name, in
// file order, as klint takes the first of each kind), and klint is given
// them with --crd, since it reads the corpus in batches: the custom
// resources of their kinds are compared too, apart.
func corpusAgreement(t *testing.T, c *cluster, bin, corpus string) {
	files := plainManifests(corpus)
	crdFiles, created, crGroups := registerCRDs(t, c, files)
	var flags []string
	for _, f := range crdFiles {
		flags = append(flags, "--crd", f)
	}
	r := agreement(t, c, bin, files, crGroups, flags...)
	t.Logf("corpus %s: the API server rejects %d built-in objects, klint flags %d of them; it accepts %d, klint flags %d of those; %d custom resources without their CRD left out",
		corpus, r.rejected, r.caught, r.accepted, r.wronglyFlagged, r.custom)
	flaggedAccepted := "none"
	if r.wronglyFlagged > 0 {
		flaggedAccepted = thousands(r.wronglyFlagged)
	}
	readmeQuotes(t, fmt.Sprintf("%s of the %s objects the server rejects are flagged and %s of the %s it accepts", thousands(r.caught), thousands(r.rejected), flaggedAccepted, thousands(r.accepted)))
	t.Logf("corpus %s: %d CRDs registered from %d files; of the custom resources of their kinds, the API server rejects %d, klint flags %d of them; it accepts %d, klint flags %d of those",
		corpus, created, len(crdFiles), r.cr.rejected, r.cr.caught, r.cr.accepted, r.cr.wronglyFlagged)
	t.Logf("corpus %s: of the objects the API server accepts, it warns about %d (its strategies' warnings on create); klint's api-warning findings are the same warnings on %d of them",
		corpus, r.warned, r.warnedAlike)
	for _, d := range r.warningDiffs {
		t.Logf("  warnings differ: %s", d)
	}
	for _, x := range []*agreementResult{&r, r.cr} {
		for _, m := range x.missed {
			t.Logf("  missed: %s", m)
		}
		for _, f := range x.flagged {
			t.Logf("  flagged, accepted by the server: %s", f)
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// kubectl applies a manifest with kubectl, the client users run.
func kubectl(t *testing.T, c *cluster, dir string) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatal("kubectl is not installed; .ci/run installs it")
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: e2e, cluster: {server: %q, certificate-authority: %q}}]
users: [{name: admin, user: {client-certificate: %q, client-key: %q}}]
contexts: [{name: e2e, context: {cluster: e2e, user: admin, namespace: shop}}]
current-context: e2e
`, c.config.Host, c.config.CAFile, c.config.CertFile, c.config.KeyFile)
	os.WriteFile(kubeconfig, []byte(cfg), 0o600)
	manifest := filepath.Join(repoRoot, "testdata/manifests/image-latest-tag/bad.yaml")
	out, err := exec.Command("kubectl", "--kubeconfig", kubeconfig, "apply", "-f", manifest).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "[image-latest-tag]") {
		t.Errorf("kubectl apply of a :latest Pod: %v\n%s", err, out)
	}
	good := filepath.Join(repoRoot, "testdata/manifests/probe-port/good.yaml")
	out, err = exec.Command("kubectl", "--kubeconfig", kubeconfig, "apply", "-f", good).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Warning: [") || !strings.Contains(string(out), "pod/web created") {
		t.Errorf("kubectl apply of a clean Pod: %v\n%s", err, out)
	}
}
