package rules

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/klint-dev/klint/pkg/manifest"
	corev1 "k8s.io/api/core/v1"
)

var _ = register(&Rule{
	ID: "plaintext-secret", Theme: ThemeSecurity, NoFix: "moving a value into a Secret (or an external secret store) is a change klint must not make in the open",
	SecuritySeverity: 8.0,
	Severity:         Error,
	Source:           SourceGo,
	Description:      "Secret material is written into the manifest: a Secret with data or stringData, an environment variable named like a credential with a literal value, or a well-known credential pattern (private key, cloud access key, token) in ConfigMap data, env values or annotations. klint never prints the value.",
	Rationale:        "Manifests live in Git, CI logs and chat; base64 is an encoding, not encryption. Anyone who can read the repository can read the secret, forever.",
	Remediation:      "Keep the value out of the manifest: use an external secret store (External Secrets, Vault), a SealedSecret or SOPS-encrypted file, and reference it with secretKeyRef or envFrom.",
	Check:            checkPlaintextSecret,
})

// credentialWords are the words (split at _ - . and case changes) of
// environment variable names that hold a secret. TOKEN and KEY only count
// as whole words, so MAX_TOTAL_TOKENS (a count) and KEYSPACE do not.
var credentialWords = map[string]bool{"PASSWORD": true, "PASSWD": true, "PASS": true, "PWD": true, "SECRET": true, "TOKEN": true, "APIKEY": true, "CREDENTIAL": true, "CREDENTIALS": true, "JWT": true}

// keyQualifiers make a following KEY a credential: API_KEY, ACCESS_KEY,
// AZURE_STORAGE_KEY, AZURE_BATCH_KEY, an account or master key.
var keyQualifiers = map[string]bool{"API": true, "ACCESS": true, "PRIVATE": true, "SECRET": true, "AUTH": true, "ENCRYPTION": true, "SIGNING": true,
	"STORAGE": true, "BATCH": true, "ACCOUNT": true, "MASTER": true, "SHARED": true, "SUBSCRIPTION": true, "SESSION": true, "HMAC": true}

// notACredential words mark names that describe a secret rather than hold
// it: a file or path to it, a flag about it, a length or a name.
var notACredential = map[string]bool{"FILE": true, "PATH": true, "NAME": true, "DIR": true, "URL": true, "URI": true, "REF": true, "ID": true,
	"LENGTH": true, "LEN": true, "SIZE": true, "TTL": true, "EXPIRY": true, "TIMEOUT": true, "ENABLED": true, "ENABLE": true, "ALLOW": true,
	"EMPTY": true, "RANDOM": true, "REQUIRED": true, "GENERATE": true, "POLICY": true, "TYPE": true, "MOUNT": true, "HEADER": true, "MAX": true, "MIN": true, "VERSION": true}

// LooksLikeCredentialName reports whether a name (an environment variable, a key)
// holds a secret by its words.
func LooksLikeCredentialName(name string) bool {
	words := nameWords(name)
	found := false
	for i, w := range words {
		if notACredential[w] {
			return false
		}
		if credentialWords[w] || (w == "KEY" && i > 0 && keyQualifiers[words[i-1]]) ||
			strings.Contains(w, "PASSWORD") || strings.Contains(w, "PASSWD") || strings.Contains(w, "SECRET") {
			found = true
		}
	}
	return found
}

// nameWords splits a name at _ - . and where its letter case changes
// (dbPassword, AzureStorageKey, AWSSecretKey), in upper case.
func nameWords(name string) []string {
	var words []string
	var w strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		if r == '_' || r == '-' || r == '.' {
			if w.Len() > 0 {
				words = append(words, w.String())
				w.Reset()
			}
			continue
		}
		if i > 0 && unicode.IsUpper(r) && w.Len() > 0 &&
			(unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1])) {
			words = append(words, w.String())
			w.Reset()
		}
		w.WriteRune(unicode.ToUpper(r))
	}
	if w.Len() > 0 {
		words = append(words, w.String())
	}
	return words
}

// credentialPatterns are formats of real credentials, whatever the key.
// Each has literal hints, one of which any match contains: the regexp runs
// only when a hint is there, which keeps large ConfigMaps (dashboards)
// cheap.
var credentialPatterns = []struct {
	what  string
	hints []string
	re    *regexp.Regexp
}{
	// PEM writes five dashes; copies of it carry fewer, more, or the
	// typographic dashes an editor turned them into.
	{"a private key", []string{"PRIVATE KEY"}, regexp.MustCompile(`[-\x{2010}-\x{2015}\x{2212}\x{FE58}\x{FE63}\x{FF0D}]+ ?BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)? ?[-\x{2010}-\x{2015}\x{2212}\x{FE58}\x{FE63}\x{FF0D}]+`)},
	{"an AWS access key ID", []string{"AKIA", "ASIA"}, regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"a GitHub token", []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{36,}\b`)},
	{"a Slack token", []string{"xox"}, regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}`)},
	{"a Google API key", []string{"AIza"}, regexp.MustCompile(`\bAIza[0-9A-Za-z_\-]{35}\b`)},
	{"a Stripe live key", []string{"k_live_"}, regexp.MustCompile(`\b[rs]k_live_[0-9a-zA-Z]{20,}\b`)},
}

