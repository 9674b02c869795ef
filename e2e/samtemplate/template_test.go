package samtemplate_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/changebank/anonuser/shared/kickstart"
)

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
	root, err := kickstart.ModuleRoot()
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
	{"defaults match config", checkDefaults},
	{"prune keeps up", checkPruneKeepsUp},
	{"client limits table", checkLimitsTable},
	{"dashboard", checkDashboard},
	{"alarms", checkAlarms},
}

// reportProblems fails tb once per problem.
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
