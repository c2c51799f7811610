// Command peers runs the peers' own check fixtures through klint with the
// mapped rule on, and says where klint agrees with what each peer's tests
// expect: every Polaris test/checks/<check>/success*.yaml (no finding) and
// failure*.yaml (a finding); every kube-linter tests/checks fixture with
// the report count its e2etests/bats-tests.sh expects; kube-score's
// score/testdata files with the grade its tests expect (AllOK: no
// finding; Warning or Critical: a finding). Each peer's directory is a
// checkout (or an extract) of its repository:
//
//	go run ./test/peers -polaris DIR -kube-linter DIR -kube-score DIR
//
// It prints, per peer check, the fixtures where klint agrees, and lists
// the others; it is a measurement (the fixtures are the peers', not this
// project's), run by hand, not by make test.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/klint-dev/klint/pkg/apivalidation"
	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/inputs"
	"sigs.k8s.io/yaml"
)

// mapping is the klint rule a peer check maps to, with the config that
// makes the rule ask what the peer asks.
type mapping struct {
	rule   string
	config string
}

var polarisChecks = map[string]mapping{
	"automountServiceAccountToken":             {rule: "automount-service-account-token"},
	"clusterrolePodExecAttach":                 {rule: "rbac-pod-exec"},
	"rolePodExecAttach":                        {rule: "rbac-pod-exec"},
	"clusterrolebindingClusterAdmin":           {rule: "rbac-cluster-admin-binding"},
	"rolebindingClusterAdminClusterRole":       {rule: "rbac-cluster-admin-binding"},
	"rolebindingClusterAdminRole":              {rule: "rbac-cluster-admin-binding"},
	"cpuLimitsMissing":                         {rule: "missing-resource-limits", config: "rules:\n  missing-resource-limits:\n    params: {cpu: true}\n"},
	"cpuRequestsMissing":                       {rule: "missing-resource-requests"},
	"memoryLimitsMissing":                      {rule: "missing-resource-limits"},
	"memoryRequestsMissing":                    {rule: "missing-resource-requests"},
	"dangerousCapabilities":                    {rule: "pod-security-baseline"},
	"insecureCapabilities":                     {rule: "pod-security-restricted"},
	"deploymentMissingReplicas":                {rule: "replicas-minimum"},
	"hostIPCSet":                               {rule: "pod-security-baseline"},
	"hostNetworkSet":                           {rule: "pod-security-baseline"},
	"hostPIDSet":                               {rule: "pod-security-baseline"},
	"hostPathSet":                              {rule: "pod-security-baseline"},
	"hostPortSet":                              {rule: "pod-security-baseline"},
	"hostProcess":                              {rule: "pod-security-baseline"},
	"procMount":                                {rule: "pod-security-baseline"},
	"runAsPrivileged":                          {rule: "pod-security-baseline"},
	"privilegeEscalationAllowed":               {rule: "pod-security-restricted"},
	"runAsRootAllowed":                         {rule: "pod-security-restricted"},
	"hpaMinAvailability":                       {rule: "hpa-replicas"},
	"livenessProbeMissing":                     {rule: "missing-liveness-probe"},
	"readinessProbeMissing":                    {rule: "missing-readiness-probe"},
	"missingNetworkPolicy":                     {rule: "missing-network-policy", config: "rules:\n  missing-network-policy:\n    params: {always: true}\n"},
	"missingPodDisruptionBudget":               {rule: "missing-pdb"},
	"notReadOnlyRootFilesystem":                {rule: "writable-root-filesystem"},
	"pdbDisruptionsIsZero":                     {rule: "pdb-blocks-eviction"},
	"pdbMinAvailableGreaterThanHPAMinReplicas": {rule: "pdb-blocks-eviction"},
	"priorityClassNotSet":                      {rule: "missing-priority-class"},
	"pullPolicyNotAlways":                      {rule: "image-pull-policy"},
	"sensitiveConfigmapContent":                {rule: "plaintext-secret"},
	"sensitiveContainerEnvVar":                 {rule: "plaintext-secret"},
	"tagNotSpecified":                          {rule: "image-latest-tag"},
	"tlsSettingsMissing":                       {rule: "ingress-missing-tls"},
	"topologySpreadConstraint":                 {rule: "missing-anti-affinity"},
}

