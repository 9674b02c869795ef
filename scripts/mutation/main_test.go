package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// report is what gremlins v0.6.0 writes with -o (trimmed to the fields read), for a
// package with two killed, two lived (random.go:21:9 and convert.go:74:16), one not
// covered and one timed-out mutant.
const report = `{"go_module":"github.com/changebank/anonuser","files":[
 {"file_name":"random.go","mutations":[
  {"type":"CONDITIONALS_BOUNDARY","status":"LIVED","line":21,"column":9},
  {"type":"CONDITIONALS_NEGATION","status":"KILLED","line":21,"column":9},
  {"type":"CONDITIONALS_BOUNDARY","status":"TIMED OUT","line":15,"column":15}]},
 {"file_name":"convert.go","mutations":[
  {"type":"CONDITIONALS_BOUNDARY","status":"LIVED","line":74,"column":16},
  {"type":"CONDITIONALS_NEGATION","status":"KILLED","line":70,"column":9},
  {"type":"ARITHMETIC_BASE","status":"NOT COVERED","line":12,"column":3}]}],
 "test_efficacy":50,"mutations_coverage":80}`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// gate runs the command on the report above with the given bars and equivalent lines.
func gate(t *testing.T, bars, equivalent string) (string, error) {
	t.Helper()
	var out strings.Builder
	err := run([]string{
		"-bars", writeFile(t, "bars.txt", bars),
		"-equivalent", writeFile(t, "equivalent.txt", equivalent),
		"shared/anon=" + writeFile(t, "anon.json", report),
	}, &out)
	return out.String(), err
}

func TestGateFailsOnAnUnlistedSurvivor(t *testing.T) {
	// Efficacy 2/4 = 50 % and coverage 4/5 = 80 % meet these bars; only the survivors fail.
	out, err := gate(t, "shared/anon 50 80\n", "")
	if !errors.Is(err, errBelowBar) {
		t.Fatalf("run with two unlisted survivors: got error %v, want errBelowBar\n%s", err, out)
	}
	for _, want := range []string{
		"mutant lives and is not listed as equivalent: random.go:21:9 CONDITIONALS_BOUNDARY",
		"mutant lives and is not listed as equivalent: convert.go:74:16 CONDITIONALS_BOUNDARY",
		"| shared/anon | 2 | 2 (0) | 1 | 1 | 50.0 % | 80.0 % | 50 / 80 | FAIL |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output: got\n%s\nwant it to contain %q", out, want)
		}
	}
}

func TestGatePassesWhenEverySurvivorIsListed(t *testing.T) {
	equiv := "# comment\n\nshared/anon random.go:21:9 CONDITIONALS_BOUNDARY one reason\n" +
		"shared/anon convert.go:74:16 CONDITIONALS_BOUNDARY another reason\n"
	out, err := gate(t, "shared/anon 100 80\n", equiv)
	if err != nil {
		t.Fatalf("run with every survivor listed: got error %v, want none\n%s", err, out)
	}
	// Listed survivors are not lived: efficacy is 2 killed of 2 counted.
	if want := "| shared/anon | 2 | 2 (2) | 1 | 1 | 100.0 % | 80.0 % | 100 / 80 | pass |"; !strings.Contains(out, want) {
		t.Errorf("output: got\n%s\nwant it to contain %q", out, want)
	}
}

func TestGateFailsBelowABar(t *testing.T) {
	equiv := "shared/anon random.go:21:9 CONDITIONALS_BOUNDARY r\nshared/anon convert.go:74:16 CONDITIONALS_BOUNDARY r\n"
	for _, tc := range []struct{ name, bars, want string }{
		{"coverage below", "shared/anon 90 85\n", "mutator coverage 80.0 % is below its bar of 85 %"},
		{"both bars met", "shared/anon 90 75\n", ""}, // efficacy 100 %, coverage 80 %
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := gate(t, tc.bars, equiv)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got error %v, want none\n%s", err, out)
				}
				return
			}
			if !errors.Is(err, errBelowBar) || !strings.Contains(out, tc.want) {
				t.Errorf("got error %v and output\n%s\nwant errBelowBar and %q", err, out, tc.want)
			}
		})
	}
	// Efficacy bar: one survivor unlisted leaves 2/3 = 66.7 %.
	out, err := gate(t, "shared/anon 90 0\n", "shared/anon random.go:21:9 CONDITIONALS_BOUNDARY r\n")
	if !errors.Is(err, errBelowBar) || !strings.Contains(out, "efficacy 66.7 % is below its bar of 90 %") {
		t.Errorf("one survivor unlisted: got error %v and output\n%s\nwant errBelowBar and the efficacy line", err, out)
	}
}

