package docs_test

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// moduleRoot is the directory of go.mod, found upwards from the test's directory.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// docFiles are the documentation pages, relative to root: README.md and docs/*.md.
func docFiles(t testing.TB, root string) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"README.md"}
	for _, p := range pages {
		files = append(files, filepath.ToSlash(must(filepath.Rel(root, p))))
	}
	return files
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// block is one fenced code block: its info string's first word and its text.
type block struct {
	lang, text string
	line       int // the opening fence's line, 1-based
}

var fence = regexp.MustCompile("^ {0,3}(```+|~~~+)\\s*([^`\\s]*)")

// split returns the markdown's prose, with every fenced block's lines blanked (so line
// numbers stay), and its fenced blocks.
func split(md string) (prose string, blocks []block) {
	lines := strings.Split(md, "\n")
	var out []string
	var cur *block
	var closer string
	var body []string
	for i, l := range lines {
		if cur == nil {
			if m := fence.FindStringSubmatch(l); m != nil {
				cur, closer, body = &block{lang: strings.ToLower(m[2]), line: i + 1}, m[1], nil
				out = append(out, "")
				continue
			}
			out = append(out, l)
			continue
		}
		if t := strings.TrimSpace(l); strings.HasPrefix(t, closer) && strings.Trim(t, closer[:1]) == "" {
			cur.text = strings.Join(body, "\n") + "\n"
			blocks = append(blocks, *cur)
			cur = nil
		} else {
			body = append(body, l)
		}
		out = append(out, "")
	}
	if cur != nil { // an unclosed fence runs to the end, as GitHub renders it
		cur.text = strings.Join(body, "\n") + "\n"
		blocks = append(blocks, *cur)
	}
	return strings.Join(out, "\n"), blocks
}

