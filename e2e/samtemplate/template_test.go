package samtemplate_test

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient/fatest"
)

// route is one HTTP API route of a function.
type route struct {
	method, path string
	optional     bool // the route may be absent
	throttled    bool // the route must set its own, stricter, throttling
}

// spec is what the code expects of one function in the template.
type spec struct {
	id     string // logical ID, e.g. VideoFunction
	name   string // directory under functions/ and FunctionName suffix
	secret string // logical ID of the function's own API key secret
	loader string // the config loader main.go calls, e.g. LoadVideo
	load   func(*config.Env) error

	routes      []route // HttpApi routes; none means no HttpApi event allowed
	functionURL bool    // served by a public Function URL
	daily       bool    // run by a once-a-day Schedule event

	minTimeout, maxTimeout int // seconds
	reserved               int // required ReservedConcurrentExecutions; 0 = not required
}

// apiGatewayTimeout is the HTTP API integration limit: a longer Lambda timeout
// would only let the function run on after the client got a 503.
const apiGatewayTimeout = 29

// lambdaMaxTimeout is Lambda's own limit in seconds.
const lambdaMaxTimeout = 900

var specs = []spec{
	{
		id: "VideoFunction", name: "video", secret: "VideoApiKeySecret", loader: "LoadVideo",
		load: func(e *config.Env) error { _, err := config.LoadVideo(e); return err },
		routes: []route{
			{method: "GET", path: "/video"},
			{method: "HEAD", path: "/video", optional: true},
		},
		minTimeout: 1, maxTimeout: apiGatewayTimeout,
	},
	{
		id: "RegisterFunction", name: "register", secret: "RegisterApiKeySecret", loader: "LoadRegister",
		load: func(e *config.Env) error { _, err := config.LoadRegister(e); return err },
		routes: []route{
			{method: "GET", path: "/register"},
			{method: "POST", path: "/register", throttled: true},
		},
		minTimeout: 1, maxTimeout: apiGatewayTimeout,
	},
	{
		id: "WebhookFunction", name: "webhook", secret: "WebhookApiKeySecret", loader: "LoadWebhook",
		load:        func(e *config.Env) error { _, err := config.LoadWebhook(e); return err },
		functionURL: true,
		minTimeout:  1, maxTimeout: 10,
	},
	{
		id: "PruneFunction", name: "prune", secret: "PruneApiKeySecret", loader: "LoadPrune",
		load:       func(e *config.Env) error { _, err := config.LoadPrune(e); return err },
		daily:      true,
		minTimeout: 300, maxTimeout: lambdaMaxTimeout,
		reserved: 1,
	},
}

// alsoRead lists variables read outside shared/config: LOG_LEVEL by app.NewLogger.
var alsoRead = []string{"LOG_LEVEL"}

// --- loading the template -------------------------------------------------

// stack is the parsed template plus what the decoding had to resolve.
type stack struct {
	root string // repository root
	raw  []byte // template.yaml as written
	tmpl *cloudformation.Template
	// numericRefs maps a property path ("Resources.VideoLogGroup.Properties.RetentionInDays")
	// to the reference it held ("Ref:LogRetentionDays") before it was resolved.
	numericRefs map[string]string
}

// numericProperties are the numeric properties the template may fill with a !Ref to
// a Number parameter. goformation decodes them into int/float64 fields, which cannot
// hold "Ref:X", so parseTemplate resolves such references to the parameter's default.
var numericProperties = map[string]bool{
	"RetentionInDays":              true,
	"ThrottlingRateLimit":          true,
	"ThrottlingBurstLimit":         true,
	"Timeout":                      true,
	"MemorySize":                   true,
	"ReservedConcurrentExecutions": true,
	"PasswordLength":               true,
}

// intrinsicOverrides keep references recognisable instead of empty: !Ref X becomes
// "Ref:X", !GetAtt X.Y "GetAtt:X.Y", !Sub "s" "Sub:s" (unexpanded; the variable map
// of the list form is dropped) and !If [c, a, b] "If:[c a b]".
func intrinsicOverrides() map[string]intrinsics.IntrinsicHandler {
	return map[string]intrinsics.IntrinsicHandler{
		"Ref": func(_ string, in, _ any) any {
			name := fmt.Sprint(in)
			if name == "AWS::NoValue" {
				return nil
			}
			return "Ref:" + name
		},
		"Fn::GetAtt": func(_ string, in, _ any) any {
			if parts, ok := in.([]any); ok {
				s := make([]string, len(parts))
				for i, p := range parts {
					s[i] = fmt.Sprint(p)
				}
				return "GetAtt:" + strings.Join(s, ".")
			}
			return "GetAtt:" + fmt.Sprint(in)
		},
		"Fn::Sub": func(_ string, in, _ any) any {
			if parts, ok := in.([]any); ok && len(parts) > 0 {
				return "Sub:" + fmt.Sprint(parts[0])
			}
			return "Sub:" + fmt.Sprint(in)
		},
		"Fn::If": func(_ string, in, _ any) any {
			return fmt.Sprintf("If:%v", in)
		},
	}
}

// parseTemplate parses a SAM template with goformation. It runs goformation's
// intrinsic processor with intrinsicOverrides, resolves the references goformation's
// typed structs cannot hold (see numericProperties; scalar environment values become
// strings, as CloudFormation passes them), then decodes the result into goformation's
// Template.
func parseTemplate(path string) (*stack, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	processed, err := intrinsics.ProcessYAML(raw, &intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: intrinsicOverrides()})
	if err != nil {
		return nil, fmt.Errorf("process intrinsics of %s: %w", path, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(processed, &doc); err != nil {
		return nil, fmt.Errorf("decode processed template: %w", err)
	}

	numbers := map[string]float64{} // Number parameter → value to substitute
	params, _ := doc["Parameters"].(map[string]any)
	for name, p := range params {
		p, _ := p.(map[string]any)
		if p["Type"] != "Number" {
			continue
		}
		numbers[name] = 1 // placeholder for a required parameter
		switch d := p["Default"].(type) {
		case float64:
			numbers[name] = d
		case string:
			if f, err := strconv.ParseFloat(d, 64); err == nil {
				numbers[name] = f
			}
		}
	}
	st := &stack{raw: raw, numericRefs: map[string]string{}}
	for _, section := range []string{"Globals", "Resources"} {
		if v, ok := doc[section]; ok {
			doc[section] = st.resolve(v, section, "", numbers)
		}
	}
	fixed, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode processed template: %w", err)
	}
	st.tmpl, err = goformation.ParseJSONWithOptions(fixed, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, fmt.Errorf("goformation cannot decode %s: %w", path, err)
	}
	return st, nil
}

