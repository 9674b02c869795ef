package samtemplate_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/config"
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
	cookie bool   // sets or reads the visitor cookie: may read the cookie keys' secret
	limits bool   // counts per-client events: may update the client limits table
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
		id: "VideoFunction", name: "video", secret: "VideoApiKeySecret", cookie: true, limits: true, loader: "LoadVideo",
		load: func(e *config.Env) error { _, err := config.LoadVideo(e); return err },
		routes: []route{
			{method: "GET", path: "/video", throttled: true}, // the route that creates stubs
			{method: "HEAD", path: "/video", optional: true},
			{method: "POST", path: "/video/progress"}, // watch time, capped by the visit
		},
		minTimeout: 1, maxTimeout: apiGatewayTimeout,
	},
	{
		id: "RegisterFunction", name: "register", secret: "RegisterApiKeySecret", cookie: true, limits: true, loader: "LoadRegister",
		load: func(e *config.Env) error { _, err := config.LoadRegister(e); return err },
		routes: []route{
			{method: "GET", path: "/register"},
			{method: "POST", path: "/register", throttled: true},
			{method: "GET", path: "/login"},
			{method: "GET", path: "/callback"},
			{method: "GET", path: "/logout"},
			{method: "GET", path: "/me"},
			{method: "GET", path: "/me/data.json"},
			{method: "POST", path: "/me/forget"},
		},
		minTimeout: 1, maxTimeout: apiGatewayTimeout,
	},
	{
		id: "WebhookFunction", name: "webhook", secret: "WebhookApiKeySecret", loader: "LoadWebhook",
		load:        func(e *config.Env) error { _, err := config.LoadWebhook(e); return err },
		functionURL: true,
		minTimeout:  1, maxTimeout: 10,
		reserved: 10, // a public URL: a flood must not take video's and register's concurrency
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

// functionCheck inspects one function and returns its problems in got/want form.
type functionCheck func(st *stack, sp spec) []string

var functionChecks = []struct {
	name string
	run  functionCheck
}{
	{"build", checkBuild},
	{"timeouts", checkTimeouts},
	{"routes", checkRoutes},
	{"schedule", checkSchedule},
	{"function URL", checkFunctionURL},
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

// parameterDefaults maps template parameters to the Go default they must equal: a default
// is written once, in package config, and the template's copy is checked against it.
var parameterDefaults = map[string]string{
	"CookieName":             config.DefaultCookieName,
	"VideoURL":               config.DefaultVideoURL,
	"VideoSeconds":           strconv.Itoa(config.DefaultVideoSeconds),
	"RetentionDays":          strconv.Itoa(config.DefaultRetentionDays),
	"RetentionOneVisitDays":  strconv.Itoa(config.DefaultOneVisitDays),
	"PendingEmailDays":       strconv.Itoa(config.DefaultPendingEmailDays),
	"PruneMaxPerRun":         strconv.Itoa(config.DefaultMaxPerRun),
	"RegisterEmailsPerHour":  strconv.Itoa(config.DefaultEmailsPerHour),
	"RegisterEmailsPerDay":   strconv.Itoa(config.DefaultEmailsPerDay),
	"StubsPerClientHour":     strconv.Itoa(config.DefaultStubsPerClientHour),
	"StubsPerDay":            strconv.Itoa(config.DefaultStubsPerDay),
	"RegistersPerClientHour": strconv.Itoa(config.DefaultRegistersPerClientHour),
}

// literalDefaults maps environment variables the template sets to a literal to the Go
// default they must equal.
var literalDefaults = map[string]string{
	"WEBHOOK_SECRET_HEADER": config.DefaultSecretHeader,
	"PRUNE_BATCH_SIZE":      strconv.Itoa(config.DefaultBatchSize),
}

// checkDefaults compares the template's defaults with package config's.
func checkDefaults(st *stack) []string {
	var p []string
	for _, name := range slices.Sorted(maps.Keys(parameterDefaults)) {
		want := parameterDefaults[name]
		prm, ok := st.tmpl.Parameters[name]
		if !ok {
			p = append(p, fmt.Sprintf("parameter %s = <missing>, want one defaulting to %q", name, want))
			continue
		}
		if got := tomlScalar(prm.Default); got != want {
			p = append(p, fmt.Sprintf("parameter %s Default = %q, want config's %q", name, got, want))
		}
	}
	for _, sp := range specs {
		fn, err := st.function(sp.id)
		if err != nil || fn.Environment == nil {
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(literalDefaults)) {
			if got, ok := fn.Environment.Variables[name]; ok && got != literalDefaults[name] {
				p = append(p, fmt.Sprintf("%s environment %s = %q, want config's default %q", sp.id, name, got, literalDefaults[name]))
			}
		}
	}
	return p
}