var (
	codeSpan  = regexp.MustCompile("`+[^`]*`+")
	mdLink    = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refLink   = regexp.MustCompile(`(?m)^ {0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s+"[^"]*")?\s*$`)
	heading   = regexp.MustCompile(`(?m)^ {0,3}#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$`)
	linkInMD  = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	urlScheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// links are the link targets of a page's prose (not of its code).
func links(md string) []string {
	prose, _ := split(md)
	prose = codeSpan.ReplaceAllString(prose, "")
	var out []string
	for _, re := range []*regexp.Regexp{mdLink, refLink} {
		for _, m := range re.FindAllStringSubmatch(prose, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// slug is GitHub's anchor for a heading: lower case, punctuation dropped, each space a
// hyphen.
func slug(text string) string {
	text = linkInMD.ReplaceAllString(text, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors are the slugs of a page's headings, duplicates numbered as GitHub does.
func anchors(md string) map[string]bool {
	prose, _ := split(md)
	seen := map[string]int{}
	out := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(prose, -1) {
		s := slug(m[1])
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

// checkLinks returns a problem for every relative link of the page rel (relative to
// root) whose file does not exist, or whose #fragment no heading of the target makes.
func checkLinks(root, rel string) []string {
	md, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	for _, target := range links(string(md)) {
		if urlScheme.MatchString(target) || strings.HasPrefix(target, "//") {
			continue // absolute: http(s), mailto
		}
		file, frag, _ := strings.Cut(target, "#")
		file = strings.SplitN(file, "?", 2)[0]
		dest := rel
		if file != "" {
			dest = path.Join(path.Dir(rel), file)
		}
		info, err := os.Stat(filepath.Join(root, filepath.FromSlash(dest)))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: link %s: %s does not exist", rel, target, dest))
			continue
		}
		if frag == "" {
			continue
		}
		if info.IsDir() || !strings.HasSuffix(dest, ".md") {
			problems = append(problems, fmt.Sprintf("%s: link %s: #%s in %s, which is not a markdown page", rel, target, frag, dest))
			continue
		}
		page, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(dest)))
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if !anchors(string(page))[strings.ToLower(frag)] {
			problems = append(problems, fmt.Sprintf("%s: link %s: no heading in %s makes #%s", rel, target, dest, frag))
		}
	}
	return problems
}

func TestDocsLinks(t *testing.T) {
	root := moduleRoot(t)
	for _, rel := range docFiles(t, root) {
		for _, p := range checkLinks(root, rel) {
			t.Error(p)
		}
	}
}

// shellLangs are the fenced blocks whose text is shell; console blocks hold commands
// after "$ " and their output.
var shellLangs = map[string]bool{"sh": true, "bash": true, "shell": true, "console": true}

// inlineCommand: a code span is a command when its first word, after any VAR=value
// assignments, is one of these programs or a path to a script.
var inlineCommand = regexp.MustCompile(`^(?:[A-Z_][A-Z0-9_]*=\S*\s+)*(?:go|curl|docker|sam|aws|\.?/?scripts/\S+|\./\S+\.sh)(?:\s|$)`)

// commands are a page's shell snippets, each named by where it is: the fenced blocks'
// text (a console block's commands only) and the inline commands.
func commands(md string) map[string]string {
	prose, blocks := split(md)
	out := map[string]string{}
	for _, b := range blocks {
		if !shellLangs[b.lang] {
			continue
		}
		text := b.text
		if b.lang == "console" {
			var cmds []string
			cont := false
			for _, l := range strings.Split(b.text, "\n") {
				switch {
				case strings.HasPrefix(l, "$ "):
					cmds = append(cmds, strings.TrimPrefix(l, "$ "))
				case cont:
					cmds = append(cmds, l)
				default:
					continue
				}
				cont = strings.HasSuffix(l, `\`)
			}
			text = strings.Join(cmds, "\n") + "\n"
		}
		out[fmt.Sprintf("```%s block at line %d", b.lang, b.line)] = text
	}
	for i, l := range strings.Split(prose, "\n") {
		for _, span := range codeSpan.FindAllString(l, -1) {
			cmd := strings.TrimSpace(strings.Trim(span, "`"))
			if inlineCommand.MatchString(cmd) {
				out[fmt.Sprintf("`%s` at line %d", cmd, i+1)] = cmd + "\n"
			}
		}
	}
	return out
}

var (
	scriptRef = regexp.MustCompile(`(?:^|[^\w./-])((?:\./)?scripts/[\w.-]+(?:/[\w.-]+)*)`)
	goCommand = regexp.MustCompile(`\bgo\s+(?:test|run|vet|build|list|install|generate)\b([^|;&\n]*)`)
)

// checkCommands returns a problem for every shell snippet of the page rel that bash
// cannot parse, every scripts/ path that does not exist (or is a script file that is not
// executable), and every ./package a go command names that is not a directory.
func checkCommands(root, rel string) []string {
	md, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	cmds := commands(string(md))
	for _, name := range slices.Sorted(maps.Keys(cmds)) {
		text := cmds[name]
		bash := exec.Command("bash", "-n")
		bash.Stdin = strings.NewReader(text)
		var stderr bytes.Buffer
		bash.Stderr = &stderr
		if err := bash.Run(); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %s does not parse (bash -n: %v): %s", rel, name, err, strings.TrimSpace(stderr.String())))
		}
		for _, m := range goCommand.FindAllStringSubmatch(text, -1) {
			for _, arg := range strings.Fields(m[1]) {
				arg = strings.Trim(arg, `'"`)
				if !strings.HasPrefix(arg, "./") {
					continue
				}
				dir := strings.TrimSuffix(strings.TrimSuffix(arg, "..."), "/")
				if dir == "." || dir == "" {
					continue
				}
				if info, err := os.Stat(filepath.Join(root, filepath.FromSlash(dir))); err != nil || !info.IsDir() {
					problems = append(problems, fmt.Sprintf("%s: %s: go package %s is not a directory", rel, name, arg))
				}
			}
		}
	}
	seen := map[string]bool{}
	for _, m := range scriptRef.FindAllStringSubmatch(string(md), -1) {
		ref := strings.TrimRight(m[1], ".")
		if seen[ref] {
			continue
		}
		seen[ref] = true
		info, err := os.Stat(filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(ref, "./"))))
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %s does not exist", rel, ref))
		case !info.IsDir() && info.Mode().Perm()&0o111 == 0:
			problems = append(problems, fmt.Sprintf("%s: %s is not executable", rel, ref))
		}
	}
	return problems
}

func TestDocsCommands(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("bash: %v (the commands are checked with bash -n)", err)
	}
	root := moduleRoot(t)
	for _, rel := range docFiles(t, root) {
		for _, p := range checkCommands(root, rel) {
			t.Error(p)
		}
	}
}

// route is "METHOD /path"; a code pattern without a method has Method "".
type route struct{ Method, Path string }

func (r route) String() string { return strings.TrimSpace(r.Method + " " + r.Path) }

var diagramRoute = regexp.MustCompile(`\b(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)\s+(/[A-Za-z0-9_.~/{}$-]*)`)

// diagramRoutes are the routes the README's mermaid block names as `METHOD /path`.
func diagramRoutes(md string) ([]route, error) {
	_, blocks := split(md)
	for _, b := range blocks {
		if b.lang != "mermaid" {
			continue
		}
		if !strings.HasPrefix(strings.TrimSpace(b.text), "sequenceDiagram") {
			return nil, fmt.Errorf("the mermaid block at line %d is not a sequenceDiagram", b.line)
		}
		var out []route
		for _, m := range diagramRoute.FindAllStringSubmatch(b.text, -1) {
			out = append(out, route{m[1], strings.TrimRight(m[2], ".")})
		}
		return out, nil
	}
	return nil, errors.New("no ```mermaid block")
}

// templateRoutes are the API events of a SAM template (Type: HttpApi, Properties Method
// and Path), read line by line: the template's custom tags (!Ref, !Sub) need no YAML
// library, and these keys are plain scalars.
func templateRoutes(yaml string) ([]route, error) {
	lines := strings.Split(yaml, "\n")
	indent := func(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }
	unquote := func(v string) string {
		v, _, _ = strings.Cut(v, " #")
		return strings.Trim(strings.TrimSpace(v), `'"`)
	}
	var out []route
	for i, l := range lines {
		if strings.TrimSpace(l) != "Type: HttpApi" {
			continue
		}
		level := indent(l)
		var r route
		inProps := false
		for _, next := range lines[i+1:] {
			t := strings.TrimSpace(next)
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			if indent(next) < level {
				break
			}
			if indent(next) == level {
				inProps = t == "Properties:"
				continue
			}
			if !inProps || indent(next) > level+4 {
				continue
			}
			if v, ok := strings.CutPrefix(t, "Method:"); ok {
				r.Method = strings.ToUpper(unquote(v))
			}
			if v, ok := strings.CutPrefix(t, "Path:"); ok {
				r.Path = unquote(v)
			}
		}
		if r.Method == "" || r.Path == "" {
			return nil, fmt.Errorf("template line %d: an HttpApi event without Properties Method and Path (got %q)", i+1, r.String())
		}
		out = append(out, r)
	}
	return out, nil
}

// goPackages parses the non-test Go files of module packages, by directory, for
// resolving the constants and variables route tables name.
type goPackages struct {
	root, module string
	fset         *token.FileSet
	files        map[string][]*ast.File
}

func (g *goPackages) parse(dir string) ([]*ast.File, error) {
	if fs, ok := g.files[dir]; ok {
		return fs, nil
	}
	names, err := filepath.Glob(filepath.Join(g.root, filepath.FromSlash(dir), "*.go"))
	if err != nil {
		return nil, err
	}
	var fs []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(g.fset, n, nil, 0)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	g.files[dir] = fs
	return fs, nil
}

// imports maps a file's import names to module directories.
func (g *goPackages) imports(f *ast.File) map[string]string {
	out := map[string]string{}
	for _, s := range f.Imports {
		p, _ := strconv.Unquote(s.Path.Value)
		dir, ok := strings.CutPrefix(p, g.module+"/")
		if !ok {
			continue
		}
		name := path.Base(p)
		if s.Name != nil {
			name = s.Name.Name
		}
		out[name] = dir
	}
	return out
}

// strings resolves e, in file f of package dir, to the strings it holds: a string
// literal, a []string literal, or a constant or variable of the module holding either.
func (g *goPackages) strings(e ast.Expr, dir string, f *ast.File) ([]string, error) {
	switch e := e.(type) {
	case *ast.BasicLit:
		s, err := strconv.Unquote(e.Value)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	case *ast.CompositeLit:
		var out []string
		for _, elt := range e.Elts {
			s, err := g.strings(elt, dir, f)
			if err != nil {
				return nil, err
			}
			out = append(out, s...)
		}
		return out, nil
	case *ast.Ident:
		return g.lookup(dir, e.Name)
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			if d, ok := g.imports(f)[x.Name]; ok {
				return g.lookup(d, e.Sel.Name)
			}
		}
	}
	return nil, fmt.Errorf("%s: cannot resolve %T to strings", g.fset.Position(e.Pos()), e)
}

func (g *goPackages) lookup(dir, name string) ([]string, error) {
	fs, err := g.parse(dir)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || (gd.Tok != token.CONST && gd.Tok != token.VAR) {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if n.Name == name && i < len(vs.Values) {
						return g.strings(vs.Values[i], dir, f)
					}
				}
			}
		}
	}
	return nil, fmt.Errorf("%s: no constant or variable %s", dir, name)
}