func TestGateFailsOnAStaleEquivalent(t *testing.T) {
	equiv := "shared/anon random.go:21:9 CONDITIONALS_BOUNDARY r\nshared/anon convert.go:74:16 CONDITIONALS_BOUNDARY r\n" +
		"shared/anon random.go:30:1 CONDITIONALS_NEGATION moved away\n" +
		"shared/site register.go:1:1 CONDITIONALS_NEGATION another package, not measured here\n"
	out, err := gate(t, "shared/anon 0 0\n", equiv)
	if !errors.Is(err, errBelowBar) {
		t.Fatalf("got error %v, want errBelowBar\n%s", err, out)
	}
	if want := "listed as equivalent but does not live (killed, or the line moved): random.go:30:1 CONDITIONALS_NEGATION"; !strings.Contains(out, want) {
		t.Errorf("output: got\n%s\nwant it to contain %q", out, want)
	}
	if strings.Contains(out, "register.go") {
		t.Errorf("output: got\n%s\nwant nothing about shared/site, which was not measured", out)
	}
}

func TestGateRejectsBadInput(t *testing.T) {
	for _, tc := range []struct{ name, bars, equiv, want string }{
		{"equivalent without a reason", "shared/anon 0 0\n", "shared/anon random.go:21:9 CONDITIONALS_BOUNDARY\n", "the reason is required"},
		{"bad position", "shared/anon 0 0\n", "shared/anon random.go:21 CONDITIONALS_BOUNDARY why\n", "want file:line:col"},
		{"package without a bar", "shared/site 0 0\n", "", "has no bar"},
		{"bar not a number", "shared/anon ninety 0\n", "", "bars must be numbers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gate(t, tc.bars, tc.equiv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// operators are what each gremlins mutator changes: the text a listed position must start
// with.
var operators = map[string][]string{
	"CONDITIONALS_BOUNDARY": {"<=", ">=", "<", ">"},
	"CONDITIONALS_NEGATION": {"==", "!=", "<=", ">=", "<", ">"},
	"ARITHMETIC_BASE":       {"+", "-", "*", "/", "%"},
	"INCREMENT_DECREMENT":   {"++", "--"},
	"INVERT_NEGATIVES":      {"-"},
	"INVERT_LOGICAL":        {"&&", "||"},
}

// TestEquivalentsPointAtTheirOperator keeps the project's equivalent list in step with the
// code in the fast suite: when code moves, a listed line:col no longer holds the operator
// its mutator changes, and this fails in seconds instead of at the end of the mutation run.
func TestEquivalentsPointAtTheirOperator(t *testing.T) {
	root := filepath.Join("..", "..")
	equiv, err := readEquivalents(filepath.Join(root, ".ci", "mutation-equivalent.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(equiv) == 0 {
		t.Fatal("no equivalents read")
	}
	for m := range equiv {
		if err := pointsAtOperator(root, m); err != nil {
			t.Error(err)
		}
	}
}

func pointsAtOperator(root string, m Mutant) error {
	var file string
	var line, col int
	parts := strings.Split(m.Pos, ":")
	if len(parts) != 3 {
		return fmt.Errorf("%v: position is not file:line:col", m)
	}
	file = parts[0]
	if _, err := fmt.Sscanf(parts[1]+" "+parts[2], "%d %d", &line, &col); err != nil {
		return fmt.Errorf("%v: %w", m, err)
	}
	src, err := os.ReadFile(filepath.Join(root, m.Package, file))
	if err != nil {
		return fmt.Errorf("%v: %w", m, err)
	}
	lines := strings.Split(string(src), "\n")
	if line < 1 || line > len(lines) || col < 1 || col > len(lines[line-1]) {
		return fmt.Errorf("%v: no such position in %s", m, file)
	}
	at := lines[line-1][col-1:]
	ops, ok := operators[m.Mutator]
	if !ok {
		return fmt.Errorf("%v: unknown mutator", m)
	}
	for _, op := range ops {
		if strings.HasPrefix(at, op) {
			return nil
		}
	}
	return fmt.Errorf("%v: %s:%d holds %q at column %d, not an operator %s changes: the code moved, update the position", m, file, line, lines[line-1], col, m.Mutator)
}

func TestPointsAtOperatorCatchesAMovedLine(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := "package pkg\n\nfunc f(n int) bool {\n\treturn n > 3\n}\n"
	if err := os.WriteFile(filepath.Join(root, "pkg", "f.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := pointsAtOperator(root, Mutant{"pkg", "f.go:4:11", "CONDITIONALS_BOUNDARY"}); err != nil {
		t.Errorf("the operator's own position: %v", err)
	}
	for _, m := range []Mutant{
		{"pkg", "f.go:3:11", "CONDITIONALS_BOUNDARY"}, // the line above
		{"pkg", "f.go:4:11", "ARITHMETIC_BASE"},       // > is no arithmetic
		{"pkg", "f.go:9:1", "CONDITIONALS_BOUNDARY"},  // past the end
	} {
		if pointsAtOperator(root, m) == nil {
			t.Errorf("%v passed", m)
		}
	}
}