// resolve walks the processed template, replacing "Ref:<Number parameter>" in numeric
// properties with the parameter's value and stringifying scalar environment values.
func (st *stack) resolve(node any, path, key string, numbers map[string]float64) any {
	switch v := node.(type) {
	case map[string]any:
		for k, child := range v {
			v[k] = st.resolve(child, path+"."+k, k, numbers)
		}
		if key == "Variables" {
			for k, child := range v {
				switch c := child.(type) {
				case float64:
					v[k] = strconv.FormatFloat(c, 'f', -1, 64)
				case bool:
					v[k] = strconv.FormatBool(c)
				}
			}
		}
		return v
	case []any:
		for i, child := range v {
			v[i] = st.resolve(child, fmt.Sprintf("%s[%d]", path, i), key, numbers)
		}
		return v
	case string:
		if !numericProperties[key] {
			return v
		}
		if n, ok := numbers[strings.TrimPrefix(v, "Ref:")]; ok && strings.HasPrefix(v, "Ref:") {
			st.numericRefs[path] = v
			return n
		}
		return v
	default:
		return v
	}
}

// loadRepoTemplate parses the repository's template.yaml once: goformation's YAML
// processor registers its tag resolvers in a package-level map on every call, so
// templates are never parsed concurrently (no t.Parallel in this package).
var loadRepoTemplate = sync.OnceValues(func() (*stack, error) {
	root, err := fatest.ModuleRoot()
	if err != nil {
		return nil, err
	}
	st, err := parseTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	st.root = root
	return st, nil
})

func mustStack(tb testing.TB) *stack {
	tb.Helper()
	st, err := loadRepoTemplate()
	if err != nil {
		tb.Fatalf("load template: %v", err)
	}
	return st
}

// function returns the function's properties with Globals.Function merged in the way
// SAM does: the function's scalars win, maps are merged, lists are concatenated
// (Globals first).
func (st *stack) function(id string) (*serverless.Function, error) {
	fn, err := st.tmpl.GetServerlessFunctionWithName(id)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", id, err)
	}
	m := *fn
	g, err := st.tmpl.GetServerlessGlobalFunction()
	if err != nil {
		return &m, nil // no Globals.Function
	}
	if g.Architectures != nil {
		m.Architectures = append(slices.Clone(*g.Architectures), fn.Architectures...)
	}
	if g.Layers != nil {
		m.Layers = append(slices.Clone(*g.Layers), fn.Layers...)
	}
	m.CodeUri = firstNonNil(fn.CodeUri, g.CodeUri)
	m.FunctionUrlConfig = firstNonNil(fn.FunctionUrlConfig, g.FunctionUrlConfig)
	m.Handler = firstNonNil(fn.Handler, g.Handler)
	m.MemorySize = firstNonNil(fn.MemorySize, g.MemorySize)
	m.PermissionsBoundary = firstNonNil(fn.PermissionsBoundary, g.PermissionsBoundary)
	m.ReservedConcurrentExecutions = firstNonNil(fn.ReservedConcurrentExecutions, g.ReservedConcurrentExecutions)
	m.Runtime = firstNonNil(fn.Runtime, g.Runtime)
	m.Timeout = firstNonNil(fn.Timeout, g.Timeout)
	m.Tracing = firstNonNil(fn.Tracing, g.Tracing)
	if g.Environment != nil || fn.Environment != nil {
		vars := map[string]string{}
		if g.Environment != nil {
			for k, v := range g.Environment.Variables {
				vars[k] = v
			}
		}
		if fn.Environment != nil {
			for k, v := range fn.Environment.Variables {
				vars[k] = v
			}
		}
		m.Environment = &serverless.Function_FunctionEnvironment{Variables: vars}
	}
	return &m, nil
}

// firstNonNil returns the first non-nil pointer: the function's own value, else the global one.
func firstNonNil[T any](vs ...*T) *T {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

// deref returns *p, or "<unset>" for messages when p is nil.
func deref[T any](p *T) any {
	if p == nil {
		return "<unset>"
	}
	return *p
}

// --- per-function checks ----------------------------------------------------

// functionCheck inspects one function and returns its problems in got/want form.
type functionCheck func(st *stack, sp spec) []string

var functionChecks = []struct {
	name string
	run  functionCheck
}{
	{"build", checkBuild},
	{"timeouts", checkTimeouts},
	{"events", checkEvents},
	{"environment", checkEnvironment},
	{"least privilege", checkPolicy},
	{"log group", checkLogGroup},
}

func checkBuild(st *stack, sp spec) []string {
	fn, err := st.function(sp.id)
	if err != nil {
		return []string{err.Error()}
	}
	var p []string
	if got, want := deref(fn.Runtime), "provided.al2023"; got != want {
		p = append(p, fmt.Sprintf("Runtime = %v, want %v", got, want))
	}
	if got, want := deref(fn.Handler), "bootstrap"; got != want {
		p = append(p, fmt.Sprintf("Handler = %v, want %v", got, want))
	}
	if got, want := fn.Architectures, []string{"arm64"}; !slices.Equal(got, want) {
		p = append(p, fmt.Sprintf("Architectures (Globals + function, as SAM concatenates them) = %v, want %v", got, want))
	}
	if got := deref(fn.Tracing); got != "Active" && got != "PassThrough" {
		p = append(p, fmt.Sprintf("Tracing = %v, want Active or PassThrough", got))
	}
	if got, want := fmt.Sprint(fn.AWSCloudFormationMetadata["BuildMethod"]), "go1.x"; got != want {
		p = append(p, fmt.Sprintf("Metadata.BuildMethod = %v, want %v", got, want))
	}
	wantURI := "functions/" + sp.name + "/"
	if fn.CodeUri == nil || fn.CodeUri.String == nil {
		return append(p, fmt.Sprintf("CodeUri = <unset or S3 location>, want %q", wantURI))
	}
	if got := *fn.CodeUri.String; got != wantURI {
		return append(p, fmt.Sprintf("CodeUri = %q, want %q", got, wantURI))
	}
	return append(p, checkMain(filepath.Join(st.root, wantURI, "main.go"), sp.loader)...)
}

// checkMain checks that path is a main package that calls config.<loader>, the loader
// the other checks compare the template with.
func checkMain(path, loader string) []string {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		return []string{fmt.Sprintf("CodeUri holds no parsable main.go: %v", err)}
	}
	var p []string
	if f.Name.Name != "main" {
		p = append(p, fmt.Sprintf("%s: package %s, want package main", path, f.Name.Name))
	}
	calls := false
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "config" && sel.Sel.Name == loader {
				calls = true
			}
		}
		return !calls
	})
	if !calls {
		p = append(p, fmt.Sprintf("%s does not call config.%s, want it to (the environment check assumes that loader)", path, loader))
	}
	return p
}

func checkTimeouts(st *stack, sp spec) []string {
	fn, err := st.function(sp.id)
	if err != nil {
		return []string{err.Error()}
	}
	var p []string
	if fn.Timeout == nil {
		p = append(p, fmt.Sprintf("Timeout = <unset> (Lambda default 3 s), want %d..%d s", sp.minTimeout, sp.maxTimeout))
	} else if t := *fn.Timeout; t < sp.minTimeout || t > sp.maxTimeout {
		p = append(p, fmt.Sprintf("Timeout = %d s, want %d..%d s", t, sp.minTimeout, sp.maxTimeout))
	}
	if sp.reserved != 0 {
		if got := deref(fn.ReservedConcurrentExecutions); got != sp.reserved {
			p = append(p, fmt.Sprintf("ReservedConcurrentExecutions = %v, want %d", got, sp.reserved))
		}
	}
	return p
}