// devserverDir is the local stack: its routes function registers every function's paths
// on one mux, as API Gateway and the webhook's Function URL route them in Lambda.
const devserverDir = "shared/devserver"

// codeRoutes are the patterns the local stack's mux serves: string literals passed to
// mux.Handle or mux.HandleFunc, and the paths of its table of functions (the field
// "paths" of a []struct literal, whose entries the loop passes to mux.Handle).
func codeRoutes(root string) ([]route, error) {
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	m := regexp.MustCompile(`(?m)^module\s+(\S+)`).FindSubmatch(mod)
	if m == nil {
		return nil, errors.New("go.mod: no module line")
	}
	g := &goPackages{root: root, module: string(m[1]), fset: token.NewFileSet(), files: map[string][]*ast.File{}}
	fs, err := g.parse(devserverDir)
	if err != nil {
		return nil, err
	}
	var patterns []string
	handlesTable := false
	var problem error
	for _, f := range fs {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") || len(n.Args) != 2 {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "mux" {
					return true
				}
				switch arg := n.Args[0].(type) {
				case *ast.BasicLit:
					s, err := strconv.Unquote(arg.Value)
					if err != nil {
						problem = err
					}
					patterns = append(patterns, s)
				case *ast.Ident:
					handlesTable = true // the loop over the table's paths
				default:
					problem = fmt.Errorf("%s: mux pattern %T not read by this test", g.fset.Position(arg.Pos()), arg)
				}
			case *ast.CompositeLit:
				arr, ok := n.Type.(*ast.ArrayType)
				if !ok {
					return true
				}
				st, ok := arr.Elt.(*ast.StructType)
				if !ok {
					return true
				}
				field := -1
				i := 0
				for _, fl := range st.Fields.List {
					for _, name := range fl.Names {
						if name.Name == "paths" {
							field = i
						}
						i++
					}
				}
				if field < 0 {
					return true
				}
				for _, elt := range n.Elts {
					row, ok := elt.(*ast.CompositeLit)
					if !ok || field >= len(row.Elts) {
						problem = fmt.Errorf("%s: a row of the function table not read by this test", g.fset.Position(elt.Pos()))
						continue
					}
					ps, err := g.strings(row.Elts[field], devserverDir, f)
					if err != nil {
						problem = err
					}
					patterns = append(patterns, ps...)
				}
			}
			return true
		})
	}
	if problem != nil {
		return nil, problem
	}
	if !handlesTable {
		return nil, errors.New(devserverDir + ": no mux.Handle of the function table's paths")
	}
	var out []route
	for _, p := range patterns {
		method, rest, ok := strings.Cut(p, " ")
		if !ok {
			method, rest = "", p
		}
		out = append(out, route{method, strings.TrimSpace(rest)})
	}
	return out, nil
}