var kubeLinterChecks = map[string]mapping{
	"access-to-create-pods":                  {rule: "rbac-create-pods"},
	"access-to-secrets":                      {rule: "rbac-secrets-access"},
	"cluster-admin-role-binding":             {rule: "rbac-cluster-admin-binding"},
	"dangling-hpa":                           {rule: "hpa-target-missing"},
	"dangling-ingress":                       {rule: "ingress-backend-missing"},
	"dangling-networkpolicy":                 {rule: "network-policy-selects-nothing"},
	"dangling-networkpolicypeer-podselector": {rule: "network-policy-selects-nothing"},
	"dangling-service":                       {rule: "service-selects-nothing"},
	"dangling-servicemonitor":                {rule: "servicemonitor-selects-nothing"},
	"default-service-account":                {rule: "default-service-account"},
	"deprecated-service-account-field":       {rule: "deprecated-service-account-field"},
	"dnsconfig-options":                      {rule: "dnsconfig-ndots"},
	"docker-sock":                            {rule: "sensitive-host-mount"},
	"drop-net-raw-capability":                {rule: "pod-security-restricted"},
	"duplicate-env-var":                      {rule: "duplicate-env"},
	"env-var-secret":                         {rule: "plaintext-secret"},
	"exposed-services":                       {rule: "service-type"},
	"host-ipc":                               {rule: "pod-security-baseline"},
	"host-network":                           {rule: "pod-security-baseline"},
	"host-pid":                               {rule: "pod-security-baseline"},
	"hpa-minimum-three-replicas":             {rule: "hpa-replicas", config: "rules:\n  hpa-replicas:\n    params: {min: 3}\n"},
	"job-ttl-seconds-after-finished":         {rule: "job-ttl"},
	"latest-tag":                             {rule: "image-latest-tag"},
	"liveness-port":                          {rule: "probe-port"},
	"readiness-port":                         {rule: "probe-port"},
	"startup-port":                           {rule: "probe-port"},
	"minimum-three-replicas":                 {rule: "replicas-minimum", config: "rules:\n  replicas-minimum:\n    params: {min: 3}\n"},
	"mismatching-selector":                   {rule: "workload-selector-mismatch"},
	"no-anti-affinity":                       {rule: "missing-anti-affinity"},
	"no-extensions-v1beta":                   {rule: "removed-api"},
	"no-liveness-probe":                      {rule: "missing-liveness-probe"},
	"no-readiness-probe":                     {rule: "missing-readiness-probe"},
	"no-node-affinity":                       {rule: "missing-node-affinity"},
	"no-read-only-root-fs":                   {rule: "writable-root-filesystem"},
	"no-rolling-update-strategy":             {rule: "rolling-update-strategy"},
	"non-existent-service-account":           {rule: "service-account-missing", config: "rules:\n  service-account-missing:\n    params: {assumeComplete: true}\n"},
	"non-isolated-pod":                       {rule: "missing-network-policy", config: "rules:\n  missing-network-policy:\n    params: {always: true}\n"},
	"pdb-max-unavailable":                    {rule: "pdb-blocks-eviction"},
	"pdb-min-available":                      {rule: "pdb-blocks-eviction"},
	"pdb-unhealthy-pod-eviction-policy":      {rule: "pdb-unhealthy-eviction-policy"},
	"priority-class-name":                    {rule: "missing-priority-class", config: "rules:\n  missing-priority-class:\n    params: {allowed: [system-cluster-critical, system-node-critical]}\n"},
	"privilege-escalation-container":         {rule: "pod-security-restricted"},
	"privileged-container":                   {rule: "pod-security-baseline"},
	"privileged-ports":                       {rule: "privileged-port"},
	"read-secret-from-env-var":               {rule: "secret-in-env"},
	"required-label-owner":                   {rule: "required-labels", config: "rules:\n  required-labels:\n    params: {keys: [owner]}\n"},
	"run-as-non-root":                        {rule: "pod-security-restricted"},
	"sensitive-host-mounts":                  {rule: "sensitive-host-mount"},
	"ssh-port":                               {rule: "ssh-port"},
	"unsafe-proc-mount":                      {rule: "pod-security-baseline"},
	"unsafe-sysctls":                         {rule: "pod-security-baseline"},
	"unset-cpu-requirements":                 {rule: "missing-resource-requests"},
	"unset-memory-requirements":              {rule: "missing-resource-limits"},
	"wildcard-in-rules":                      {rule: "rbac-wildcard"},
	"writable-host-mount":                    {rule: "writable-host-mount"},
}

