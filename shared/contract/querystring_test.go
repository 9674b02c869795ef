package contract_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// searchLetters runs a search with the admin client and returns the letters of the
// fixture users found (in order; "?" for users outside the fixture) and the total.
func searchLetters(t testing.TB, e *env, users map[string]faclient.User, c faclient.UserSearchCriteria) ([]string, int64) {
	t.Helper()
	resp, err := e.admin.SearchUsersByQuery(context.Background(), faclient.SearchRequest{Search: c})
	if err != nil {
		t.Fatalf("search %+v: %v (codes %v)", c, err, errorCodes(err))
	}
	return lettersOf(resp.Users, users), resp.Total
}

// lettersOf maps users to their fixture letters.
func lettersOf(found []faclient.User, users map[string]faclient.User) []string {
	byID := map[string]string{}
	for l, u := range users {
		byID[u.ID] = l
	}
	var out []string
	for _, u := range found {
		l, ok := byID[u.ID]
		if !ok {
			l = "?"
		}
		out = append(out, l)
	}
	return out
}

// TestSearchQueryString: queryString is Lucene query-string syntax, passed to
// Elasticsearch after FusionAuth's documented pre-processing (§8; "Searching Users With
// Elasticsearch", QueryString Searches): field:value on data, AND/OR/NOT, + and -,
// parentheses, wildcards, _exists_, ranges on instants, a bare address taken for an email.
func TestSearchQueryString(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		run, users := searchFixture(t, e, []searchUser{
			{letter: "a", x: "a", at: 0},
			{letter: "b", x: "a", at: time.Minute},
			{letter: "c", x: "a", email: true, at: time.Minute},
			{letter: "d", x: "b", at: time.Minute},
			{letter: "e", x: "a", at: 2 * time.Hour},
		})
		scope := "data.contractRun:" + run
		cutoff := strconv.FormatInt(users["b"].LastUpdateInstant, 10)
		var upToB []string // users not updated after b (on compat: a, b, c, d)
		for _, l := range []string{"a", "b", "c", "d", "e"} {
			if users[l].LastUpdateInstant <= users["b"].LastUpdateInstant {
				upToB = append(upToB, l)
			}
		}
		tests := map[string]struct {
			queryString string
			want        []string
		}{
			"field:value":               {scope, []string{"a", "b", "c", "d", "e"}},
			"AND":                       {scope + " AND data.x:b", []string{"d"}},
			"AND NOT _exists_":          {scope + " AND NOT _exists_:email", []string{"a", "b", "d", "e"}},
			"OR in parentheses":         {scope + " AND (data.x:b OR username:contract-" + run + "-e)", []string{"d", "e"}},
			"+ and -":                   {"+" + scope + " -data.x:a", []string{"d"}},
			"wildcard":                  {"username:contract-" + run + "-*", []string{"a", "b", "c", "d", "e"}},
			"field exists with *":       {scope + " AND email:*", []string{"c"}},
			"range on an instant":       {scope + " AND lastUpdateInstant:[* TO " + cutoff + "]", upToB},
			"comparison on an instant":  {scope + " AND lastUpdateInstant:>" + cutoff, without([]string{"a", "b", "c", "d", "e"}, upToB)},
			"a bare address is email:":  {users["c"].Email, []string{"c"}},
			"no match":                  {scope + " AND data.x:zzz", nil},
			"case-insensitive values":   {"data.contractRun:" + run + " AND data.x:B", []string{"d"}},
			"field names are exact":     {"data.ContractRun:" + run, nil},
			"phrase on a data value":    {scope + ` AND data.x:"b"`, []string{"d"}},
			"NOT before a field clause": {scope + " AND NOT data.x:a", []string{"d"}},
		}
		asc := []faclient.SortField{{Name: "username"}}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				got, total := searchLetters(t, e, users, faclient.UserSearchCriteria{QueryString: tc.queryString, SortFields: asc})
				if !slices.Equal(got, tc.want) || total != int64(len(tc.want)) {
					t.Errorf("queryString %q: users = %v, total = %d, want %v, %d", tc.queryString, got, total, tc.want, len(tc.want))
				}
			})
		}
		t.Run("GET form", func(t *testing.T) {
			q := url.Values{"queryString": {scope + " AND NOT _exists_:email"}, "sortFields[0].name": {"username"}, "sortFields[0].order": {"desc"}, "numberOfResults": {"2"}}
			resp := e.raw(t, http.MethodGet, "/api/user/search?"+q.Encode(), e.adminKey, nil)
			if resp.Status != http.StatusOK {
				t.Fatalf("status = %d (%s), want 200", resp.Status, resp.Body)
			}
			var got faclient.SearchResponse
			if err := json.Unmarshal(resp.Body, &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if letters := lettersOf(got.Users, users); !slices.Equal(letters, []string{"e", "d"}) || got.Total != 4 {
				t.Errorf("users = %v, total = %d, want [e d], 4", letters, got.Total)
			}
		})
		t.Run("nextResults pages a queryString", func(t *testing.T) {
			resp, err := e.admin.SearchUsersByQuery(context.Background(), faclient.SearchRequest{Search: faclient.UserSearchCriteria{
				QueryString: scope, SortFields: asc, NumberOfResults: intPtr(3)}})
			if err != nil {
				t.Fatalf("search: %v", err)
			}
			got := lettersOf(resp.Users, users)
			next, err := e.admin.SearchUsersByQuery(context.Background(), faclient.SearchRequest{Search: faclient.UserSearchCriteria{
				NextResults: resp.NextResults, NumberOfResults: intPtr(3)}})
			if err != nil {
				t.Fatalf("next page: %v", err)
			}
			if got = append(got, lettersOf(next.Users, users)...); !slices.Equal(got, []string{"a", "b", "c", "d", "e"}) {
				t.Errorf("two pages = %v, want [a b c d e]", got)
			}
		})
		t.Run("bulk delete dry run by queryString", func(t *testing.T) {
			resp, err := e.admin.DeleteUsersByQuery(context.Background(), faclient.UserDeleteRequest{QueryString: scope + " AND data.x:b", DryRun: true})
			if err != nil {
				t.Fatalf("bulk delete: %v", err)
			}
			if resp.Total != 1 || len(resp.UserIDs) != 1 || resp.UserIDs[0] != users["d"].ID {
				t.Errorf("dry run = %+v, want only d (%s)", resp, users["d"].ID)
			}
		})
	})
}

