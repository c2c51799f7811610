package tlscert

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writePair(t *testing.T, dir string, c *Generated) {
	t.Helper()
	for name, data := range map[string][]byte{"tls.crt": c.ServingCert, "tls.key": c.ServingKey} {
		tmp := filepath.Join(dir, "."+name)
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

func newPair(t *testing.T) *Generated {
	t.Helper()
	c, err := Generate([]string{"klint-webhook.klint-system.svc"}, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The reloader follows the files' content, not their modification times,
// and reports every change that does not load, once, keeping the
// certificate it serves.
func TestReloaderFollowsContentAndReportsFailures(t *testing.T) {
	dir := t.TempDir()
	a, b := newPair(t), newPair(t)
	writePair(t, dir, a)
	crt, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	st, _ := os.Stat(crt)
	mtime := st.ModTime()
	var loads []time.Time
	var errs []string
	r, err := NewReloader(crt, key, func(na time.Time) { loads = append(loads, na) }, func(err error) { errs = append(errs, err.Error()) })
	if err != nil {
		t.Fatal(err)
	}
	r.checkEvery = 0
	serial := func() string {
		c, _ := r.GetCertificate(&tls.ClientHelloInfo{})
		return c.Leaf.SerialNumber.String()
	}
	first := serial()

	// A swap to new files with the old modification time is picked up.
	writePair(t, dir, b)
	for _, f := range []string{crt, key} {
		if err := os.Chtimes(f, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	second := serial()
	if second == first || len(loads) != 2 || len(errs) != 0 {
		t.Fatalf("same-mtime swap: serial %s -> %s, %d loads, errors %q", first, second, len(loads), errs)
	}

	for _, c := range []struct {
		name  string
		write func()
		want  string
	}{
		{"mismatched pair", func() { os.WriteFile(key, a.ServingKey, 0o600) }, "private key does not match public key"},
		{"garbage certificate", func() { os.WriteFile(crt, []byte("not a certificate"), 0o600) }, "failed to find any PEM data in certificate input"},
		{"deleted key", func() { os.Remove(key) }, "TLS key: open " + key},
	} {
		before := len(errs)
		c.write()
		for range 3 { // reported once, however often it is checked
			if got := serial(); got != second {
				t.Errorf("%s: serving %s, want the previous certificate %s", c.name, got, second)
			}
		}
		if len(errs) != before+1 || !strings.Contains(errs[len(errs)-1], c.want) {
			t.Errorf("%s: errors %q, want one more containing %q", c.name, errs[before:], c.want)
		}
	}
	// A good pair again is loaded.
	writePair(t, dir, a)
	if got := serial(); got != first || len(loads) != 3 {
		t.Errorf("after repair: serving %s (want %s), %d loads", got, first, len(loads))
	}
}