var kubeScoreChecks = map[string]mapping{
	"Pod Probes":                                                     {rule: "missing-readiness-probe"},
	"Pod Probes Identical":                                           {rule: "probes-identical"},
	"Service Targets Pod":                                            {rule: "service-selects-nothing"},
	"Pod NetworkPolicy":                                              {rule: "missing-network-policy", config: "rules:\n  missing-network-policy:\n    params: {always: true}\n"},
	"NetworkPolicy targets Pod":                                      {rule: "network-policy-selects-nothing"},
	"Ingress targets Service":                                        {rule: "ingress-backend-missing"},
	"Pod Topology Spread Constraints":                                {rule: "missing-anti-affinity"},
	"Deployment has PodDisruptionBudget":                             {rule: "missing-pdb"},
	"StatefulSet has PodDisruptionBudget":                            {rule: "missing-pdb"},
	"Deployment has host PodAntiAffinity":                            {rule: "missing-anti-affinity"},
	"StatefulSet has host PodAntiAffinity":                           {rule: "missing-anti-affinity"},
	"StatefulSet has ServiceName":                                    {rule: "statefulset-service"},
	"HorizontalPodAutoscaler has target":                             {rule: "hpa-target-missing"},
	"Container Resources":                                            {rule: "missing-resource-limits", config: "rules:\n  missing-resource-limits:\n    params: {cpu: true}\n"},
	"Container Image Pull Policy":                                    {rule: "image-pull-policy"},
	"Service Type":                                                   {rule: "service-type", config: "rules:\n  service-type:\n    params: {forbidden: [NodePort]}\n"},
	"Deployment Strategy":                                            {rule: "rolling-update-strategy"},
	"Container Ephemeral Storage Request and Limit":                  {rule: "missing-ephemeral-storage"},
	"PodDisruptionBudget has policy":                                 {rule: "pdb-unhealthy-eviction-policy"},
	"Deployment targeted by HPA does not have replicas configured":   {rule: "hpa-replicas-conflict"},
	"Container Image Tag":                                            {rule: "image-latest-tag"},
	"StatefulSet Pod Selector labels match template metadata labels": {rule: "workload-selector-mismatch"},
	"HorizontalPodAutoscaler Replicas":                               {rule: "hpa-replicas"},
	"Deployment Replicas":                                            {rule: "replicas-minimum"},
	"Stable version":                                                 {rule: "deprecated-api"},
}

// expectation is one fixture and what the peer's tests expect of it:
// count findings (-1: at least one).
type expectation struct {
	check, file string
	count       int
}

type tally struct {
	agree, total int
	differ       []string
}

func main() {
	polaris := flag.String("polaris", "", "a checkout of FairwindsOps/polaris")
	kubeLinter := flag.String("kube-linter", "", "a checkout of stackrox/kube-linter")
	kubeScore := flag.String("kube-score", "", "a checkout of zegl/kube-score")
	flag.Parse()
	peers := []struct {
		name   string
		dir    string
		checks map[string]mapping
		read   func(dir string) []expectation
	}{
		{"polaris", *polaris, polarisChecks, readPolaris},
		{"kube-linter", *kubeLinter, kubeLinterChecks, readKubeLinter},
		{"kube-score", *kubeScore, kubeScoreChecks, readKubeScore},
	}
	for _, p := range peers {
		if p.dir == "" {
			continue
		}
		byCheck := map[string]*tally{}
		unmapped := map[string]bool{}
		for _, x := range p.read(p.dir) {
			m, ok := p.checks[x.check]
			if !ok {
				unmapped[x.check] = true
				continue
			}
			got, err := findings(x.file, m)
			t := byCheck[x.check]
			if t == nil {
				t = &tally{}
				byCheck[x.check] = t
			}
			t.total++
			want := strconv.Itoa(x.count)
			if x.count < 0 {
				want = "some"
			}
			switch {
			case err != nil:
				t.differ = append(t.differ, fmt.Sprintf("%s: %v", rel(p.dir, x.file), err))
			case x.count == got || x.count < 0 && got > 0:
				t.agree++
			default:
				t.differ = append(t.differ, fmt.Sprintf("%s: %s expects %s, klint's %s finds %d", rel(p.dir, x.file), p.name, want, m.rule, got))
			}
		}
		var agree, total int
		var names []string
		for c := range byCheck {
			names = append(names, c)
		}
		sort.Strings(names)
		fmt.Printf("## %s\n\n| check | klint rule | fixtures agreeing |\n|---|---|---|\n", p.name)
		for _, c := range names {
			t := byCheck[c]
			agree, total = agree+t.agree, total+t.total
			fmt.Printf("| %s | %s | %d/%d |\n", c, p.checks[c].rule, t.agree, t.total)
		}
		fmt.Printf("\n%s: %d of %d fixtures agree", p.name, agree, total)
		if len(unmapped) > 0 {
			var u []string
			for c := range unmapped {
				u = append(u, c)
			}
			sort.Strings(u)
			fmt.Printf("; checks without a klint rule: %s", strings.Join(u, ", "))
		}
		fmt.Println()
		for _, c := range names {
			for _, d := range byCheck[c].differ {
				fmt.Printf("- differs: %s\n", d)
			}
		}
		fmt.Println()
	}
}

