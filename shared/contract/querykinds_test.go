package contract_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/changebank/anonuser/shared/faclient"
)

// registeredUser creates a user of the fixture run registered to the kickstart's
// application (POST /api/user/registration, user and registration in one call) and
// deletes it when the test ends.
func registeredUser(t testing.TB, e *env, run, letter string) faclient.User {
	t.Helper()
	resp := e.raw(t, http.MethodPost, "/api/user/registration", e.adminKey, map[string]any{
		"user": map[string]any{"username": "contract-" + run + "-" + letter, "password": testPassword,
			"data": map[string]any{"contractRun": run, "x": letter}},
		"registration": map[string]any{"applicationId": e.variable(t, "applicationId")},
	})
	if resp.Status != http.StatusOK {
		t.Fatalf("register: status %d (%s), want 200", resp.Status, resp.Body)
	}
	var body struct {
		User faclient.User `json:"user"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		t.Fatalf("decode registration: %v", err)
	}
	e.cleanupUser(t, body.User.ID)
	refreshSearchIndex(t, e)
	return body.User
}

// TestSearchQueryKinds: one Elasticsearch query of each kind this project's docs and
// tests rely on, each inside a bool filter on the fixture's run (§8): match_all, match,
// match_phrase, term, terms, range, exists, ids, wildcard, prefix, constant_score, bool
// (must, filter, should with minimum_should_match, must_not) and nested on registrations
// (FusionAuth's docs: registrations is nested, "available using the nested query type").
func TestSearchQueryKinds(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		run, users := searchFixture(t, e, []searchUser{
			{letter: "a", x: "alpha one"},
			{letter: "b", x: "beta two"},
			{letter: "c", x: "alpha two", email: true},
		})
		users["r"] = registeredUser(t, e, run, "r")
		app := e.variable(t, "applicationId")
		scoped := func(clause string) string {
			return fmt.Sprintf(`{"bool":{"filter":[{"term":{"data.contractRun":%q}},%s]}}`, run, clause)
		}
		tests := map[string]struct {
			query string
			want  []string
		}{
			"match_all":                   {scoped(`{"match_all":{}}`), []string{"a", "b", "c", "r"}},
			"match, any word":             {scoped(`{"match":{"data.x":"ALPHA three"}}`), []string{"a", "c"}},
			"match, operator and":         {scoped(`{"match":{"data.x":{"query":"two alpha","operator":"and"}}}`), []string{"c"}},
			"match_phrase":                {scoped(`{"match_phrase":{"data.x":"alpha two"}}`), []string{"c"}},
			"match_phrase out of order":   {scoped(`{"match_phrase":{"data.x":"two alpha"}}`), nil},
			"term on a data word":         {scoped(`{"term":{"data.x":"beta"}}`), []string{"b"}},
			"term on a keyword sub-field": {scoped(`{"term":{"data.x.keyword":"beta two"}}`), []string{"b"}},
			"terms":                       {scoped(fmt.Sprintf(`{"terms":{"username":["contract-%[1]s-a","contract-%[1]s-r","nobody"]}}`, run)), []string{"a", "r"}},
			"range on an instant":         {scoped(fmt.Sprintf(`{"range":{"insertInstant":{"gte":%d}}}`, users["b"].InsertInstant)), without([]string{"a", "b", "c", "r"}, before(users, users["b"].InsertInstant))},
			"exists":                      {scoped(`{"exists":{"field":"email"}}`), []string{"c"}},
			"ids":                         {scoped(fmt.Sprintf(`{"ids":{"values":[%q]}}`, users["b"].ID)), []string{"b"}},
			"wildcard":                    {scoped(`{"wildcard":{"data.x":"alph*"}}`), []string{"a", "c"}},
			"prefix":                      {scoped(fmt.Sprintf(`{"prefix":{"username":"contract-%s-"}}`, run)), []string{"a", "b", "c", "r"}},
			"constant_score":              {scoped(`{"constant_score":{"filter":{"exists":{"field":"email"}}}}`), []string{"c"}},
			"bool must_not":               {scoped(`{"bool":{"must_not":[{"match":{"data.x":"alpha"}}]}}`), []string{"b", "r"}},
			"bool should":                 {scoped(`{"bool":{"should":[{"match":{"data.x":"beta"}},{"exists":{"field":"email"}}]}}`), []string{"b", "c"}},
			"bool should, minimum 2":      {scoped(`{"bool":{"should":[{"match":{"data.x":"alpha"}},{"match":{"data.x":"two"}},{"exists":{"field":"email"}}],"minimum_should_match":2}}`), []string{"c"}},
			"bool must and filter":        {fmt.Sprintf(`{"bool":{"must":[{"match":{"data.x":"two"}}],"filter":[{"term":{"data.contractRun":%q}}]}}`, run), []string{"b", "c"}},
			"nested registrations":        {scoped(fmt.Sprintf(`{"nested":{"path":"registrations","query":{"bool":{"must":[{"match":{"registrations.applicationId":%q}}]}}}}`, app)), []string{"r"}},
			"nested, another application": {scoped(`{"nested":{"path":"registrations","query":{"match":{"registrations.applicationId":"00000000-0000-4000-8000-000000000000"}}}}`), nil},
		}
		asc := []faclient.SortField{{Name: "username"}}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				got, total := searchLetters(t, e, users, faclient.UserSearchCriteria{Query: tc.query, SortFields: asc})
				if !slices.Equal(got, tc.want) || total != int64(len(tc.want)) {
					t.Errorf("query %s: users = %v, total = %d, want %v, %d", tc.query, got, total, tc.want, len(tc.want))
				}
			})
		}
	})
}

// before returns the letters of the users inserted before instant ms.
func before(users map[string]faclient.User, ms int64) []string {
	var out []string
	for l, u := range users {
		if u.InsertInstant < ms {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}
