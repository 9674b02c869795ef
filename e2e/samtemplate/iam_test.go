package samtemplate_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation/serverless"
)

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
	wantTable := "<unset>"
	if sp.limits {
		wantTable = "Ref:" + limitsTable
	}
	if got := envVar(fn, "CLIENT_LIMITS_TABLE"); got != wantTable {
		p = append(p, fmt.Sprintf("CLIENT_LIMITS_TABLE = %s, want %s", got, wantTable))
	}
	switch {
	case sp.limits && len(statements) != 3:
		return append(p, fmt.Sprintf("policy statements = %d, want exactly 3 (its secrets, the profile leases, the client limits)", len(statements)))
	case !sp.limits && len(statements) != 2:
		return append(p, fmt.Sprintf("policy statements = %d, want exactly 2 (its secrets, the profile leases)", len(statements)))
	}
	p = append(p, checkLeaseStatement(statements[1])...)
	if sp.limits {
		p = append(p, checkLimitsStatement(statements[2])...)
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
	wantR := []string{want}
	if sp.cookie {
		wantR = append(wantR, "Ref:"+cookieKeysSecret)
	}
	if !slices.Equal(resources, wantR) {
		p = append(p, fmt.Sprintf("statement Resource = %v, want %v (the function's own API-key secret only, and the cookie keys' if it sets or reads the cookie)", resources, wantR))
	}
	for _, v := range append(actions, resources...) {
		if strings.Contains(v, "*") {
			p = append(p, fmt.Sprintf("statement has wildcard %q, want none", v))
		}
	}
	return p
}

// checkLeaseStatement: the second statement lets the function take and release profile
// leases (lock.DynamoDB: PutItem, DeleteItem) in the stack's one lease table, nothing
// else: no read, scan or table-wide action.
func checkLeaseStatement(s map[string]any) []string {
	var p []string
	for k := range s {
		if k != "Sid" && k != "Effect" && k != "Action" && k != "Resource" {
			p = append(p, fmt.Sprintf("lease statement key %s is present, want only Effect, Action, Resource", k))
		}
	}
	if got := fmt.Sprint(s["Effect"]); got != "Allow" {
		p = append(p, fmt.Sprintf("lease statement Effect = %s, want Allow", got))
	}
	if got, want := stringList(s["Action"]), []string{"dynamodb:PutItem", "dynamodb:DeleteItem"}; !slices.Equal(got, want) {
		p = append(p, fmt.Sprintf("lease statement Action = %v, want %v", got, want))
	}
	if got, want := stringList(s["Resource"]), []string{"GetAtt:ProfileLocksTable.Arn"}; !slices.Equal(got, want) {
		p = append(p, fmt.Sprintf("lease statement Resource = %v, want %v (the lease table only)", got, want))
	}
	return p
}

// limitsTable is the logical ID of the per-client counts' table.
const limitsTable = "ClientLimitsTable"

// envVar is a function's environment variable as the template sets it, or "<unset>".
func envVar(fn *serverless.Function, name string) string {
	if fn.Environment == nil {
		return "<unset>"
	}
	if v, ok := fn.Environment.Variables[name]; ok {
		return v
	}
	return "<unset>"
}

// checkLimitsStatement: the third statement of video and register lets them count in
// the client limits table (limit.DynamoDB: one conditional UpdateItem), nothing else:
// no read, so a stolen key of theirs learns nothing of other clients, and no delete.
func checkLimitsStatement(s map[string]any) []string {
	var p []string
	for k := range s {
		if k != "Sid" && k != "Effect" && k != "Action" && k != "Resource" {
			p = append(p, fmt.Sprintf("limits statement key %s is present, want only Effect, Action, Resource", k))
		}
	}
	if got := fmt.Sprint(s["Effect"]); got != "Allow" {
		p = append(p, fmt.Sprintf("limits statement Effect = %s, want Allow", got))
	}
	if got, want := stringList(s["Action"]), []string{"dynamodb:UpdateItem"}; !slices.Equal(got, want) {
		p = append(p, fmt.Sprintf("limits statement Action = %v, want %v", got, want))
	}
	if got, want := stringList(s["Resource"]), []string{"GetAtt:" + limitsTable + ".Arn"}; !slices.Equal(got, want) {
		p = append(p, fmt.Sprintf("limits statement Resource = %v, want %v (the limits table only)", got, want))
	}
	return p
}

// checkLimitsTable: the client limits table is on demand (a flood must not be
// throttled into failing open, nor cost a provisioned floor), keyed by the string id
// limit.DynamoDB writes, encrypted, and TTL deletes ended windows by expiresAt.
func checkLimitsTable(st *stack) []string {
	t, err := st.tmpl.GetDynamoDBTableWithName(limitsTable)
	if err != nil {
		return []string{fmt.Sprintf("%s = <missing>, want an AWS::DynamoDB::Table: %v", limitsTable, err)}
	}
	var p []string
	if got := fmt.Sprint(deref(t.BillingMode)); got != "PAY_PER_REQUEST" {
		p = append(p, fmt.Sprintf("%s BillingMode = %s, want PAY_PER_REQUEST", limitsTable, got))
	}
	if len(t.KeySchema) != 1 || t.KeySchema[0].AttributeName != "id" || t.KeySchema[0].KeyType != "HASH" {
		p = append(p, fmt.Sprintf("%s KeySchema = %+v, want one HASH key id", limitsTable, t.KeySchema))
	}
	if len(t.AttributeDefinitions) != 1 || t.AttributeDefinitions[0].AttributeName != "id" || t.AttributeDefinitions[0].AttributeType != "S" {
		p = append(p, fmt.Sprintf("%s AttributeDefinitions = %+v, want id of type S", limitsTable, t.AttributeDefinitions))
	}
	if ttl := t.TimeToLiveSpecification; ttl == nil || deref(ttl.AttributeName) != "expiresAt" || !ttl.Enabled {
		p = append(p, fmt.Sprintf("%s TimeToLiveSpecification = %+v, want expiresAt enabled (ended windows are deleted)", limitsTable, ttl))
	}
	if sse := t.SSESpecification; sse == nil || !sse.SSEEnabled {
		p = append(p, fmt.Sprintf("%s SSESpecification = <unset or off>, want SSEEnabled", limitsTable))
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
	var cookieReaders []string
	for _, sp := range specs {
		if sp.cookie {
			cookieReaders = append(cookieReaders, sp.id)
		}
	}
	sort.Strings(cookieReaders)
	if _, ok := secrets[cookieKeysSecret]; !ok {
		p = append(p, fmt.Sprintf("secret %s = <missing>, want an AWS::SecretsManager::Secret for the cookie keys", cookieKeysSecret))
	}
	for _, id := range ids {
		got := readers["Ref:"+id]
		sort.Strings(got)
		switch {
		case id == cookieKeysSecret && !slices.Equal(got, cookieReaders):
			p = append(p, fmt.Sprintf("secret %s readable by %v, want exactly %v (the functions that set or read the cookie)", id, got, cookieReaders))
		case id != cookieKeysSecret && len(got) != 1:
			p = append(p, fmt.Sprintf("secret %s readable by %v, want exactly one function", id, got))
		}
	}
	return p
}

// cookieKeysSecret is the logical ID of the cookie keys' secret.
const cookieKeysSecret = "CookieKeysSecret"

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