func checkEvents(st *stack, sp spec) []string {
	fn, err := st.function(sp.id)
	if err != nil {
		return []string{err.Error()}
	}
	var p []string
	seen := map[route]string{} // method+path → event name
	schedules := 0
	names := make([]string, 0, len(fn.Events))
	for name := range fn.Events {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ev := fn.Events[name]
		// goformation picks the event's struct by shape, not by Type: switch on Type.
		switch ev.Type {
		case "HttpApi":
			if ev.Properties == nil || ev.Properties.HttpApiEvent == nil {
				p = append(p, fmt.Sprintf("event %s: Type HttpApi but its Properties do not decode as an HttpApi event (misspelt property?)", name))
				continue
			}
			h := ev.Properties.HttpApiEvent
			r := route{method: strings.ToUpper(fmt.Sprint(deref(h.Method))), path: fmt.Sprint(deref(h.Path))}
			want, ok := findRoute(sp.routes, r)
			if !ok {
				p = append(p, fmt.Sprintf("event %s: route %s %s, want none outside %v", name, r.method, r.path, sp.routes))
				continue
			}
			if prev, dup := seen[r]; dup {
				p = append(p, fmt.Sprintf("event %s: route %s %s already declared by event %s", name, r.method, r.path, prev))
			}
			seen[r] = name
			if got := deref(h.ApiId); got != "Ref:HttpApi" {
				p = append(p, fmt.Sprintf("event %s: ApiId = %v, want Ref:HttpApi", name, got))
			}
			if got := deref(h.PayloadFormatVersion); got != "2.0" {
				p = append(p, fmt.Sprintf("event %s: PayloadFormatVersion = %v, want 2.0", name, got))
			}
			if want.throttled && (h.RouteSettings == nil || h.RouteSettings.ThrottlingRateLimit == nil || h.RouteSettings.ThrottlingBurstLimit == nil) {
				p = append(p, fmt.Sprintf("event %s: RouteSettings throttling = <unset>, want its own rate and burst limits", name))
			}
		case "Schedule":
			if !sp.daily {
				p = append(p, fmt.Sprintf("event %s: Type Schedule, want no scheduled runs", name))
				continue
			}
			if ev.Properties == nil || ev.Properties.ScheduleEvent == nil {
				p = append(p, fmt.Sprintf("event %s: Type Schedule but its Properties do not decode as a Schedule event (misspelt property?)", name))
				continue
			}
			schedules++
			s := ev.Properties.ScheduleEvent
			if !isDaily(s.Schedule) {
				p = append(p, fmt.Sprintf("event %s: Schedule = %q, want rate(1 day) or cron(<minute> <hour> * * ? *)", name, s.Schedule))
			}
			if s.Enabled != nil && !*s.Enabled {
				p = append(p, fmt.Sprintf("event %s: Enabled = false, want true", name))
			}
		default:
			p = append(p, fmt.Sprintf("event %s: Type = %s, want HttpApi or Schedule only", name, ev.Type))
		}
	}
	for _, r := range sp.routes {
		if _, ok := seen[route{method: r.method, path: r.path}]; !ok && !r.optional {
			p = append(p, fmt.Sprintf("route %s %s = <missing>, want an HttpApi event", r.method, r.path))
		}
	}
	if sp.daily && schedules != 1 {
		p = append(p, fmt.Sprintf("Schedule events = %d, want 1", schedules))
	}
	if sp.functionURL {
		u := fn.FunctionUrlConfig
		switch {
		case u == nil:
			p = append(p, "FunctionUrlConfig = <unset>, want AuthType NONE (FusionAuth cannot sign with SigV4)")
		case u.AuthType != "NONE":
			p = append(p, fmt.Sprintf("FunctionUrlConfig.AuthType = %s, want NONE", u.AuthType))
		case u.InvokeMode != nil && *u.InvokeMode != "BUFFERED":
			p = append(p, fmt.Sprintf("FunctionUrlConfig.InvokeMode = %s, want BUFFERED (lambdahttp.FunctionURL answers buffered)", *u.InvokeMode))
		}
	} else if fn.FunctionUrlConfig != nil {
		p = append(p, "FunctionUrlConfig is set, want none (a public URL would bypass the HTTP API and its throttling)")
	}
	return p
}

// findRoute returns the spec route with r's method and path.
func findRoute(routes []route, r route) (route, bool) {
	for _, w := range routes {
		if w.method == r.method && w.path == r.path {
			return w, true
		}
	}
	return route{}, false
}

var fixedNumber = regexp.MustCompile(`^[0-9]{1,2}$`)

// isDaily reports whether an EventBridge schedule expression fires once a day.
func isDaily(expr string) bool {
	if expr == "rate(1 day)" {
		return true
	}
	inner, ok := strings.CutPrefix(expr, "cron(")
	if !ok {
		return false
	}
	inner, ok = strings.CutSuffix(inner, ")")
	if !ok {
		return false
	}
	f := strings.Fields(inner)
	if len(f) != 6 || !fixedNumber.MatchString(f[0]) || !fixedNumber.MatchString(f[1]) {
		return false
	}
	minute, _ := strconv.Atoi(f[0])
	hour, _ := strconv.Atoi(f[1])
	// AWS wants "?" in exactly one of day-of-month and day-of-week.
	days := (f[2] == "*" && f[4] == "?") || (f[2] == "?" && f[4] == "*")
	return minute < 60 && hour < 24 && days && f[3] == "*" && f[5] == "*"
}

