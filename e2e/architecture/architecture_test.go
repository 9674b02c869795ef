package architecture_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/changebank/anonuser"

// pkg is the part of `go list -json` the rules read.
type pkg struct {
	ImportPath string
	Standard   bool
	Imports    []string // direct imports of the non-test files
	Deps       []string // everything the package links, transitively
}

// rule is one import rule: packages it applies to must not import (or, with linked,
// must not link at all) any package forbidden names.
type rule struct {
	name      string
	why       string
	appliesTo func(p string) bool
	linked    bool // check Deps (what the binary links), not only direct Imports
	forbidden func(p, imp string) bool
}

func rel(p string) string { return strings.TrimPrefix(p, module+"/") }

func within(p, tree string) bool { return p == tree || strings.HasPrefix(p, tree+"/") }

// function returns the function a package belongs to (functions/<name>/...), or "".
func function(p string) string {
	rest, ok := strings.CutPrefix(rel(p), "functions/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

var (
	fatest   = module + "/shared/faclient/fatest"
	testPkgs = []string{"testing", fatest, module + "/shared/secrets/smtest", module + "/shared/token/tokentest", module + "/shared/clocktest", module + "/shared/lock/dynamotest"}
)

var rules = []rule{
	{
		name:      "site imports neither the FusionAuth client nor golang-jwt",
		why:       "handlers speak the domain's vocabulary (anon errors, token reasons); FusionAuth's answers are translated in anon, JWTs are handled in token",
		appliesTo: func(p string) bool { return p == module+"/shared/site" },
		forbidden: func(_, imp string) bool {
			return within(imp, module+"/shared/faclient") || within(imp, "github.com/golang-jwt/jwt")
		},
	},
	{
		name:      "anon imports no net/http",
		why:       "the domain knows nothing of HTTP; package site maps its errors to statuses and sets cookies",
		appliesTo: func(p string) bool { return p == module+"/shared/anon" },
		forbidden: func(_, imp string) bool { return within(imp, "net/http") },
	},
	{
		name: "only the local stack imports the FusionAuth stand-in",
		why:  "fatest is a test double; outside tests only cmd/local, the local stack it wires (shared/devserver) and the development tools under scripts/ may use it, none of which is deployed",
		appliesTo: func(p string) bool {
			return !slices.Contains([]string{module + "/cmd/local", module + "/shared/devserver"}, p) &&
				!within(p, module+"/scripts") && !within(p, fatest)
		},
		forbidden: func(_, imp string) bool { return within(imp, fatest) },
	},
	{
		name:      "a function links no other function's code",
		why:       "functions/<name> is wiring only; what two functions share lives in shared/",
		appliesTo: func(p string) bool { return function(p) != "" },
		linked:    true,
		forbidden: func(p, imp string) bool { return function(imp) != "" && function(imp) != function(p) },
	},
	{
		name:      "no Lambda binary links test code",
		why:       "package testing, the stand-in and the test helpers belong in tests, not in what Lambda runs",
		appliesTo: func(p string) bool { return function(p) != "" },
		linked:    true,
		forbidden: func(_, imp string) bool {
			return slices.ContainsFunc(testPkgs, func(t string) bool { return within(imp, t) })
		},
	},
	{
		name:      "the local stack links no package testing",
		why:       "cmd/local is a program people run; the stand-in it embeds must not drag the test framework (and its flags) in",
		appliesTo: func(p string) bool { return p == module+"/cmd/local" },
		linked:    true,
		forbidden: func(_, imp string) bool { return imp == "testing" },
	},
	{
		name:      "only signin/openid speaks OAuth and OpenID Connect",
		why:       "the sign-in protocol (golang.org/x/oauth2, go-oidc) lives in shared/signin/openid, which only the register function links; the handlers see package signin's vocabulary",
		appliesTo: func(p string) bool { return p != module+"/shared/signin/openid" },
		forbidden: func(_, imp string) bool {
			return within(imp, "golang.org/x/oauth2") || within(imp, "github.com/coreos/go-oidc")
		},
	},
}

// violations lists every breach of rules in pkgs, as messages a reader can act on.
func violations(rules []rule, pkgs []pkg) []string {
	var out []string
	for _, r := range rules {
		for _, p := range pkgs {
			if p.Standard || !within(p.ImportPath, module) || !r.appliesTo(p.ImportPath) {
				continue
			}
			list, verb := p.Imports, "imports"
			if r.linked {
				list, verb = p.Deps, "links"
			}
			for _, imp := range list {
				if r.forbidden(p.ImportPath, imp) {
					out = append(out, r.name+": "+rel(p.ImportPath)+" "+verb+" "+imp+" ("+r.why+")")
				}
			}
		}
	}
	return out
}

// listPackages runs `go list -deps -json ./...` at the module root.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", "list", "-deps", "-json", "./...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestImportRules(t *testing.T) {
	pkgs := listPackages(t)
	// The rules must have something to bite on: a listing that lost the module's
	// packages would pass vacuously.
	for _, want := range []string{"shared/site", "shared/anon", "shared/token", "cmd/local", "functions/video", "functions/prune"} {
		if !slices.ContainsFunc(pkgs, func(p pkg) bool { return p.ImportPath == path.Join(module, want) }) {
			t.Fatalf("go list did not report %s", want)
		}
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			for _, v := range violations([]rule{r}, pkgs) {
				t.Error(v)
			}
		})
	}
}