// localOnly are the local stack's own routes, which Lambda does not serve: the diagram
// need not name them.
func localOnly(r route) bool {
	return strings.HasPrefix(r.Path, "/_local/") || // POST /_local/prune, GET /_local/outbox: the prune trigger and the outbox
		r.String() == "GET /{$}" // the redirect from / to /video
}

// notDrawn are product routes the diagram leaves out on purpose.
var notDrawn = map[string]string{
	"HEAD /video": "GET /video's handler answering HEAD (link checkers, prefetches); it creates nothing",
}

// checkDiagram returns a problem for every route the diagram names that neither the
// template nor the code serves, every template route (but notDrawn) the diagram does not
// name, and every path the code serves (but localOnly) the diagram names with no method.
func checkDiagram(diagram, template, code []route) []string {
	var problems []string
	if len(diagram) == 0 {
		problems = append(problems, "the diagram names no `METHOD /path`")
	}
	if len(template) == 0 {
		problems = append(problems, "template.yaml: no HttpApi events found")
	}
	if len(code) == 0 {
		problems = append(problems, devserverDir+": no mux patterns found")
	}
	inTemplate := map[route]bool{}
	for _, r := range template {
		inTemplate[r] = true
	}
	served := func(d route) bool {
		if inTemplate[d] {
			return true
		}
		for _, c := range code {
			if c.Path == d.Path && (c.Method == "" || c.Method == d.Method) {
				return true
			}
		}
		return false
	}
	drawn := map[route]bool{}
	for _, d := range diagram {
		if drawn[d] {
			continue
		}
		drawn[d] = true
		if !served(d) {
			problems = append(problems, fmt.Sprintf("the diagram names %s, which neither template.yaml's API events nor %s's mux serve", d, devserverDir))
		}
	}
	for _, r := range template {
		if _, ok := notDrawn[r.String()]; ok || drawn[r] {
			continue
		}
		problems = append(problems, fmt.Sprintf("template.yaml serves %s; the diagram does not name it", r))
	}
	for _, c := range code {
		if localOnly(c) {
			continue
		}
		if !slices.ContainsFunc(diagram, func(d route) bool { return d.Path == c.Path && (c.Method == "" || c.Method == d.Method) }) {
			problems = append(problems, fmt.Sprintf("%s serves %s; the diagram names no `METHOD %s`", devserverDir, c, c.Path))
		}
	}
	return problems
}

