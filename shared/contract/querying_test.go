package contract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/kickstart"
)

// docQueryMarker finds the searches docs/querying.md gives: a JSON request body right
// after a <!-- query: name --> marker.
var docQueryMarker = regexp.MustCompile("(?s)<!-- query: ([a-z-]+) -->\\s*```json\\n(.*?)\\n```")

// readDocQueries reads the marked searches of docs/querying.md, strictly (a field the
// typed client does not know fails).
func readDocQueries(t testing.TB) map[string]faclient.SearchRequest {
	t.Helper()
	root, err := kickstart.ModuleRoot()
	if err != nil {
		t.Fatalf("module root: %v", err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "querying.md"))
	if err != nil {
		t.Fatalf("read docs/querying.md: %v", err)
	}
	out := map[string]faclient.SearchRequest{}
	for _, m := range docQueryMarker.FindAllSubmatch(doc, -1) {
		dec := json.NewDecoder(bytes.NewReader(m[2]))
		dec.DisallowUnknownFields()
		var req faclient.SearchRequest
		if err := dec.Decode(&req); err != nil {
			t.Fatalf("docs/querying.md query %s: %v\n%s", m[1], err, m[2])
		}
		out[string(m[1])] = req
	}
	return out
}

// scopeToRun narrows a search to the users of one fixture run, so that it can run on a
// shared FusionAuth: the queryString or the query is ANDed with data.contractRun.
func scopeToRun(t testing.TB, c faclient.UserSearchCriteria, run string) faclient.UserSearchCriteria {
	t.Helper()
	switch {
	case c.Query != "":
		c.Query = fmt.Sprintf(`{"bool":{"filter":[%s,{"term":{"data.contractRun":%q}}]}}`, c.Query, run)
	case c.QueryString != "":
		c.QueryString = "(" + c.QueryString + ") AND data.contractRun:" + run
	default:
		t.Fatalf("search %+v has neither query nor queryString", c)
	}
	return c
}

// TestQueryingForUsers runs every search of docs/querying.md ("Querying for users") on a
// population of profiles in each of the product's states, with the data keys of package
// anon, on both targets: the stand-in configured from kickstart/kickstart.json as the
// local stack is, and a real FusionAuth when configured.
func TestQueryingForUsers(t *testing.T) {
	queries := readDocQueries(t)
	// Letters: s stub, p pending (free address: on the user; taken: only asked for),
	// c converted, m merged into an account (converted or regular), r regular.
	want := map[string][]string{
		"anonymous":    {"p1", "p2", "s1", "s2"},
		"anonymous-es": {"p1", "p2", "s1", "s2"},
		"pending":      {"p1", "p2"},
		"pending-es":   {"p1", "p2"},
		"converted":    {"c1", "m1"},
		"merged":       {"m1", "m2"},
		"busiest":      {"m1", "p2", "m2", "s2", "c1", "p1", "s1", "r1"}, // by watchCount, descending
	}
	ordered := map[string]bool{"busiest": true}
	for name := range want {
		if _, ok := queries[name]; !ok {
			t.Errorf("docs/querying.md has no <!-- query: %s --> search", name)
		}
	}
	for name := range queries {
		if _, ok := want[name]; !ok {
			t.Errorf("docs/querying.md search %q has no expectation here", name)
		}
	}
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		run := randomHex(8)
		users := profileFixture(t, e, run)
		for name, req := range queries {
			t.Run(name, func(t *testing.T) {
				c := scopeToRun(t, req.Search, run)
				resp, err := e.admin.SearchUsersByQuery(context.Background(), faclient.SearchRequest{Search: c})
				if err != nil {
					t.Fatalf("search %+v: %v (codes %v)", c, err, errorCodes(err))
				}
				if resp.Total != int64(len(want[name])) {
					t.Errorf("total = %d, want %d", resp.Total, len(want[name]))
				}
				if !ordered[name] {
					// A count asks for a one-user page: list them all to check who matched.
					c.NumberOfResults = intPtr(100)
					if resp, err = e.admin.SearchUsersByQuery(context.Background(), faclient.SearchRequest{Search: c}); err != nil {
						t.Fatalf("search %+v: %v", c, err)
					}
				}
				got := lettersOf(resp.Users, users)
				if !ordered[name] {
					slices.Sort(got)
				}
				if !slices.Equal(got, want[name]) {
					t.Errorf("users = %v, want %v", got, want[name])
				}
			})
		}
	})
}

// profileFixture creates one user per product state, tagged with data.contractRun, and
// returns them by letter.
func profileFixture(t testing.TB, e *env, run string) map[string]faclient.User {
	t.Helper()
	now := e.now().UnixMilli()
	stub := func(watched int) faclient.User {
		// A stub's login is a random username (its name here is set below).
		return faclient.User{Password: testPassword, Data: map[string]any{anon.DataAnonymous: true, anon.DataWatchCount: watched}}
	}
	pendingFree := stub(2)
	pendingFree.Email = uniqueEmail("pending")
	pendingFree.Data[anon.DataEmailRequested] = pendingFree.Email
	pendingFree.Data[anon.DataEmailPending] = now
	pendingTaken := stub(7)
	pendingTaken.Data[anon.DataEmailRequested] = uniqueEmail("taken")
	pendingTaken.Data[anon.DataEmailPending] = now
	account := func(watched int, data map[string]any) faclient.User {
		d := map[string]any{anon.DataWatchCount: watched}
		for k, v := range data {
			d[k] = v
		}
		return faclient.User{Email: uniqueEmail("account"), Password: testPassword, Data: d}
	}
	merged := []any{"00000000-0000-4000-8000-" + randomHex(6)}
	fixture := map[string]faclient.User{
		"s1": stub(1),
		"s2": stub(4),
		"p1": pendingFree,
		"p2": pendingTaken,
		"c1": account(3, map[string]any{anon.DataAnonymous: false, anon.DataConvertedAt: now}),
		"m1": account(9, map[string]any{anon.DataAnonymous: false, anon.DataConvertedAt: now, anon.DataMergedStubs: merged}),
		"m2": account(6, map[string]any{anon.DataMergedStubs: merged}),
		"r1": account(0, nil),
	}
	users := map[string]faclient.User{}
	for l, u := range fixture {
		u.Data["contractRun"] = run
		if strings.HasPrefix(l, "s") || strings.HasPrefix(l, "p") {
			u.Username = "stub-" + run + "-" + l
		}
		users[l] = e.createUser(t, faclient.UserRequest{User: u}).User
	}
	refreshSearchIndex(t, e)
	return users
}

// TestQueryingDocLinked: the README links docs/querying.md and the stand-in's search notes
// it points to exist.
func TestQueryingDocLinked(t *testing.T) {
	root, err := kickstart.ModuleRoot()
	if err != nil {
		t.Fatalf("module root: %v", err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatalf("read README: %v", err)
	}
	if !bytes.Contains(readme, []byte("(docs/querying.md)")) {
		t.Errorf("README: no link to docs/querying.md")
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "querying.md"))
	if err != nil {
		t.Fatalf("read docs/querying.md: %v", err)
	}
	for _, m := range regexp.MustCompile(`\]\(([^)#:]+\.md)\)`).FindAllSubmatch(doc, -1) {
		if _, err := os.Stat(filepath.Join(root, "docs", string(m[1]))); err != nil {
			t.Errorf("docs/querying.md links %s: %v", m[1], err)
		}
	}
}
