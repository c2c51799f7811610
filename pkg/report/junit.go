package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

var _ = register("junit", JUnit)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string         `xml:"name,attr"`
	Classname string         `xml:"classname,attr"`
	Failures  []junitFailure `xml:"failure"`
	SystemOut string         `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnit writes JUnit XML as GitLab and Jenkins read it: a testsuite per
// file, a testcase per object (and one named after the file for problems
// with the file itself), a failure per finding at or above --fail-on, and
// the findings below it as system-out. Objects without findings pass.
func JUnit(w io.Writer, run *Run) error {
	out := junitSuites{Name: "klint"}
	suites := map[string]int{}
	cases := map[string]int{} // file + object → index in its suite
	testcase := func(file, name string) *junitCase {
		si, ok := suites[file]
		if !ok {
			si = len(out.Suites)
			suites[file] = si
			out.Suites = append(out.Suites, junitSuite{Name: file})
		}
		s := &out.Suites[si]
		ci, ok := cases[file+"\x00"+name]
		if !ok {
			ci = len(s.Cases)
			cases[file+"\x00"+name] = ci
			s.Cases = append(s.Cases, junitCase{Name: name, Classname: file})
			s.Tests++
			out.Tests++
		}
		return &s.Cases[ci]
	}
	for _, o := range run.Result.Objects {
		testcase(o.File, o.Object.String())
	}
	for _, f := range run.Result.Findings {
		name := f.Object.String()
		if name == "" {
			name = f.File
		}
		c := testcase(f.File, name)
		s := &out.Suites[suites[f.File]]
		line := fmt.Sprintf("%s:%d:%d: %s %s: %s", f.File, f.Line, f.Column, f.Severity, f.Rule, f.Message)
		if f.Severity >= run.FailOn {
			if len(c.Failures) == 0 {
				s.Failures++
				out.Failures++
			}
			c.Failures = append(c.Failures, junitFailure{Message: f.Rule + ": " + f.Message, Type: f.Severity.String(), Text: line})
		} else {
			c.SystemOut = strings.TrimPrefix(c.SystemOut+"\n"+line, "\n")
		}
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