// loaderNames returns every variable the function's loader reads: with nothing set,
// and with the template's values set (in case a loader reads more once a value is there).
func loaderNames(sp spec, env map[string]string) []string {
	names := map[string]bool{}
	for _, lookup := range []func(string) (string, bool){
		func(string) (string, bool) { return "", false },
		func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	} {
		e := config.NewEnv(lookup)
		_ = sp.load(e) // the values are placeholders; only the names matter
		for _, n := range e.Names() {
			names[n] = true
		}
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// envProblems compares the variables a template sets with the ones the code reads.
func envProblems(set map[string]string, read []string, loader string) []string {
	var p []string
	allowed := map[string]bool{}
	for _, n := range read {
		allowed[n] = true
		if _, ok := set[n]; !ok {
			p = append(p, fmt.Sprintf("environment variable %s = <unset>, want it set (config.%s reads it)", n, loader))
		}
	}
	for _, n := range alsoRead {
		allowed[n] = true
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !allowed[n] {
			p = append(p, fmt.Sprintf("environment variable %s is set, want only variables the code reads (%v + %v): typo?", n, read, alsoRead))
		}
	}
	return p
}

func checkEnvironment(st *stack, sp spec) []string {
	fn, err := st.function(sp.id)
	if err != nil {
		return []string{err.Error()}
	}
	set := map[string]string{}
	if fn.Environment != nil {
		set = fn.Environment.Variables
	}
	return envProblems(set, loaderNames(sp, set), sp.loader)
}

func checkPolicy(st *stack, sp spec) []string {
	fn, err := st.function(sp.id)
	if err != nil {
		return []string{err.Error()}
	}
	want := "Ref:" + sp.secret
	var p []string
	if fn.Environment == nil || fn.Environment.Variables["API_KEY_SECRET_ID"] != want {
		got := "<unset>"
		if fn.Environment != nil {
			got = fn.Environment.Variables["API_KEY_SECRET_ID"]
		}
		p = append(p, fmt.Sprintf("API_KEY_SECRET_ID = %s, want %s", got, want))
	}
	if fn.Role != nil {
		p = append(p, fmt.Sprintf("Role = %s, want unset (SAM ignores Policies when a Role is given)", *fn.Role))
	}
	statements, problems := policyStatements(fn.Policies)
	p = append(p, problems...)
	if len(statements) != 1 {
		return append(p, fmt.Sprintf("policy statements = %d, want exactly 1", len(statements)))
	}
	s := statements[0]
	for k := range s {
		if k != "Sid" && k != "Effect" && k != "Action" && k != "Resource" {
			p = append(p, fmt.Sprintf("statement key %s is present, want only Effect, Action, Resource", k))
		}
	}
	if got := fmt.Sprint(s["Effect"]); got != "Allow" {
		p = append(p, fmt.Sprintf("statement Effect = %s, want Allow", got))
	}
	actions, resources := stringList(s["Action"]), stringList(s["Resource"])
	if wantA := []string{"secretsmanager:GetSecretValue"}; !slices.Equal(actions, wantA) {
		p = append(p, fmt.Sprintf("statement Action = %v, want %v", actions, wantA))
	}
	if wantR := []string{want}; !slices.Equal(resources, wantR) {
		p = append(p, fmt.Sprintf("statement Resource = %v, want %v (the function's own secret only)", resources, wantR))
	}
	for _, v := range append(actions, resources...) {
		if strings.Contains(v, "*") {
			p = append(p, fmt.Sprintf("statement has wildcard %q, want none", v))
		}
	}
	return p
}

// policyStatements returns the IAM statements of a function's Policies and a problem
// for every managed policy name or SAM policy template, which this stack never needs.
func policyStatements(pol *serverless.Function_Policies) ([]map[string]any, []string) {
	if pol == nil {
		return nil, []string{"Policies = <unset>, want one inline statement"}
	}
	var p []string
	if pol.String != nil {
		p = append(p, fmt.Sprintf("Policies = managed policy %q, want inline statements only", *pol.String))
	}
	if pol.StringArray != nil {
		for _, s := range *pol.StringArray {
			if s != "" { // goformation fills this with "" for documents
				p = append(p, fmt.Sprintf("Policies has managed policy %q, want inline statements only", s))
			}
		}
	}
	if pol.SAMPolicyTemplateArray != nil {
		for _, t := range *pol.SAMPolicyTemplateArray {
			if b, _ := json.Marshal(t); string(b) != "{}" {
				p = append(p, fmt.Sprintf("Policies has SAM policy template %s, want inline statements only", b))
			}
		}
	}
	var docs []serverless.Function_IAMPolicyDocument
	switch {
	case pol.IAMPolicyDocumentArray != nil:
		docs = *pol.IAMPolicyDocumentArray
	case pol.IAMPolicyDocument != nil:
		docs = []serverless.Function_IAMPolicyDocument{*pol.IAMPolicyDocument}
	}
	var out []map[string]any
	for _, d := range docs {
		for _, s := range d.Statement {
			m, ok := s.(map[string]any)
			if !ok {
				p = append(p, fmt.Sprintf("policy statement %v is not an object", s))
				continue
			}
			out = append(out, m)
		}
	}
	return out, p
}

// stringList flattens an IAM Action or Resource (a string or a list) into strings.
func stringList(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = fmt.Sprint(e)
		}
		return out
	default:
		return []string{fmt.Sprint(x)}
	}
}

// validRetention lists the values CloudWatch Logs accepts for RetentionInDays.
var validRetention = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func checkLogGroup(st *stack, sp spec) []string {
	fn, err := st.function(sp.id)
	if err != nil {
		return []string{err.Error()}
	}
	name := "${AWS::StackName}-" + sp.name
	if got := fmt.Sprint(deref(fn.FunctionName)); got != "Sub:"+name {
		return []string{fmt.Sprintf("FunctionName = %s, want !Sub %q", got, name)}
	}
	want := "Sub:/aws/lambda/" + name
	var found []string
	for id, lg := range st.tmpl.GetAllLogsLogGroupResources() {
		if lg.LogGroupName == nil || *lg.LogGroupName != want {
			continue
		}
		found = append(found, id)
		if lg.RetentionInDays == nil {
			return []string{fmt.Sprintf("log group %s: RetentionInDays = <unset>, want a retention (logs are kept forever otherwise)", id)}
		}
		if !slices.Contains(validRetention, *lg.RetentionInDays) {
			return []string{fmt.Sprintf("log group %s: RetentionInDays = %d (default of %s), want one of %v",
				id, *lg.RetentionInDays, st.numericRefs["Resources."+id+".Properties.RetentionInDays"], validRetention)}
		}
	}
	if len(found) != 1 {
		return []string{fmt.Sprintf("log groups named !Sub %q = %v, want exactly one", strings.TrimPrefix(want, "Sub:"), found)}
	}
	return nil
}

// --- stack-wide checks -------------------------------------------------------

// stackCheck inspects the whole template and returns its problems.
type stackCheck func(st *stack) []string

var stackChecks = []struct {
	name string
	run  stackCheck
}{
	{"functions match specs", checkFunctionSet},
	{"secret isolation", checkSecretIsolation},
	{"http api throttling", checkHTTPAPI},
	{"no secret values", checkNoSecretValues},
	{"outputs", checkOutputs},
}

// checkFunctionSet makes sure no function escapes these tests.
func checkFunctionSet(st *stack) []string {
	var got, want []string
	for id := range st.tmpl.GetAllServerlessFunctionResources() {
		got = append(got, id)
	}
	for _, sp := range specs {
		want = append(want, sp.id)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		return []string{fmt.Sprintf("functions = %v, want %v", got, want)}
	}
	return nil
}

// checkSecretIsolation proves that every secret is readable by exactly one function.
func checkSecretIsolation(st *stack) []string {
	readers := map[string][]string{} // "Ref:Secret" → functions
	for _, sp := range specs {
		fn, err := st.function(sp.id)
		if err != nil {
			return []string{err.Error()}
		}
		statements, _ := policyStatements(fn.Policies)
		for _, s := range statements {
			for _, r := range stringList(s["Resource"]) {
				readers[r] = append(readers[r], sp.id)
			}
		}
	}
	var p []string
	secrets := st.tmpl.GetAllSecretsManagerSecretResources()
	for _, sp := range specs {
		if _, ok := secrets[sp.secret]; !ok {
			p = append(p, fmt.Sprintf("secret %s = <missing>, want an AWS::SecretsManager::Secret for %s", sp.secret, sp.id))
		}
	}
	ids := make([]string, 0, len(secrets))
	for id := range secrets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		got := readers["Ref:"+id]
		sort.Strings(got)
		if len(got) != 1 {
			p = append(p, fmt.Sprintf("secret %s readable by %v, want exactly one function", id, got))
		}
	}
	return p
}

