package samtemplate_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/awslabs/goformation/v7/cloudformation"
)

// samConfig is samconfig.toml read as section → key → value (strings unquoted,
// arrays as their list of strings). Sections are the dotted table names, e.g.
// "default.deploy.parameters"; "" holds the top-level keys.
type samConfig map[string]map[string]tomlValue

type tomlValue struct {
	scalar string
	list   []string
	isList bool
}

// parseSAMConfig decodes samconfig.toml with a TOML library and flattens its tables
// into samConfig.
func parseSAMConfig(text string) (samConfig, error) {
	var raw map[string]any
	if _, err := toml.Decode(text, &raw); err != nil {
		return nil, fmt.Errorf("samconfig.toml: %w", err)
	}
	cfg := samConfig{}
	flattenTOML(cfg, "", raw)
	return cfg, nil
}

// flattenTOML adds the keys of table (named section) to cfg and recurses into its
// sub-tables.
func flattenTOML(cfg samConfig, section string, table map[string]any) {
	if cfg[section] == nil {
		cfg[section] = map[string]tomlValue{}
	}
	for k, v := range table {
		switch x := v.(type) {
		case map[string]any:
			name := k
			if section != "" {
				name = section + "." + k
			}
			flattenTOML(cfg, name, x)
		case []any:
			list := make([]string, len(x))
			for i, e := range x {
				list[i] = tomlScalar(e)
			}
			cfg[section][k] = tomlValue{list: list, isList: true}
		default:
			cfg[section][k] = tomlValue{scalar: tomlScalar(x)}
		}
	}
}

// tomlScalar writes a decoded TOML scalar as it reads in the file, without quotes.
func tomlScalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
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
		{"key in overrides", "  \"RegisterRedirectURI=https://dev.changebank.example/callback\",\n", "  \"RegisterRedirectURI=https://dev.changebank.example/callback\",\n  \"CookieName=video-api-key-dev-only-not-for-prod-0f1e2d3c4b5a69788796\",\n", []string{"CookieName = ", "contains kickstart's videoApiKey value"}},
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

var invokeCommand = regexp.MustCompile(`sam local invoke (\w+) -e (\S+)`)

// TestDocsInvokeFixtures: every `sam local invoke <Function> -e <file>` in
// docs/operations.md ("Locally with a real FusionAuth") names a template function and
// that function's own event fixture, which exists.
func TestDocsInvokeFixtures(t *testing.T) {
	st := mustStack(t)
	doc, err := os.ReadFile(filepath.Join(st.root, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	commands := invokeCommand.FindAllStringSubmatch(string(doc), -1)
	if len(commands) == 0 {
		t.Fatal("docs/operations.md: got no `sam local invoke <Function> -e <file>`, want one per documented invoke")
	}
	for _, c := range commands {
		id, file := c[1], c[2]
		sp := specByID(t, id)
		if want := "functions/" + sp.name + "/testdata/"; !strings.HasPrefix(file, want) {
			t.Errorf("%s: event %s, want one of the function's own fixtures under %s", id, file, want)
		}
		if _, err := os.Stat(filepath.Join(st.root, file)); err != nil {
			t.Errorf("%s: event %s: %v", id, file, err)
		}
	}
}