func TestDiagramMatchesRoutes(t *testing.T) {
	root := moduleRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	diagram, err := diagramRoutes(string(readme))
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	tmpl, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	template, err := templateRoutes(string(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	code, err := codeRoutes(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkDiagram(diagram, template, code) {
		t.Error("README.md: " + p)
	}
}

// TestCheckersCatchErrors: each checker reports a broken input, naming what is wrong,
// and passes a sound one.
func TestCheckersCatchErrors(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string, mode os.FileMode) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("docs/target.md", "# Title\n\n## Locally with a real FusionAuth (Docker)\n\n## Dup\n\n## Dup\n\n```\n# not a heading\n```\n", 0o644)
	write("scripts/ok.sh", "#!/bin/sh\n", 0o755)
	write("scripts/lib.sh", "f() { :; }\n", 0o644)
	write("shared/site/x.go", "package site\n", 0o644)
	tests := []struct {
		name, page, text string
		check            func(root, rel string) []string
		want             string // "" for no problem
	}{
		{"good links", "README.md", "[a](docs/target.md) [b](docs/target.md#locally-with-a-real-fusionauth-docker) [c](docs/target.md#dup-1) [d](https://example.com/x.md) `[e](nope.md)`\n", checkLinks, ""},
		{"missing file", "README.md", "see [it](docs/missing.md)\n", checkLinks, "docs/missing.md does not exist"},
		{"missing file, relative to docs/", "docs/page.md", "see [it](docs/target.md)\n", checkLinks, "docs/docs/target.md does not exist"},
		{"missing anchor", "README.md", "[a](docs/target.md#not-a-heading)\n", checkLinks, "no heading in docs/target.md makes #not-a-heading"},
		{"missing anchor on the same page", "docs/page.md", "# Here\n[a](#there)\n", checkLinks, "makes #there"},
		{"reference link to a missing file", "README.md", "[a][r]\n\n[r]: docs/gone.md\n", checkLinks, "docs/gone.md does not exist"},
		{"good commands", "README.md", "```sh\nfor f in a b; do echo \"$f\"; done\n```\n\n```console\n$ ./scripts/ok.sh \\\n  --flag\noutput (not shell\n```\n\nRun `go test -race ./shared/site/ ./...`.\n", checkCommands, ""},
		{"bad sh block", "README.md", "```sh\nif true; then echo\n```\n", checkCommands, "block at line 1 does not parse"},
		{"bad console command", "README.md", "```console\n$ echo (\n```\n", checkCommands, "does not parse"},
		{"bad inline command", "README.md", "Run `go test 'unclosed` now.\n", checkCommands, "does not parse"},
		{"missing script", "README.md", "Run ./scripts/nope.sh first.\n", checkCommands, "./scripts/nope.sh does not exist"},
		{"script not executable", "README.md", "It sources scripts/lib.sh.\n", checkCommands, "scripts/lib.sh is not executable"},
		{"missing go package", "README.md", "```bash\ngo test -count=1 ./shared/nope/...\n```\n", checkCommands, "go package ./shared/nope/... is not a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			write(tc.page, tc.text, 0o644)
			got := strings.Join(tc.check(root, tc.page), "\n")
			if tc.want == "" && got != "" {
				t.Errorf("got problems %q, want none", got)
			}
			if tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("got problems %q, want one saying %q", got, tc.want)
			}
		})
	}

	template := `Resources:
  VideoFunction:
    Properties:
      Events:
        Get:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Method: GET
            Path: /video
        Head:
          Type: HttpApi
          Properties:
            Method: HEAD
            Path: /video
        Post:
          Type: HttpApi
          Properties:
            # a comment
            Method: post
            Path: "/register"
  Other:
    Properties:
      Path: /not-an-event
`
	routes, err := templateRoutes(template)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(routes), "[GET /video HEAD /video POST /register]"; got != want {
		t.Errorf("templateRoutes = %s, want %s", got, want)
	}
	if _, err := templateRoutes("        Get:\n          Type: HttpApi\n          Properties:\n            Method: GET\n"); err == nil {
		t.Error("templateRoutes of an event without Path: no error")
	}

	diagram, err := diagramRoutes("```mermaid\nsequenceDiagram\n    V->>S: GET /video (first)\n    S-->>V: 303 to GET /register.\n    F->>W: POST /webhook\n```\n")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(diagram), "[GET /video GET /register POST /webhook]"; got != want {
		t.Errorf("diagramRoutes = %s, want %s", got, want)
	}
	if _, err := diagramRoutes("```mermaid\nflowchart LR\n  a --> b\n```\n"); err == nil {
		t.Error("diagramRoutes of a flowchart: no error")
	}
	if _, err := diagramRoutes("no diagram\n"); err == nil {
		t.Error("diagramRoutes without a mermaid block: no error")
	}

	tmpl := []route{{"GET", "/video"}, {"HEAD", "/video"}, {"GET", "/register"}, {"POST", "/register"}}
	code := []route{{"", "/video"}, {"", "/register"}, {"", "/webhook"}, {"POST", "/_local/prune"}, {"GET", "/{$}"}}
	all := []route{{"GET", "/video"}, {"GET", "/register"}, {"POST", "/register"}, {"POST", "/webhook"}}
	for _, tc := range []struct {
		name    string
		diagram []route
		want    string
	}{
		{"every route", all, ""},
		{"a template route missing", slices.Delete(slices.Clone(all), 2, 3), "template.yaml serves POST /register; the diagram does not name it"},
		{"the webhook missing", all[:3], "serves /webhook; the diagram names no `METHOD /webhook`"},
		{"a route nobody serves", append(slices.Clone(all), route{"DELETE", "/video/all"}), "the diagram names DELETE /video/all, which neither"},
		{"empty", nil, "the diagram names no `METHOD /path`"},
	} {
		t.Run("diagram/"+tc.name, func(t *testing.T) {
			got := strings.Join(checkDiagram(tc.diagram, tmpl, code), "\n")
			if tc.want == "" && got != "" {
				t.Errorf("got problems %q, want none", got)
			}
			if tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("got problems %q, want one saying %q", got, tc.want)
			}
		})
	}
	if got := strings.Join(checkDiagram(all, nil, nil), "\n"); !strings.Contains(got, "no HttpApi events found") || !strings.Contains(got, "no mux patterns found") {
		t.Errorf("checkDiagram with no template or code routes: got %q, want both reported", got)
	}
}
