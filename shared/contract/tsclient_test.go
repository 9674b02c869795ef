package contract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/kickstart"
)

// tsClientEnv names the directory of an installed @fusionauth/typescript-client; the
// default is where .ci/run installs it, .tools/node/node_modules/@fusionauth/typescript-client
// under the module root.
const tsClientEnv = "FUSIONAUTH_TS_CLIENT_DIR"

// tsClientVersion is the client's version: FusionAuth 1.69's, as .ci/run installs it.
const tsClientVersion = "1.69.0"

// requireTypeScriptClient returns node and the directory of FusionAuth's official
// TypeScript client. Either missing skips the test, or fails it under CI=true, where
// .ci/run has installed both.
func requireTypeScriptClient(t *testing.T) (node, pkg string) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...) + " (install: npm install --prefix .tools/node --save-exact @fusionauth/typescript-client@1.69.0, as .ci/run does)"
		if onCI() {
			t.Fatalf("CI=true: %s", msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed: %v", err)
	}
	pkg = os.Getenv(tsClientEnv)
	if pkg == "" {
		root, err := kickstart.ModuleRoot()
		if err != nil {
			t.Fatalf("module root: %v", err)
		}
		pkg = filepath.Join(root, ".tools", "node", "node_modules", "@fusionauth", "typescript-client")
	}
	manifest, err := os.ReadFile(filepath.Join(pkg, "package.json"))
	if err != nil {
		missing("FusionAuth's TypeScript client is not installed at %s (or %s): %v", pkg, tsClientEnv, err)
	}
	var meta struct{ Name, Version string }
	if err := json.Unmarshal(manifest, &meta); err != nil || meta.Name != "@fusionauth/typescript-client" || meta.Version != tsClientVersion {
		t.Fatalf("%s: package %q version %q (%v), want @fusionauth/typescript-client %s", pkg, meta.Name, meta.Version, err, tsClientVersion)
	}
	return node, pkg
}

// tsResult is what the script reports for one search.
type tsResult struct {
	StatusCode int                     `json:"statusCode"`
	Response   faclient.SearchResponse `json:"response"`
	Exception  json.RawMessage         `json:"exception"`
}

// runTypeScriptSearches runs searches with the official client against the target and
// returns one result per search.
func runTypeScriptSearches(t *testing.T, e *env, node, pkg string, searches []map[string]any) []tsResult {
	t.Helper()
	input, err := json.Marshal(map[string]any{
		"url": e.baseURL, "apiKey": e.adminKey, "tenantId": e.variable(t, "visitorTenantId"), "searches": searches,
	})
	if err != nil {
		t.Fatalf("encode searches: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "tsclient-search.cjs"), pkg)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node tsclient-search.cjs: %v\nstderr: %s", err, stderr.Bytes())
	}
	var results []tsResult
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(searches) {
		t.Fatalf("script output %q: %v, want %d results", out, err, len(searches))
	}
	return results
}

// TestOfficialTypeScriptClientSearch: FusionAuth's official TypeScript client
// (@fusionauth/typescript-client 1.69.0, the one official client reachable here) calls
// searchUsersByQuery with a queryString and with an Elasticsearch bool/match query, and
// gets 200 with the right users and totals: requests and parsing nobody here wrote
// (issue 21: the compatible server refused the match clause with 400).
func TestOfficialTypeScriptClientSearch(t *testing.T) {
	node, pkg := requireTypeScriptClient(t)
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		run := randomHex(8)
		users := map[string]faclient.User{}
		for _, f := range []struct {
			letter     string
			anonymous  bool
			watchCount int
		}{{"a", true, 1}, {"b", true, 5}, {"c", false, 2}, {"d", true, 3}} {
			u := faclient.User{Username: "ts-" + run + "-" + f.letter, Password: testPassword,
				Data: map[string]any{"contractRun": run, "anonymousUser": f.anonymous, "watchCount": f.watchCount}}
			users[f.letter] = e.createUser(t, faclient.UserRequest{User: u}).User
		}
		refreshSearchIndex(t, e)
		byUsername := []any{map[string]any{"name": "username", "order": "asc"}}
		boolMatch := esQuery(t, map[string]any{"bool": map[string]any{"must": []any{
			map[string]any{"match": map[string]any{"data.contractRun": run}},
			map[string]any{"match": map[string]any{"data.anonymousUser": true}},
		}}})
		tests := []struct {
			name      string
			search    map[string]any
			want      []string
			wantTotal int64
		}{
			{"queryString", map[string]any{"queryString": "data.contractRun:" + run + " AND data.anonymousUser:true", "sortFields": byUsername},
				[]string{"a", "b", "d"}, 3},
			{"queryString, paged", map[string]any{"queryString": "data.contractRun:" + run, "sortFields": byUsername, "numberOfResults": 2, "startRow": 1},
				[]string{"b", "c"}, 4},
			{"bool/match query", map[string]any{"query": boolMatch, "sortFields": byUsername, "accurateTotal": true},
				[]string{"a", "b", "d"}, 3},
		}
		searches := make([]map[string]any, len(tests))
		for i, tc := range tests {
			searches[i] = map[string]any{"search": tc.search}
		}
		results := runTypeScriptSearches(t, e, node, pkg, searches)
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := results[i]
				if r.StatusCode != 200 {
					t.Fatalf("statusCode = %d (exception %s), want 200", r.StatusCode, r.Exception)
				}
				if got := lettersOf(r.Response.Users, users); !slices.Equal(got, tc.want) || r.Response.Total != tc.wantTotal {
					t.Errorf("users = %v, total = %d, want %v, %d", got, r.Response.Total, tc.want, tc.wantTotal)
				}
				if r.Response.NextResults == "" {
					t.Errorf("nextResults missing: the Elasticsearch engine returns one with every search (§8)")
				}
			})
		}
	})
}