// without returns the elements of all not in drop, in order.
func without(all, drop []string) []string {
	var out []string
	for _, s := range all {
		if !slices.Contains(drop, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestSearchIssue21Refusals: the searches the compatible server refused before issue 21
// (400 [UnsupportedRequest]) are answered as FusionAuth answers them: queryString "*"
// and "data.anonymousUser:true", and the Elasticsearch query match_all (the official
// TypeScript client's bool/match query is TestOfficialTypeScriptClientSearch). On a
// shared real FusionAuth other users may match too: there the fixture's users must be
// among the total and every user returned must match.
func TestSearchIssue21Refusals(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		run := randomHex(8)
		anonymous := 0
		for i, anon := range []bool{true, true, false} {
			data := map[string]any{"contractRun": run, "anonymousUser": anon}
			e.createUser(t, faclient.UserRequest{User: faclient.User{Username: "refusal-" + run + "-" + strconv.Itoa(i), Password: testPassword, Data: data}})
			if anon {
				anonymous++
			}
		}
		refreshSearchIndex(t, e)
		// On compat the visitors' tenant holds the fixture and the kickstart's regular user.
		everyone := int64(3 + 1)
		tests := map[string]struct {
			criteria  faclient.UserSearchCriteria
			wantTotal int64 // exactly on compat, at least on real
			check     func(u faclient.User) bool
		}{
			`queryString "*"`: {criteria: faclient.UserSearchCriteria{QueryString: "*", AccurateTotal: true}, wantTotal: everyone},
			`queryString "data.anonymousUser:true"`: {criteria: faclient.UserSearchCriteria{QueryString: "data.anonymousUser:true", AccurateTotal: true}, wantTotal: int64(anonymous),
				check: func(u faclient.User) bool { return u.Data["anonymousUser"] == true }},
			`query match_all`: {criteria: faclient.UserSearchCriteria{Query: `{"match_all":{}}`, AccurateTotal: true}, wantTotal: everyone},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				resp, err := e.admin.SearchUsersByQuery(context.Background(), faclient.SearchRequest{Search: tc.criteria})
				if err != nil {
					t.Fatalf("search: status %d, %v (codes %v), want 200", statusOf(err), err, errorCodes(err))
				}
				if e.compat() && resp.Total != tc.wantTotal || !e.compat() && resp.Total < tc.wantTotal {
					t.Errorf("total = %d, want %d (at least, on a shared FusionAuth)", resp.Total, tc.wantTotal)
				}
				if want := min(int(resp.Total), 25); len(resp.Users) != want {
					t.Errorf("users = %d, want %d (the default page)", len(resp.Users), want)
				}
				for _, u := range resp.Users {
					if tc.check != nil && !tc.check(u) {
						t.Errorf("user %s (data %v) does not match the query", u.ID, u.Data)
					}
				}
			})
		}
	})
}

// TestSearchQueryStringRefused: what Elasticsearch's query_string cannot parse is a 400
// with an Errors body, and a bulk delete with it deletes nothing (§7, §8).
func TestSearchQueryStringRefused(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		for name, qs := range map[string]string{"unbalanced parenthesis": "(data.x:a", "trailing operator": "data.x:a AND"} {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				_, err := e.admin.SearchUsersByQuery(context.Background(), faclient.SearchRequest{Search: faclient.UserSearchCriteria{QueryString: qs}})
				if got := statusOf(err); got != http.StatusBadRequest {
					t.Fatalf("status = %d (%v), want 400", got, err)
				}
				if fe, ok := asFAError(err); ok && len(fe.Errors.GeneralErrors)+len(fe.Errors.FieldErrors) == 0 {
					t.Errorf("400 without error details, want an Errors body")
				}
			})
		}
	})
}