// TestRulesCatchViolations feeds each rule a package that breaks it and one that does
// not, so a rule that can no longer fail is noticed.
func TestRulesCatchViolations(t *testing.T) {
	m := func(p string) string { return module + "/" + p }
	cases := []struct {
		rule    string
		bad, ok pkg
	}{
		{rules[0].name, pkg{ImportPath: m("shared/site"), Imports: []string{m("shared/faclient")}}, pkg{ImportPath: m("shared/site"), Imports: []string{m("shared/anon"), m("shared/token")}}},
		{rules[0].name, pkg{ImportPath: m("shared/site"), Imports: []string{"github.com/golang-jwt/jwt/v5"}}, pkg{ImportPath: m("shared/token"), Imports: []string{"github.com/golang-jwt/jwt/v5"}}},
		{rules[1].name, pkg{ImportPath: m("shared/anon"), Imports: []string{"net/http"}}, pkg{ImportPath: m("shared/anon"), Imports: []string{"net/mail", m("shared/faclient")}}},
		{rules[6].name, pkg{ImportPath: m("shared/site"), Imports: []string{"github.com/coreos/go-oidc/v3/oidc"}}, pkg{ImportPath: m("shared/signin/openid"), Imports: []string{"golang.org/x/oauth2", "github.com/coreos/go-oidc/v3/oidc"}}},
		{rules[2].name, pkg{ImportPath: m("shared/app"), Imports: []string{fatest}}, pkg{ImportPath: m("shared/devserver"), Imports: []string{fatest}}},
		{rules[2].name, pkg{ImportPath: m("functions/video"), Imports: []string{fatest + "/esquery"}}, pkg{ImportPath: m("cmd/local"), Imports: []string{fatest}}},
		{rules[2].name, pkg{ImportPath: m("e2e/lambdart"), Imports: []string{fatest}}, pkg{ImportPath: m("scripts/coldstart"), Imports: []string{fatest}}},
		{rules[3].name, pkg{ImportPath: m("functions/video"), Deps: []string{m("functions/register/internal/form")}}, pkg{ImportPath: m("functions/video"), Deps: []string{m("functions/video/internal/page"), m("shared/site")}}},
		{rules[4].name, pkg{ImportPath: m("functions/prune"), Deps: []string{"testing"}}, pkg{ImportPath: m("functions/prune"), Deps: []string{"time", "github.com/stretchr/testingish"}}},
		{rules[5].name, pkg{ImportPath: m("cmd/local"), Deps: []string{fatest, "testing"}}, pkg{ImportPath: m("cmd/local"), Deps: []string{fatest, "testing/iotest"}}},
	}
	for _, tc := range cases {
		r := rules[slices.IndexFunc(rules, func(r rule) bool { return r.name == tc.rule })]
		if v := violations([]rule{r}, []pkg{tc.bad}); len(v) != 1 {
			t.Errorf("%s: %s breaks it, got %d violations %v, want 1", r.name, tc.bad.ImportPath, len(v), v)
		}
		if v := violations([]rule{r}, []pkg{tc.ok}); len(v) != 0 {
			t.Errorf("%s: %s keeps it, got %v", r.name, tc.ok.ImportPath, v)
		}
	}
}
