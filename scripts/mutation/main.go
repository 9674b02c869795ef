// Command mutation judges gremlins' mutation-testing results against the project's bars.
// scripts/mutation.sh runs gremlins once per package and then this command; see that
// script for how to run it.
//
// Usage:
//
//	go run ./scripts/mutation -bars .ci/mutation-bars.txt -equivalent .ci/mutation-equivalent.txt \
//	    shared/anon=/tmp/anon.json shared/site=/tmp/site.json …
//
// Each argument names a package and the file `gremlins unleash -o FILE` wrote for it.
//
// The bars file has one line per package: the package directory, the minimum test
// efficacy and the minimum mutator coverage, in percent. The equivalent file has one line
// per surviving mutant that cannot change behaviour: package, file:line:col, mutator, and
// a one-line reason. Blank lines and lines starting with # are ignored in both.
//
// A listed mutant that lives is not counted as lived: efficacy is killed / (killed +
// unlisted lived). Mutator coverage is gremlins' own: (killed + lived) / (killed + lived
// + not covered). Timed-out and not-viable mutants count in neither, as in gremlins.
//
// It prints a table and fails (exit 1) when a package is below either bar, when a
// mutant lives that the equivalent file does not list, or when the equivalent file lists
// a mutant of a measured package that no longer lives there (so the file cannot go stale
// and hide a new survivor on a moved line).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mutation:", err)
		os.Exit(1)
	}
}

// errBelowBar reports that at least one package failed; the table says which and why.
var errBelowBar = errors.New("mutation testing: a package is below its bar or has unlisted survivors (see above)")

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("mutation", flag.ContinueOnError)
	barsPath := fs.String("bars", ".ci/mutation-bars.txt", "per-package bars: package efficacy% coverage%")
	equivPath := fs.String("equivalent", ".ci/mutation-equivalent.txt", "equivalent mutants: package file:line:col MUTATOR reason")
	if err := fs.Parse(args); err != nil {
		return err
	}
	bars, err := readBars(*barsPath)
	if err != nil {
		return err
	}
	equiv, err := readEquivalents(*equivPath)
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("no results given: pass package=gremlins-output.json arguments")
	}
	var results []Result
	for _, arg := range fs.Args() {
		pkg, file, ok := strings.Cut(arg, "=")
		if !ok {
			return fmt.Errorf("argument %q: want package=file.json", arg)
		}
		bar, ok := bars[pkg]
		if !ok {
			return fmt.Errorf("package %s has no bar in %s", pkg, *barsPath)
		}
		rep, err := readReport(file)
		if err != nil {
			return fmt.Errorf("package %s: %w", pkg, err)
		}
		results = append(results, Judge(pkg, rep, bar, equiv))
	}
	printResults(out, results)
	for _, r := range results {
		if !r.Pass() {
			return errBelowBar
		}
	}
	return nil
}

// Bar is a package's minimum efficacy and mutator coverage, in percent.
type Bar struct{ Efficacy, Coverage float64 }

// Mutant names one mutation: where, and which mutator.
type Mutant struct {
	Package string // e.g. shared/anon
	Pos     string // file:line:col, file relative to the package directory
	Mutator string // e.g. CONDITIONALS_BOUNDARY
}

func (m Mutant) String() string { return m.Package + "/" + m.Pos + " " + m.Mutator }

