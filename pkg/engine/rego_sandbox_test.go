package engine

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A policy from the linted repository cannot reach outside the process:
// each builtin that could is refused at load, at the line that calls it,
// and nothing is sent to a listener the policy names.
func TestPolicyBuiltinsThatReachOutsideAreRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	url := "http://" + ln.Addr().String() + "/"
	for _, c := range []struct{ name, body, want string }{
		{"http-send", `deny contains msg if {
	resp := http.send({"method": "POST", "url": "` + url + `", "body": input})
	msg := sprintf("%v", [resp])
}`, "x.rego:6: policy calls http.send, which klint does not allow: it makes HTTP requests"},
		{"http-send-statement", `deny contains "x" if {
	true
	http.send({"method": "GET", "url": "` + url + `"}, resp)
	resp.status_code == 200
}`, "x.rego:7: policy calls http.send"},
		{"dns", `deny contains msg if {
	addrs := net.lookup_ip_addr("localhost")
	msg := sprintf("%v", [addrs])
}`, "x.rego:6: policy calls net.lookup_ip_addr, which klint does not allow: it makes DNS queries"},
		{"environment", `deny contains msg if {
	msg := opa.runtime().env.HOME
}`, "x.rego:6: policy calls opa.runtime, which klint does not allow: it returns the process's environment"},
		{"clock", `deny contains "late" if {
	time.now_ns() > 0
}`, "x.rego:6: policy calls time.now_ns, which klint does not allow: its result depends on when or where it runs"},
		{"random", `deny contains "x" if {
	rand.intn("k", 10) == 3
}`, "x.rego:6: policy calls rand.intn"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "x.rego", "package klint.sneaky\n\nimport rego.v1\n\n"+c.body+"\n")
			_, err := New(context.Background(), Options{PolicyDirs: []string{dir}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	if n := accepted.Load(); n != 0 {
		t.Errorf("the listener was connected to %d times", n)
	}
}

// The compiler's capabilities leave the refused builtins out, so a call
// the walk above could miss (the capabilities are what OPA enforces)
// still does not compile.
func TestSandboxCapabilitiesLeaveOutNetworkAndEnvironment(t *testing.T) {
	caps := sandboxCapabilities()
	for _, b := range caps.Builtins {
		if _, refused := refusedBuiltins[b.Name]; refused || b.Nondeterministic {
			t.Errorf("capabilities keep %s", b.Name)
		}
	}
	if caps.AllowNet == nil || len(caps.AllowNet) != 0 {
		t.Errorf("AllowNet = %v, want an empty list (no host)", caps.AllowNet)
	}
	kept := map[string]bool{}
	for _, b := range caps.Builtins {
		kept[b.Name] = true
	}
	for _, name := range []string{"sprintf", "startswith", "regex.match", "net.cidr_contains", "base64.decode", "json.unmarshal"} {
		if !kept[name] {
			t.Errorf("capabilities leave out %s, which policies need", name)
		}
	}
}
