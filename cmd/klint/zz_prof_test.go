package main

import (
	"bytes"
	"os"
	"runtime/pprof"
	"strings"
	"testing"
)

func TestZZProf(t *testing.T) {
	args := os.Getenv("PROF_ARGS")
	if args == "" {
		t.Skip()
	}
	f, _ := os.Create("/tmp/prof/cpu.out")
	pprof.StartCPUProfile(f)
	for i := 0; i < 5; i++ {
		var out, errb bytes.Buffer
		run(strings.Fields(args), strings.NewReader(""), &out, &errb)
	}
	pprof.StopCPUProfile()
}