// Report is the part of gremlins' JSON output (-o FILE) this command reads.
type Report struct {
	Files []struct {
		FileName  string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

// Result is one package's verdict.
type Result struct {
	Package                               string
	Bar                                   Bar
	Killed, Lived, Equivalent, NotCovered int
	TimedOut, NotViable                   int
	Efficacy, Coverage                    float64  // percent
	Unlisted                              []Mutant // lived and not in the equivalent file
	Stale                                 []Mutant // in the equivalent file but not lived
}

// Pass reports whether the package meets its bar with every survivor accounted for.
func (r Result) Pass() bool {
	return r.Efficacy >= r.Bar.Efficacy && r.Coverage >= r.Bar.Coverage && len(r.Unlisted) == 0 && len(r.Stale) == 0
}

// Judge counts a package's mutants and compares them with its bar. equiv is the set of
// mutants recorded as equivalent (any package; only pkg's are used).
func Judge(pkg string, rep Report, bar Bar, equiv map[Mutant]bool) Result {
	r := Result{Package: pkg, Bar: bar}
	lived := map[Mutant]bool{}
	for _, f := range rep.Files {
		for _, m := range f.Mutations {
			mu := Mutant{Package: pkg, Pos: fmt.Sprintf("%s:%d:%d", f.FileName, m.Line, m.Column), Mutator: m.Type}
			switch m.Status {
			case "KILLED":
				r.Killed++
			case "LIVED":
				r.Lived++
				lived[mu] = true
				if equiv[mu] {
					r.Equivalent++
				} else {
					r.Unlisted = append(r.Unlisted, mu)
				}
			case "NOT COVERED":
				r.NotCovered++
			case "TIMED OUT":
				r.TimedOut++
			case "NOT VIABLE":
				r.NotViable++
			}
		}
	}
	for mu := range equiv {
		if mu.Package == pkg && !lived[mu] {
			r.Stale = append(r.Stale, mu)
		}
	}
	sortMutants(r.Unlisted)
	sortMutants(r.Stale)
	r.Efficacy = percent(r.Killed, r.Killed+r.Lived-r.Equivalent)
	r.Coverage = percent(r.Killed+r.Lived, r.Killed+r.Lived+r.NotCovered)
	return r
}

// percent is 100·a/b; with nothing to measure (b = 0) it is 0, which fails any bar: a
// package whose tests reach no mutant has not shown anything.
func percent(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func sortMutants(ms []Mutant) {
	slices.SortFunc(ms, func(a, b Mutant) int { return strings.Compare(a.String(), b.String()) })
}

func printResults(w io.Writer, results []Result) {
	fmt.Fprintln(w, "| package | killed | lived (equivalent) | not covered | timed out | efficacy | mutator coverage | bar | verdict |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		verdict := "pass"
		if !r.Pass() {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "| %s | %d | %d (%d) | %d | %d | %.1f %% | %.1f %% | %.0f / %.0f | %s |\n",
			r.Package, r.Killed, r.Lived, r.Equivalent, r.NotCovered, r.TimedOut, r.Efficacy, r.Coverage, r.Bar.Efficacy, r.Bar.Coverage, verdict)
	}
	for _, r := range results {
		if r.Efficacy < r.Bar.Efficacy {
			fmt.Fprintf(w, "%s: efficacy %.1f %% is below its bar of %.0f %%\n", r.Package, r.Efficacy, r.Bar.Efficacy)
		}
		if r.Coverage < r.Bar.Coverage {
			fmt.Fprintf(w, "%s: mutator coverage %.1f %% is below its bar of %.0f %%\n", r.Package, r.Coverage, r.Bar.Coverage)
		}
		for _, m := range r.Unlisted {
			fmt.Fprintf(w, "%s: mutant lives and is not listed as equivalent: %s %s\n", r.Package, m.Pos, m.Mutator)
		}
		for _, m := range r.Stale {
			fmt.Fprintf(w, "%s: listed as equivalent but does not live (killed, or the line moved): %s %s\n", r.Package, m.Pos, m.Mutator)
		}
	}
}

func readReport(path string) (Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{}, fmt.Errorf("gremlins results: %w", err)
	}
	defer f.Close()
	var rep Report
	if err := json.NewDecoder(io.LimitReader(f, 64<<20)).Decode(&rep); err != nil {
		return Report{}, fmt.Errorf("gremlins results %s: %w", path, err)
	}
	return rep, nil
}

// readLines calls each with the fields of every line that is neither blank nor a
// comment; an error names the file and line.
func readLines(path string, each func(fields []string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := each(strings.Fields(line)); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

func readBars(path string) (map[string]Bar, error) {
	bars := map[string]Bar{}
	err := readLines(path, func(f []string) error {
		if len(f) != 3 {
			return fmt.Errorf("want: package efficacy coverage, got %d fields", len(f))
		}
		eff, err1 := strconv.ParseFloat(f[1], 64)
		cov, err2 := strconv.ParseFloat(f[2], 64)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("bars must be numbers: %w", err)
		}
		if _, dup := bars[f[0]]; dup {
			return fmt.Errorf("package %s listed twice", f[0])
		}
		bars[f[0]] = Bar{Efficacy: eff, Coverage: cov}
		return nil
	})
	return bars, err
}

func readEquivalents(path string) (map[Mutant]bool, error) {
	equiv := map[Mutant]bool{}
	err := readLines(path, func(f []string) error {
		if len(f) < 4 {
			return errors.New("want: package file:line:col MUTATOR reason (the reason is required)")
		}
		if strings.Count(f[1], ":") != 2 {
			return fmt.Errorf("position %q: want file:line:col", f[1])
		}
		m := Mutant{Package: f[0], Pos: f[1], Mutator: f[2]}
		if equiv[m] {
			return fmt.Errorf("%s listed twice", m)
		}
		equiv[m] = true
		return nil
	})
	return equiv, err
}