func checkHTTPAPI(st *stack) []string {
	api, err := st.tmpl.GetServerlessHttpApiWithName("HttpApi")
	if err != nil {
		return []string{fmt.Sprintf("HttpApi = <missing>, want an AWS::Serverless::HttpApi: %v", err)}
	}
	rs := api.DefaultRouteSettings
	if rs == nil || rs.ThrottlingRateLimit == nil || rs.ThrottlingBurstLimit == nil {
		return []string{"HttpApi DefaultRouteSettings throttling = <unset>, want ThrottlingRateLimit and ThrottlingBurstLimit"}
	}
	if *rs.ThrottlingRateLimit <= 0 || *rs.ThrottlingBurstLimit <= 0 {
		return []string{fmt.Sprintf("HttpApi throttling = rate %v burst %v, want both > 0", *rs.ThrottlingRateLimit, *rs.ThrottlingBurstLimit)}
	}
	return nil
}

var (
	uuidPattern    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	keyLike        = regexp.MustCompile(`^[A-Za-z0-9+/=_-]{32,}$`)
	hasDigit       = regexp.MustCompile(`[0-9]`)
	hasLetter      = regexp.MustCompile(`[A-Za-z]`)
	secretName     = regexp.MustCompile(`(?i)(api_?key|secret|password|token)$`)
	devMarkers     = []string{"dev-only", "not-for-prod"}
	kickstartNames = regexp.MustCompile(`(?i)(secret|password|apikey)$`)
)

// looksSecret reports whether a value looks like a key or password: a dev-only
// marker, or a long random-looking token that is not a UUID.
func looksSecret(v string) bool {
	lower := strings.ToLower(v)
	for _, m := range devMarkers {
		if strings.Contains(lower, m) {
			return true
		}
	}
	return keyLike.MatchString(v) && !uuidPattern.MatchString(v) && hasDigit.MatchString(v) && hasLetter.MatchString(v)
}

// kickstartSecrets returns the dev secrets kickstart.json defines (API keys,
// passwords, webhook and client secrets).
func kickstartSecrets(root string) (map[string]string, error) {
	b, err := os.ReadFile(filepath.Join(root, "kickstart", "kickstart.json"))
	if err != nil {
		return nil, fmt.Errorf("read kickstart: %w", err)
	}
	var k struct {
		Variables map[string]any `json:"variables"`
	}
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("decode kickstart: %w", err)
	}
	out := map[string]string{}
	for name, v := range k.Variables {
		if s, ok := v.(string); ok && s != "" && kickstartNames.MatchString(name) {
			out[name] = s
		}
	}
	return out, nil
}

// textLeaks reports every kickstart secret or dev-only marker found in text.
func textLeaks(file, text string, secrets map[string]string) []string {
	var p []string
	names := make([]string, 0, len(secrets))
	for n := range secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.Contains(text, secrets[n]) {
			p = append(p, fmt.Sprintf("%s contains kickstart's %s value, want no secret values", file, n))
		}
	}
	lower := strings.ToLower(text)
	for _, m := range devMarkers {
		if strings.Contains(lower, m) {
			p = append(p, fmt.Sprintf("%s contains %q, want no dev-only secrets", file, m))
		}
	}
	return p
}

func checkNoSecretValues(st *stack) []string {
	var p []string
	names := make([]string, 0, len(st.tmpl.Parameters))
	for n := range st.tmpl.Parameters {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d, ok := st.tmpl.Parameters[n].Default.(string)
		if !ok || d == "" {
			continue
		}
		if looksSecret(d) {
			p = append(p, fmt.Sprintf("parameter %s Default = %q looks like a key, want no secret defaults", n, d))
		}
		if secretName.MatchString(n) {
			p = append(p, fmt.Sprintf("parameter %s (a secret by name) has Default %q, want none: secrets live in Secrets Manager", n, d))
		}
	}
	for _, sp := range specs {
		fn, err := st.function(sp.id)
		if err != nil {
			return append(p, err.Error())
		}
		if fn.Environment == nil {
			continue
		}
		for k, v := range fn.Environment.Variables {
			if looksSecret(v) {
				p = append(p, fmt.Sprintf("%s environment %s = %q looks like a key, want a reference or plain id", sp.id, k, v))
			}
		}
	}
	secrets := st.tmpl.GetAllSecretsManagerSecretResources()
	ids := make([]string, 0, len(secrets))
	for id := range secrets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s := secrets[id]
		if s.SecretString != nil {
			p = append(p, fmt.Sprintf("secret %s has SecretString, want GenerateSecretString (the value is put in after deploy)", id))
		}
		if s.GenerateSecretString == nil || s.GenerateSecretString.SecretStringTemplate == nil {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal([]byte(*s.GenerateSecretString.SecretStringTemplate), &fields); err != nil {
			p = append(p, fmt.Sprintf("secret %s SecretStringTemplate is not a JSON object: %v", id, err))
			continue
		}
		for k, v := range fields {
			if looksSecret(fmt.Sprint(v)) {
				p = append(p, fmt.Sprintf("secret %s SecretStringTemplate %s = %v looks like a key, want a placeholder", id, k, v))
			}
		}
	}
	ks, err := kickstartSecrets(st.root)
	if err != nil {
		return append(p, err.Error())
	}
	return append(p, textLeaks("template.yaml", string(st.raw), ks)...)
}

func checkOutputs(st *stack) []string {
	var p []string
	value := func(name string) string {
		o, ok := st.tmpl.Outputs[name]
		if !ok {
			return "<missing>"
		}
		return fmt.Sprint(o.Value)
	}
	if got := value("ApiURL"); !strings.HasPrefix(got, "Sub:https://${HttpApi}.execute-api.") {
		p = append(p, fmt.Sprintf("output ApiURL = %s, want !Sub https://${HttpApi}.execute-api....", got))
	}
	if got, want := value("WebhookURL"), "GetAtt:WebhookFunctionUrl.FunctionUrl"; got != want {
		p = append(p, fmt.Sprintf("output WebhookURL = %s, want %s", got, want))
	}
	// SAM names a function's URL resource <FunctionID>Url, and creates it only with FunctionUrlConfig.
	if fn, err := st.tmpl.GetServerlessFunctionWithName("WebhookFunction"); err != nil || fn.FunctionUrlConfig == nil {
		p = append(p, "WebhookFunction FunctionUrlConfig = <unset>, want it (output WebhookURL reads WebhookFunctionUrl)")
	}
	values := map[string]bool{}
	for _, o := range st.tmpl.Outputs {
		values[fmt.Sprint(o.Value)] = true
	}
	for _, sp := range specs {
		if !values["Ref:"+sp.secret] {
			p = append(p, fmt.Sprintf("outputs lack !Ref %s, want its ARN output (README: put each key in after deploy)", sp.secret))
		}
	}
	return p
}

// --- samconfig.toml ------------------------------------------------------------

// samConfig is samconfig.toml read as section → key → raw value (strings unquoted,
// arrays as their list of strings).
type samConfig map[string]map[string]tomlValue

type tomlValue struct {
	scalar string
	list   []string
	isList bool
}

var quoted = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)