func rel(base, p string) string {
	if r, err := filepath.Rel(base, p); err == nil {
		return r
	}
	return p
}

var engines = map[mapping]*engine.Engine{}

// findings runs klint on file with m's rule on and returns how many
// objects (containers, for a finding about one) its findings are about:
// the peers report once per object or container, klint once per problem
// (a container breaking three restricted checks is three findings).
func findings(file string, m mapping) (int, error) {
	e := engines[m]
	if e == nil {
		opts := engine.Options{Enable: []string{m.rule}, APIValidator: apivalidation.New()}
		if m.config != "" {
			var c engine.Config
			if err := yaml.UnmarshalStrict([]byte(m.config), &c); err != nil {
				return 0, err
			}
			opts.Config = &c
		}
		var err error
		if e, err = engine.New(context.Background(), opts); err != nil {
			return 0, err
		}
		engines[m] = e
	}
	res := e.RunInputs(context.Background(), engine.Inputs{Inputs: inputs.Expand([]string{file})})
	about := map[string]bool{}
	for _, f := range res.Findings {
		if f.Rule == m.rule {
			about[fmt.Sprint(f.File, f.Object, f.Container)] = true
		}
	}
	return len(about), nil
}

func readPolaris(dir string) []expectation {
	var out []expectation
	files, _ := filepath.Glob(filepath.Join(dir, "test", "checks", "*", "*.yaml"))
	for _, f := range files {
		check, base := filepath.Base(filepath.Dir(f)), filepath.Base(f)
		switch {
		case strings.HasPrefix(base, "success"):
			out = append(out, expectation{check, f, 0})
		case strings.HasPrefix(base, "failure"):
			out = append(out, expectation{check, f, -1})
		}
	}
	return out
}

var (
	batsTest  = regexp.MustCompile(`(?s)@test "([^"]+)" \{(.*?)\n\}`)
	batsFile  = regexp.MustCompile(`tmp="(tests/checks/[^"]+)"`)
	batsCheck = regexp.MustCompile(`--include ([a-z0-9-]+)`)
	batsCount = regexp.MustCompile(`\[\[ "\$\{count\}" == "(\d+)" \]\]`)
)

func readKubeLinter(dir string) []expectation {
	data, err := os.ReadFile(filepath.Join(dir, "e2etests", "bats-tests.sh"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return nil
	}
	var out []expectation
	for _, t := range batsTest.FindAllStringSubmatch(string(data), -1) {
		f, c, n := batsFile.FindStringSubmatch(t[2]), batsCheck.FindStringSubmatch(t[2]), batsCount.FindStringSubmatch(t[2])
		if f == nil || c == nil || n == nil {
			continue
		}
		count, _ := strconv.Atoi(n[1])
		out = append(out, expectation{c[1], filepath.Join(dir, f[1]), count})
	}
	return out
}

var scoreCall = regexp.MustCompile(`testExpectedScore\(t, "([^"]+)", "([^"]+)", scorecard\.Grade(\w+)\)`)

func readKubeScore(dir string) []expectation {
	tests, _ := filepath.Glob(filepath.Join(dir, "score", "*_test.go"))
	var out []expectation
	for _, tf := range tests {
		data, err := os.ReadFile(tf)
		if err != nil {
			continue
		}
		for _, m := range scoreCall.FindAllStringSubmatch(string(data), -1) {
			count := 0
			if m[3] == "Critical" || m[3] == "Warning" {
				count = -1
			}
			out = append(out, expectation{m[2], filepath.Join(dir, "score", "testdata", m[1]), count})
		}
	}
	return out
}