func checkPlaintextSecret(o *Object, _ *Run, _ Params) []Report {
	var reps []Report
	switch t := o.Typed.(type) {
	case *corev1.Secret:
		if isEncryptedSecret(o) {
			return nil
		}
		for _, f := range []struct {
			field string
			keys  []string
		}{{"data", slices.Sorted(maps.Keys(t.Data))}, {"stringData", slices.Sorted(maps.Keys(t.StringData))}} {
			for _, k := range f.keys {
				how := "base64 is an encoding, not encryption"
				if f.field == "stringData" {
					how = "stringData is plain text"
				}
				reps = append(reps, Report{Path: manifest.KeyPath(f.field, k), Message: fmt.Sprintf("Secret %q has key %q in %s written in the manifest (%s); value not shown", o.Name, k, f.field, how)})
			}
		}
	case *corev1.ConfigMap:
		for _, k := range slices.Sorted(maps.Keys(t.Data)) {
			v := t.Data[k]
			if what := credentialIn(v); what != "" {
				reps = append(reps, Report{Path: manifest.KeyPath("data", k), Message: fmt.Sprintf("ConfigMap %q key %q contains %s; value not shown", o.Name, k, what)})
			} else if LooksLikeCredentialName(k) && literalValue(v) {
				reps = append(reps, Report{Path: manifest.KeyPath("data", k), Message: fmt.Sprintf("ConfigMap %q key %q looks like a credential with a literal value; keep it in a Secret (value not shown)", o.Name, k)})
			}
		}
	}
	if o.Workload != nil {
		for _, c := range o.Workload.Containers() {
			for i, env := range c.C.Env {
				if env.ValueFrom != nil || env.Value == "" {
					continue
				}
				path := fmt.Sprintf("%s.env[%d].value", c.Path, i)
				if what := credentialIn(env.Value); what != "" {
					reps = append(reps, Report{Path: path, Container: c.C.Name, Message: fmt.Sprintf("env %s of container %q contains %s; value not shown", env.Name, c.C.Name, what)})
				} else if LooksLikeCredentialName(env.Name) && !isReference(env.Value) {
					reps = append(reps, Report{Path: path, Container: c.C.Name, Message: fmt.Sprintf("env %s of container %q looks like a credential with a literal value; use valueFrom.secretKeyRef (value not shown)", env.Name, c.C.Name)})
				}
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(o.Annotations())) {
		if k == "kubectl.kubernetes.io/last-applied-configuration" && o.Kind == "Secret" {
			continue // repeats the data already reported
		}
		if what := credentialIn(o.Annotations()[k]); what != "" {
			reps = append(reps, Report{Path: manifest.KeyPath("metadata.annotations", k), Message: fmt.Sprintf("annotation %s contains %s; value not shown", k, what)})
		}
	}
	return reps
}

// literalValue is a one-line value that is not empty and not a reference
// to something else: what a credential written into a ConfigMap looks
// like (a file held under a credential-like name is scanned for
// credential formats instead).
func literalValue(v string) bool {
	return strings.TrimSpace(v) != "" && !strings.Contains(strings.TrimRight(v, "\n"), "\n") && !isReference(v)
}

// isEncryptedSecret recognises SOPS-encrypted Secrets: a top-level sops
// key, with values of the form ENC[…].
func isEncryptedSecret(o *Object) bool {
	_, sops := o.Value["sops"]
	return sops
}

// isReference is a value that refers to another variable ($(OTHER)) or a
// file, or is a flag, rather than a credential.
func isReference(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	switch v {
	case "true", "false", "yes", "no", "1", "0", "on", "off":
		return true
	}
	// An absolute path (GOOGLE_APPLICATION_CREDENTIALS=/var/secrets/key.json)
	// points at a mounted secret.
	return strings.HasPrefix(v, "$(") || strings.HasPrefix(v, "${") || strings.HasPrefix(v, "/")
}

func credentialIn(s string) string {
	for _, p := range credentialPatterns {
		for _, h := range p.hints {
			if strings.Contains(s, h) {
				if p.re.MatchString(s) {
					return p.what
				}
				break
			}
		}
	}
	return ""
}