// parseSAMConfig reads the small TOML subset samconfig.toml uses: [a.b.c] tables,
// key = "string" | true | number, and arrays of strings (possibly multi-line).
func parseSAMConfig(text string) (samConfig, error) {
	cfg := samConfig{"": {}}
	section := ""
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			section = strings.TrimSpace(strings.Trim(stripComment(line), "[]"))
			if cfg[section] == nil {
				cfg[section] = map[string]tomlValue{}
			}
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("samconfig.toml line %d: %q is neither a table nor key = value", i+1, line)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if strings.HasPrefix(val, "[") {
			val = stripComment(val)
			for last := val; !strings.HasSuffix(last, "]"); {
				i++
				if i >= len(lines) {
					return nil, fmt.Errorf("samconfig.toml: array %s is not closed", key)
				}
				last = stripComment(lines[i])
				val += "\n" + last
			}
			var list []string
			for _, m := range quoted.FindAllStringSubmatch(val, -1) {
				list = append(list, m[1])
			}
			cfg[section][key] = tomlValue{list: list, isList: true}
			continue
		}
		val = stripComment(val)
		if m := quoted.FindStringSubmatch(val); m != nil && strings.HasPrefix(val, `"`) {
			val = m[1]
		}
		cfg[section][key] = tomlValue{scalar: val}
	}
	return cfg, nil
}

// stripComment removes a trailing # comment that is outside quotes.
func stripComment(s string) string {
	in := false
	for i, r := range s {
		switch r {
		case '"':
			in = !in
		case '#':
			if !in {
				return strings.TrimSpace(s[:i])
			}
		}
	}
	return strings.TrimSpace(s)
}

// samConfigProblems checks samconfig.toml against STYLE rule 12 and the template's
// parameters.
func samConfigProblems(text string, params cloudformation.Parameters, secrets map[string]string) []string {
	cfg, err := parseSAMConfig(text)
	if err != nil {
		return []string{err.Error()}
	}
	var p []string
	if cfg[""]["version"].scalar == "" {
		p = append(p, "samconfig.toml version = <unset>, want 0.1")
	}
	stackName := cfg["default.global.parameters"]["stack_name"].scalar
	if stackName == "" {
		stackName = cfg["default.deploy.parameters"]["stack_name"].scalar
	}
	if stackName == "" {
		p = append(p, "default stack_name = <unset>, want one")
	}
	deploy := cfg["default.deploy.parameters"]
	for _, k := range []string{"resolve_s3", "confirm_changeset"} {
		if got := deploy[k].scalar; got != "true" {
			p = append(p, fmt.Sprintf("default.deploy.parameters %s = %q, want true", k, got))
		}
	}
	sections := make([]string, 0, len(cfg))
	for s := range cfg {
		sections = append(sections, s)
	}
	sort.Strings(sections)
	for _, s := range sections {
		if v, ok := cfg[s]["cached"]; ok && v.scalar != "false" {
			p = append(p, fmt.Sprintf("[%s] cached = %s, want it off (SAM hashes only CodeUri and would miss shared/)", s, v.scalar))
		}
		if !strings.HasSuffix(s, ".deploy.parameters") {
			continue
		}
		given := map[string]bool{}
		overrides := cfg[s]["parameter_overrides"]
		items := overrides.list
		if !overrides.isList {
			items = strings.Fields(overrides.scalar)
		}
		for _, item := range items {
			name, value, _ := strings.Cut(item, "=")
			given[name] = true
			if _, ok := params[name]; !ok {
				p = append(p, fmt.Sprintf("[%s] parameter_overrides names %s, want only template parameters (typo?)", s, name))
			}
			if looksSecret(value) || secretName.MatchString(name) {
				p = append(p, fmt.Sprintf("[%s] parameter_overrides %s = %q, want no secret values in a committed file", s, name, value))
			}
		}
		for name, prm := range params {
			if prm.Default == nil && !given[name] {
				p = append(p, fmt.Sprintf("[%s] parameter_overrides lacks %s, want every parameter without a Default", s, name))
			}
		}
	}
	return append(p, textLeaks("samconfig.toml", text, secrets)...)
}

// --- tests ---------------------------------------------------------------------

func reportProblems(tb testing.TB, problems []string) {
	tb.Helper()
	for _, p := range problems {
		tb.Error(p)
	}
}

func TestFunctions(t *testing.T) {
	st := mustStack(t)
	for _, sp := range specs {
		t.Run(sp.id, func(t *testing.T) {
			for _, c := range functionChecks {
				t.Run(c.name, func(t *testing.T) {
					reportProblems(t, c.run(st, sp))
				})
			}
		})
	}
}

func TestStack(t *testing.T) {
	st := mustStack(t)
	for _, c := range stackChecks {
		t.Run(c.name, func(t *testing.T) {
			reportProblems(t, c.run(st))
		})
	}
}

func TestSAMConfig(t *testing.T) {
	st := mustStack(t)
	text, err := os.ReadFile(filepath.Join(st.root, "samconfig.toml"))
	if err != nil {
		t.Fatalf("read samconfig.toml: %v", err)
	}
	ks, err := kickstartSecrets(st.root)
	if err != nil {
		t.Fatal(err)
	}
	reportProblems(t, samConfigProblems(string(text), st.tmpl.Parameters, ks))
}

// TestEnvVarsExample checks env-vars.example.json: `sam local --env-vars` applies a
// value only to a variable the template declares for that function, so any other
// key is silently ignored.
func TestEnvVarsExample(t *testing.T) {
	st := mustStack(t)
	b, err := os.ReadFile(filepath.Join(st.root, "env-vars.example.json"))
	if err != nil {
		t.Fatalf("read env-vars.example.json: %v", err)
	}
	var file map[string]map[string]string
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatalf("decode env-vars.example.json: %v", err)
	}
	declared := map[string]map[string]string{}
	for _, sp := range specs {
		fn, err := st.function(sp.id)
		if err != nil {
			t.Fatal(err)
		}
		declared[sp.id] = map[string]string{}
		if fn.Environment != nil {
			declared[sp.id] = fn.Environment.Variables
		}
	}
	for section, vars := range file {
		t.Run(section, func(t *testing.T) {
			for k, v := range vars {
				if looksSecret(v) {
					t.Errorf("%s = %q looks like a key, want a secret name or id", k, v)
				}
				if section == "Parameters" {
					n := 0
					for _, d := range declared {
						if _, ok := d[k]; ok {
							n++
						}
					}
					if n == 0 {
						t.Errorf("Parameters %s: declared by 0 functions, want at least 1", k)
					}
					continue
				}
				d, ok := declared[section]
				if !ok {
					t.Fatalf("section %s: no such function, want one of the template's functions", section)
				}
				if _, ok := d[k]; !ok {
					t.Errorf("%s: not declared by the template for %s, want it declared (sam local ignores it otherwise)", k, section)
				}
			}
		})
	}
}

func specByID(tb testing.TB, id string) spec {
	tb.Helper()
	for _, sp := range specs {
		if sp.id == id {
			return sp
		}
	}
	tb.Fatalf("no spec %s", id)
	return spec{}
}

// mutate returns text with old replaced by new, failing if old does not occur exactly once.
func mutate(tb testing.TB, text, old, replacement string) string {
	tb.Helper()
	if n := strings.Count(text, old); n != 1 {
		tb.Fatalf("mutation target %q occurs %d times, want 1: update the test to the template", old, n)
	}
	return strings.Replace(text, old, replacement, 1)
}

// missing returns the wanted substrings that no problem contains.
func missing(problems, want []string) []string {
	var out []string
	for _, w := range want {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, w) }) {
			out = append(out, w)
		}
	}
	return out
}

// TestChecksDetectMutations proves the checks can fail: each case breaks a copy of
// template.yaml in one way, writes it to a temporary directory, and asserts that the
// check reports it (and does not report it for the real template).
func TestChecksDetectMutations(t *testing.T) {
	st := mustStack(t)
	forFunction := func(id string, c functionCheck) stackCheck {
		sp := specByID(t, id)
		return func(s *stack) []string { return c(s, sp) }
	}
	tests := []struct {
		name, old, new string
		check          stackCheck
		want           []string
	}{
		{
			name:  "env var renamed",
			old:   "API_KEY_SECRET_ID: !Ref VideoApiKeySecret",
			new:   "API_KEY_SECRETID: !Ref VideoApiKeySecret",
			check: forFunction("VideoFunction", checkEnvironment),
			want:  []string{"API_KEY_SECRET_ID = <unset>", "API_KEY_SECRETID is set"},
		},
		{
			name:  "global env var misspelt",
			old:   "FUSIONAUTH_TENANT_ID: !Ref FusionAuthTenantId",
			new:   "FUSIONAUTH_TENANTID: !Ref FusionAuthTenantId",
			check: forFunction("PruneFunction", checkEnvironment),
			want:  []string{"FUSIONAUTH_TENANT_ID = <unset>", "FUSIONAUTH_TENANTID is set"},
		},
		{
			name:  "policy reads another function's secret",
			old:   "Resource: !Ref VideoApiKeySecret",
			new:   "Resource: !Ref RegisterApiKeySecret",
			check: forFunction("VideoFunction", checkPolicy),
			want:  []string{"Resource = [Ref:RegisterApiKeySecret]"},
		},
		{
			name:  "secret readable by two functions",
			old:   "Resource: !Ref VideoApiKeySecret",
			new:   "Resource: !Ref RegisterApiKeySecret",
			check: checkSecretIsolation,
			want:  []string{"RegisterApiKeySecret readable by [RegisterFunction VideoFunction]", "VideoApiKeySecret readable by []"},
		},
		{
			name:  "wildcard action",
			old:   "Action: secretsmanager:GetSecretValue\n              Resource: !Ref PruneApiKeySecret",
			new:   "Action: \"secretsmanager:*\"\n              Resource: !Ref PruneApiKeySecret",
			check: forFunction("PruneFunction", checkPolicy),
			want:  []string{"wildcard \"secretsmanager:*\""},
		},
		{
			name:  "managed policy added",
			old:   "      Policies:\n        - Version: \"2012-10-17\"\n          Statement:\n            - Effect: Allow\n              Action: secretsmanager:GetSecretValue\n              Resource: !Ref WebhookApiKeySecret",
			new:   "      Policies:\n        - AWSLambdaBasicExecutionRole\n        - Version: \"2012-10-17\"\n          Statement:\n            - Effect: Allow\n              Action: secretsmanager:GetSecretValue\n              Resource: !Ref WebhookApiKeySecret",
			check: forFunction("WebhookFunction", checkPolicy),
			want:  []string{"managed policy"},
		},
		{
			name:  "webhook timeout too long",
			old:   "Timeout: 5",
			new:   "Timeout: 30",
			check: forFunction("WebhookFunction", checkTimeouts),
			want:  []string{"Timeout = 30 s, want 1..10 s"},
		},
		{
			name:  "global timeout beyond API Gateway's",
			old:   "    Timeout: 10\n",
			new:   "    Timeout: 60\n",
			check: forFunction("RegisterFunction", checkTimeouts),
			want:  []string{"Timeout = 60 s, want 1..29 s"},
		},
		{
			name:  "prune concurrency",
			old:   "ReservedConcurrentExecutions: 1",
			new:   "ReservedConcurrentExecutions: 2",
			check: forFunction("PruneFunction", checkTimeouts),
			want:  []string{"ReservedConcurrentExecutions = 2, want 1"},
		},
		{
			name:  "hourly schedule",
			old:   "cron(15 3 * * ? *)",
			new:   "cron(15 * * * ? *)",
			check: forFunction("PruneFunction", checkEvents),
			want:  []string{`Schedule = "cron(15 * * * ? *)"`},
		},
		{
			name:  "payload format 1.0",
			old:   "Path: /register\n            PayloadFormatVersion: \"2.0\"\n            RouteSettings",
			new:   "Path: /register\n            PayloadFormatVersion: \"1.0\"\n            RouteSettings",
			check: forFunction("RegisterFunction", checkEvents),
			want:  []string{"PayloadFormatVersion = 1.0, want 2.0"},
		},
		{
			name:  "route moved",
			old:   "Method: GET\n            Path: /video",
			new:   "Method: GET\n            Path: /videos",
			check: forFunction("VideoFunction", checkEvents),
			want:  []string{"route GET /videos", "route GET /video = <missing>"},
		},
		{
			name:  "misspelt event property",
			old:   "Method: POST",
			new:   "Methods: POST",
			check: forFunction("RegisterFunction", checkEvents),
			want:  []string{"do not decode as an HttpApi event"},
		},
		{
			name:  "webhook URL with IAM auth",
			old:   "AuthType: NONE",
			new:   "AuthType: AWS_IAM",
			check: forFunction("WebhookFunction", checkEvents),
			want:  []string{"AuthType = AWS_IAM, want NONE"},
		},
		{
			name:  "architectures repeated on a function",
			old:   "CodeUri: functions/prune/",
			new:   "CodeUri: functions/prune/\n      Architectures: [arm64]",
			check: forFunction("PruneFunction", checkBuild),
			want:  []string{"Architectures (Globals + function, as SAM concatenates them) = [arm64 arm64]"},
		},
		{
			name:  "code uri typo",
			old:   "CodeUri: functions/video/",
			new:   "CodeUri: functions/videos/",
			check: forFunction("VideoFunction", checkBuild),
			want:  []string{`CodeUri = "functions/videos/", want "functions/video/"`},
		},
		{
			name:  "log group name typo",
			old:   `LogGroupName: !Sub "/aws/lambda/${AWS::StackName}-prune"`,
			new:   `LogGroupName: !Sub "/aws/lambda/${AWS::StackName}-prunes"`,
			check: forFunction("PruneFunction", checkLogGroup),
			want:  []string{"want exactly one"},
		},
		{
			name:  "log retention invalid",
			old:   "  LogRetentionDays:\n    Type: Number\n    Default: 30",
			new:   "  LogRetentionDays:\n    Type: Number\n    Default: 31",
			check: forFunction("VideoFunction", checkLogGroup),
			want:  []string{"RetentionInDays = 31 (default of Ref:LogRetentionDays)"},
		},
		{
			name:  "no default throttling",
			old:   "      DefaultRouteSettings:\n        ThrottlingRateLimit: !Ref ThrottleRateLimit\n        ThrottlingBurstLimit: !Ref ThrottleBurstLimit\n",
			new:   "",
			check: checkHTTPAPI,
			want:  []string{"DefaultRouteSettings throttling = <unset>"},
		},
		{
			name:  "key as a parameter default",
			old:   "    Default: anon_user",
			new:   "    Default: 4737ea8520bd454caabb7cb3d36e14bc1832c0d3f70a4189b82598670f11b1bd",
			check: checkNoSecretValues,
			want:  []string{"parameter CookieName Default"},
		},
		{
			name:  "dev key as an environment value",
			old:   "WEBHOOK_SECRET_HEADER: X-Webhook-Secret",
			new:   "WEBHOOK_SECRET_HEADER: webhook-api-key-dev-only-not-for-prod-9c8b7a6f5e4d3c2b1a09",
			check: checkNoSecretValues,
			want:  []string{"WebhookFunction environment WEBHOOK_SECRET_HEADER", "contains kickstart's webhookApiKey value"},
		},
		{
			name:  "webhook URL output",
			old:   "!GetAtt WebhookFunctionUrl.FunctionUrl",
			new:   "!GetAtt WebhookFunction.Arn",
			check: checkOutputs,
			want:  []string{"output WebhookURL = GetAtt:WebhookFunction.Arn"},
		},
	}
	original, err := os.ReadFile(filepath.Join(st.root, "template.yaml"))
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if left := missing(tc.check(st), tc.want); len(left) != len(tc.want) {
				t.Fatalf("the real template already reports %v, want none of %v", tc.check(st), tc.want)
			}
			path := filepath.Join(t.TempDir(), "template.yaml")
			if err := os.WriteFile(path, []byte(mutate(t, string(original), tc.old, tc.new)), 0o600); err != nil {
				t.Fatalf("write mutated template: %v", err)
			}
			broken, err := parseTemplate(path)
			if err != nil {
				t.Fatalf("parse mutated template: %v", err)
			}
			broken.root = st.root
			got := tc.check(broken)
			if left := missing(got, tc.want); len(left) > 0 {
				t.Errorf("problems = %q, want ones containing %q", got, left)
			}
		})
	}
}

// TestSAMConfigCheckDetectsMutations proves the samconfig.toml check can fail.
func TestSAMConfigCheckDetectsMutations(t *testing.T) {
	st := mustStack(t)
	b, err := os.ReadFile(filepath.Join(st.root, "samconfig.toml"))
	if err != nil {
		t.Fatalf("read samconfig.toml: %v", err)
	}
	ks, err := kickstartSecrets(st.root)
	if err != nil {
		t.Fatal(err)
	}
	original := string(b)
	tests := []struct {
		name, old, new string
		want           []string
	}{
		{"cached builds", "parallel = true", "parallel = true\ncached = true", []string{"cached = true"}},
		{"no changeset confirmation", "resolve_s3 = true\nconfirm_changeset = true\nparameter_overrides = [\n  \"FusionAuthURL=https://auth.dev", "resolve_s3 = true\nconfirm_changeset = false\nparameter_overrides = [\n  \"FusionAuthURL=https://auth.dev", []string{`confirm_changeset = "false", want true`}},
		{"no stack name", "stack_name = \"anon-users-dev\"", "", []string{"stack_name = <unset>"}},
		{"overrides a misspelt parameter", "\"FusionAuthTenantId=d7d09513", "\"FusionAuthTenantID=d7d09513", []string{"names FusionAuthTenantID", "lacks FusionAuthTenantId"}},
		{"key in overrides", "  \"RegisterRedirectURI=https://dev.changebank.example/video\",\n", "  \"RegisterRedirectURI=https://dev.changebank.example/video\",\n  \"CookieName=video-api-key-dev-only-not-for-prod-0f1e2d3c4b5a69788796\",\n", []string{"CookieName = ", "contains kickstart's videoApiKey value"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if base := samConfigProblems(original, st.tmpl.Parameters, ks); len(missing(base, tc.want)) != len(tc.want) {
				t.Fatalf("the real samconfig.toml already reports %v, want none of %v", base, tc.want)
			}
			got := samConfigProblems(mutate(t, original, tc.old, tc.new), st.tmpl.Parameters, ks)
			if left := missing(got, tc.want); len(left) > 0 {
				t.Errorf("problems = %q, want ones containing %q", got, left)
			}
		})
	}
}

func TestIsDaily(t *testing.T) {
	tests := map[string]bool{
		"rate(1 day)":          true,
		"cron(15 3 * * ? *)":   true,
		"cron(0 0 ? * * *)":    true,
		"rate(1 hour)":         false,
		"rate(2 days)":         false,
		"cron(15 * * * ? *)":   false,
		"cron(*/5 3 * * ? *)":  false,
		"cron(15 3 * * * *)":   false, // AWS needs "?" in one day field
		"cron(15 3 1 * ? *)":   false, // monthly
		"cron(15 3 ? * MON *)": false, // weekly
		"cron(75 3 * * ? *)":   false,
		"cron(15 3 * * ?)":     false,
	}
	for expr, want := range tests {
		t.Run(expr, func(t *testing.T) {
			if got := isDaily(expr); got != want {
				t.Errorf("isDaily(%q) = %v, want %v", expr, got, want)
			}
		})
	}
}

func TestLooksSecret(t *testing.T) {
	tests := map[string]bool{
		"anon_user": false,
		"https://storage.googleapis.com/gtv-videos-bucket/sample/ForBiggerJoyrides.mp4": false,
		"d7d09513-a3f5-401c-9685-34ab6c552453":                                          false,
		"REPLACE-with-the-production-cookie-signing-key-id":                             false,
		"X-Webhook-Secret":      false,
		"Ref:VideoApiKeySecret": false,
		"4737ea8520bd454caabb7cb3d36e14bc1832c0d3f70a4189b82598670f11b1bd": true,
		"password-dev-only-not-for-prod":                                   true,
		"bf69486b4733_4470a592-f1bfce7af580Xy":                             true,
	}
	for v, want := range tests {
		t.Run(v, func(t *testing.T) {
			if got := looksSecret(v); got != want {
				t.Errorf("looksSecret(%q) = %v, want %v", v, got, want)
			}
		})
	}
}

func TestParseSAMConfig(t *testing.T) {
	text := "version = 0.1\n[a.b]\nx = \"y # not a comment\" # comment\nflag = true\nlist = [\n  \"p=1\",\n  \"q=2\", # c\n]\n"
	cfg, err := parseSAMConfig(text)
	if err != nil {
		t.Fatalf("parseSAMConfig: %v", err)
	}
	tests := []struct {
		section, key string
		want         tomlValue
	}{
		{"", "version", tomlValue{scalar: "0.1"}},
		{"a.b", "x", tomlValue{scalar: "y # not a comment"}},
		{"a.b", "flag", tomlValue{scalar: "true"}},
		{"a.b", "list", tomlValue{list: []string{"p=1", "q=2"}, isList: true}},
	}
	for _, tc := range tests {
		t.Run(tc.section+"/"+tc.key, func(t *testing.T) {
			got := cfg[tc.section][tc.key]
			if got.scalar != tc.want.scalar || got.isList != tc.want.isList || !slices.Equal(got.list, tc.want.list) {
				t.Errorf("%s.%s = %+v, want %+v", tc.section, tc.key, got, tc.want)
			}
		})
	}
}
