package contract_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// searchUser is one user of a search fixture.
type searchUser struct {
	letter string        // username suffix, gives the sort order
	x      string        // data.x
	email  bool          // has an email
	at     time.Duration // created this long after the first user (compat clock)
}

// searchFixture creates users tagged with a fresh data.contractRun, so that searches
// see only them even on a shared real FusionAuth. It returns the run tag and the
// created users by letter.
func searchFixture(t testing.TB, e *env, users []searchUser) (string, map[string]faclient.User) {
	t.Helper()
	run := randomHex(8) // lower-case hex: one token for any analyzer
	start := e.now()
	out := map[string]faclient.User{}
	for _, su := range users {
		if e.compat() {
			e.clock.Advance(start.Add(su.at).Sub(e.clock.Now()))
		}
		u := faclient.User{
			Username: "contract-" + run + "-" + su.letter,
			Password: testPassword,
			Data:     map[string]any{"contractRun": run, "x": su.x},
		}
		if su.email {
			u.Email = uniqueEmail("search-" + su.letter)
		}
		out[su.letter] = e.createUser(t, faclient.UserRequest{User: u}).User
	}
	refreshSearchIndex(t, e)
	return run, out
}

// refreshSearchIndex makes the real FusionAuth's Elasticsearch index current
// (PUT /api/user/search, §8); the compatible server's search is always current.
func refreshSearchIndex(t testing.TB, e *env) {
	t.Helper()
	if e.compat() {
		return
	}
	if resp := e.raw(t, http.MethodPut, "/api/user/search", e.adminKey, nil); resp.Status != http.StatusOK {
		t.Fatalf("flush the search index: status %d, want 200", resp.Status)
	}
}

// esQuery encodes an Elasticsearch query as the JSON string FusionAuth takes.
func esQuery(t testing.TB, q map[string]any) string {
	t.Helper()
	b, err := json.Marshal(q)
	if err != nil {
		t.Fatalf("encode query: %v", err)
	}
	return string(b)
}

func termQuery(field string, value any) map[string]any {
	return map[string]any{"term": map[string]any{field: value}}
}

// TestSearchUsers: POST /api/user/search with an Elasticsearch bool query (term on
// data, must_not exists, range on lastUpdateInstant), a query string, ids, paging with
// numberOfResults/startRow, sorting, and the total of all matches (§8).
func TestSearchUsers(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		run, users := searchFixture(t, e, []searchUser{
			{letter: "a", x: "a", at: 0},
			{letter: "b", x: "a", at: time.Minute},
			{letter: "c", x: "a", email: true, at: time.Minute},
			{letter: "d", x: "b", at: time.Minute},
			{letter: "e", x: "a", at: 2 * time.Hour},
		})
		cutoff := users["b"].LastUpdateInstant
		// The users the bool query must find, from the instants the server returned
		// (on compat: a and b; e was updated two hours later).
		var boolWant []string
		for _, l := range []string{"a", "b", "c", "d", "e"} {
			u := users[l]
			if u.Data["x"] == "a" && u.Email == "" && u.LastUpdateInstant <= cutoff {
				boolWant = append(boolWant, l)
			}
		}
		if e.compat() && !slices.Equal(boolWant, []string{"a", "b"}) {
			t.Fatalf("fixture: bool query should select a and b, selects %v (clock not honoured?)", boolWant)
		}
		runQuery := esQuery(t, termQuery("data.contractRun", run))
		boolQuery := esQuery(t, map[string]any{"bool": map[string]any{
			"filter":   []any{termQuery("data.contractRun", run), termQuery("data.x", "a"), map[string]any{"range": map[string]any{"lastUpdateInstant": map[string]any{"lte": cutoff}}}},
			"must_not": []any{map[string]any{"exists": map[string]any{"field": "email"}}},
		}})
		asc := []faclient.SortField{{Name: "username", Order: "asc"}}
		desc := []faclient.SortField{{Name: "username", Order: "desc"}}
		tests := map[string]struct {
			criteria  faclient.UserSearchCriteria
			want      []string // letters, in order unless unordered
			unordered bool
			wantTotal int64
		}{
			"bool query":                 {criteria: faclient.UserSearchCriteria{Query: boolQuery, SortFields: asc}, want: boolWant, wantTotal: int64(len(boolWant))},
			"page 1":                     {criteria: faclient.UserSearchCriteria{Query: runQuery, SortFields: asc, NumberOfResults: intPtr(2)}, want: []string{"a", "b"}, wantTotal: 5},
			"page 2":                     {criteria: faclient.UserSearchCriteria{Query: runQuery, SortFields: asc, NumberOfResults: intPtr(2), StartRow: 2}, want: []string{"c", "d"}, wantTotal: 5},
			"last page":                  {criteria: faclient.UserSearchCriteria{Query: runQuery, SortFields: asc, NumberOfResults: intPtr(2), StartRow: 4}, want: []string{"e"}, wantTotal: 5},
			"past the end":               {criteria: faclient.UserSearchCriteria{Query: runQuery, SortFields: asc, NumberOfResults: intPtr(2), StartRow: 6}, want: nil, wantTotal: 5},
			"sort descending":            {criteria: faclient.UserSearchCriteria{Query: runQuery, SortFields: desc}, want: []string{"e", "d", "c", "b", "a"}, wantTotal: 5},
			"ids":                        {criteria: faclient.UserSearchCriteria{IDs: []string{users["c"].ID, users["a"].ID}}, want: []string{"a", "c"}, unordered: true, wantTotal: 2},
			"no match":                   {criteria: faclient.UserSearchCriteria{Query: esQuery(t, termQuery("data.contractRun", randomHex(8)))}, want: nil, wantTotal: 0},
			"default page size is 25 ok": {criteria: faclient.UserSearchCriteria{Query: runQuery, SortFields: asc}, want: []string{"a", "b", "c", "d", "e"}, wantTotal: 5},
		}
		byID := map[string]string{}
		for l, u := range users {
			byID[u.ID] = l
		}
		t.Run("GET form with ids", func(t *testing.T) {
			// §8: GET takes the same criteria as query parameters (ids repeated).
			q := url.Values{"ids": {users["b"].ID, users["d"].ID}}
			resp := e.raw(t, http.MethodGet, "/api/user/search?"+q.Encode(), e.adminKey, nil)
			if resp.Status != http.StatusOK {
				t.Fatalf("status = %d (%s), want 200", resp.Status, resp.Body)
			}
			var got faclient.SearchResponse
			if err := json.Unmarshal(resp.Body, &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			var letters []string
			for _, u := range got.Users {
				letters = append(letters, byID[u.ID])
			}
			sort.Strings(letters)
			if !slices.Equal(letters, []string{"b", "d"}) || got.Total != 2 {
				t.Errorf("users = %v, total = %d, want [b d], 2", letters, got.Total)
			}
		})
		t.Run("beyond the 10,000 window", func(t *testing.T) {
			// §8: startRow + numberOfResults past 10,000 is an error on Elasticsearch
			// (historically 503, issue #701), never a page.
			_, err := e.admin.SearchUsersByQuery(context.Background(), faclient.SearchRequest{Search: faclient.UserSearchCriteria{
				Query: runQuery, NumberOfResults: intPtr(25), StartRow: 9990,
			}})
			if got := statusOf(err); got != http.StatusBadRequest && got != http.StatusServiceUnavailable {
				t.Errorf("status = %d (%v), want an error (400 or 503)", got, err)
			}
		})
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				resp, err := e.admin.SearchUsersByQuery(context.Background(), faclient.SearchRequest{Search: tc.criteria})
				if err != nil {
					t.Fatalf("search: %v", err)
				}
				var got []string
				for _, u := range resp.Users {
					l, ok := byID[u.ID]
					if !ok {
						l = "?" + u.ID
					}
					got = append(got, l)
				}
				if tc.unordered {
					sort.Strings(got)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("users = %v, want %v", got, tc.want)
				}
				if resp.Total != tc.wantTotal {
					t.Errorf("total = %d, want %d", resp.Total, tc.wantTotal)
				}
				for _, u := range resp.Users {
					if want, ok := byID[u.ID]; ok && u.Username != users[want].Username {
						t.Errorf("user %s username = %q, want %q (full user objects, §8)", u.ID, u.Username, users[want].Username)
					}
				}
			})
		}
	})
}

func intPtr(n int) *int { return &n }

// TestSearchTotalCap: total stops at 10,000 unless accurateTotal is set, and a search
// without numberOfResults returns 25 users (§8). Seeding 10,001 users is only cheap on
// the compatible server.
func TestSearchTotalCap(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		tests := map[string]struct {
			accurate  bool
			wantTotal int64
		}{
			"capped":         {accurate: false, wantTotal: 10000},
			"accurate total": {accurate: true, wantTotal: 10001},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				e.requireCompat(t, "seeding 10,001 users needs the compatible server's PutUser")
				run := randomHex(8)
				for i := range 10001 {
					u := map[string]any{"username": fmt.Sprintf("cap-%s-%05d", run, i), "tenantId": e.variable(t, "visitorTenantId"), "data": map[string]any{"contractRun": run}}
					if err := e.srv.PutUser(u, testPassword); err != nil {
						t.Fatalf("seed user %d: %v", i, err)
					}
				}
				resp, err := e.admin.SearchUsersByQuery(context.Background(), faclient.SearchRequest{Search: faclient.UserSearchCriteria{
					Query: runTermQuery(run), AccurateTotal: tc.accurate,
				}})
				if err != nil {
					t.Fatalf("search: %v", err)
				}
				if resp.Total != tc.wantTotal || len(resp.Users) != 25 {
					t.Errorf("total = %d, users = %d, want %d, 25", resp.Total, len(resp.Users), tc.wantTotal)
				}
			})
		}
	})
}

// TestBulkDeleteUsers: DELETE /api/user/bulk by query, ids (JSON body or repeated
// userId parameters) and dry run: the answer lists exactly the matching ids and their
// total, omits userIds when nothing matched, and only a real run acts: hard delete
// removes, the default deactivates (§7).
func TestBulkDeleteUsers(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		fixture := []searchUser{{letter: "a", x: "a"}, {letter: "b", x: "a", email: true}, {letter: "c", x: "b"}}
		tests := map[string]struct {
			req         func(run string, u map[string]faclient.User) faclient.UserDeleteRequest
			queryForm   func(run string, u map[string]faclient.User) url.Values // raw call with parameters instead
			want        []string                                                // letters reported
			wantGone    []string                                                // hard-deleted afterwards
			wantOff     []string                                                // deactivated afterwards
			wantNoIDKey bool
		}{
			"dry run by query": {
				req: func(run string, _ map[string]faclient.User) faclient.UserDeleteRequest {
					return faclient.UserDeleteRequest{Query: runTermQuery(run), DryRun: true, HardDelete: true}
				},
				want: []string{"a", "b", "c"},
			},
			"by query deletes exactly the matches": {
				req: func(run string, _ map[string]faclient.User) faclient.UserDeleteRequest {
					return faclient.UserDeleteRequest{Query: runAndXQuery(run, "a"), HardDelete: true}
				},
				want: []string{"a", "b"}, wantGone: []string{"a", "b"},
			},
			"by ids": {
				req: func(_ string, u map[string]faclient.User) faclient.UserDeleteRequest {
					return faclient.UserDeleteRequest{UserIDs: []string{u["c"].ID}, HardDelete: true}
				},
				want: []string{"c"}, wantGone: []string{"c"},
			},
			"ids win over the query": {
				req: func(run string, u map[string]faclient.User) faclient.UserDeleteRequest {
					return faclient.UserDeleteRequest{UserIDs: []string{u["a"].ID}, Query: runTermQuery(run), HardDelete: true}
				},
				want: []string{"a"}, wantGone: []string{"a"},
			},
			"default deactivates": {
				req: func(_ string, u map[string]faclient.User) faclient.UserDeleteRequest {
					return faclient.UserDeleteRequest{UserIDs: []string{u["b"].ID}}
				},
				want: []string{"b"}, wantOff: []string{"b"},
			},
			"nothing matches": {
				req: func(string, map[string]faclient.User) faclient.UserDeleteRequest {
					return faclient.UserDeleteRequest{Query: runTermQuery(randomHex(8)), HardDelete: true}
				},
				want: nil, wantNoIDKey: true,
			},
			"query-string form, repeated userId, dry run": {
				queryForm: func(_ string, u map[string]faclient.User) url.Values {
					return url.Values{"userId": {u["a"].ID, u["c"].ID}, "dryRun": {"true"}, "hardDelete": {"true"}}
				},
				want: []string{"a", "c"},
			},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				run, users := searchFixture(t, e, fixture)
				byID := map[string]string{}
				for l, u := range users {
					byID[u.ID] = l
				}
				var resp faclient.UserDeleteResponse
				var wantDryRun, wantHard bool
				var body []byte
				if tc.queryForm != nil {
					q := tc.queryForm(run, users)
					raw := e.raw(t, http.MethodDelete, "/api/user/bulk?"+q.Encode(), e.adminKey, nil)
					if raw.Status != http.StatusOK {
						t.Fatalf("status = %d (%s), want 200", raw.Status, raw.Body)
					}
					if err := json.Unmarshal(raw.Body, &resp); err != nil {
						t.Fatalf("decode %q: %v", raw.Body, err)
					}
					body = raw.Body
					wantDryRun, wantHard = q.Get("dryRun") == "true", q.Get("hardDelete") == "true"
				} else {
					req := tc.req(run, users)
					got, err := e.admin.DeleteUsersByQuery(context.Background(), req)
					if err != nil {
						t.Fatalf("bulk delete: %v", err)
					}
					resp = *got
					body = e.lastExchange(t, http.MethodDelete, "/api/user/bulk").Body
					wantDryRun, wantHard = req.DryRun, req.HardDelete
				}
				var got []string
				for _, id := range resp.UserIDs {
					l, ok := byID[id]
					if !ok {
						l = "?" + id
					}
					got = append(got, l)
				}
				sort.Strings(got)
				if !slices.Equal(got, tc.want) || resp.Total != len(tc.want) {
					t.Errorf("userIds = %v, total = %d, want %v, %d", got, resp.Total, tc.want, len(tc.want))
				}
				if resp.DryRun != wantDryRun || resp.HardDelete != wantHard {
					t.Errorf("dryRun = %v, hardDelete = %v, want %v, %v (echoed)", resp.DryRun, resp.HardDelete, wantDryRun, wantHard)
				}
				if _, ok := decodeObject(t, body)["userIds"]; ok == tc.wantNoIDKey {
					t.Errorf("userIds key present = %v, want %v (omitted when total is 0, §7)", ok, !tc.wantNoIDKey)
				}
				for _, l := range []string{"a", "b", "c"} {
					u, err := e.admin.RetrieveUser(context.Background(), users[l].ID)
					switch {
					case slices.Contains(tc.wantGone, l):
						if !faclient.IsNotFound(err) {
							t.Errorf("user %s after delete: err = %v, want 404", l, err)
						}
					case err != nil:
						t.Errorf("user %s: %v, want it kept", l, err)
					case u.User.Active == slices.Contains(tc.wantOff, l):
						t.Errorf("user %s active = %v, want %v", l, u.User.Active, !slices.Contains(tc.wantOff, l))
					}
				}
			})
		}
	})
}

func runTermQuery(run string) string {
	return fmt.Sprintf(`{"term":{"data.contractRun":%q}}`, run)
}

func runAndXQuery(run, x string) string {
	return fmt.Sprintf(`{"bool":{"must":[{"term":{"data.contractRun":%q}},{"term":{"data.x":%q}}]}}`, run, x)
}

// TestUnsupportedQuery: a query Elasticsearch cannot run is refused with 400, for a
// search and for a bulk delete, which then deletes nothing (§7, §8). The compatible
// server counts these refusals, and must never treat such a query as match-all.
func TestUnsupportedQuery(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		const bad = `{"no_such_clause":{"email":"x"}}`
		tests := map[string]func(ctx context.Context, e *env) error{
			"search": func(ctx context.Context, e *env) error {
				_, err := e.admin.SearchUsersByQuery(ctx, faclient.SearchRequest{Search: faclient.UserSearchCriteria{Query: bad}})
				return err
			},
			"bulk delete": func(ctx context.Context, e *env) error {
				_, err := e.admin.DeleteUsersByQuery(ctx, faclient.UserDeleteRequest{Query: bad, HardDelete: true})
				return err
			},
		}
		for name, call := range tests {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				u := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: uniqueEmail("unsupported"), Password: testPassword}}).User
				refreshSearchIndex(t, e)
				err := call(context.Background(), e)
				if got := statusOf(err); got != http.StatusBadRequest {
					t.Fatalf("status = %d (%v), want 400", got, err)
				}
				if _, err := e.admin.RetrieveUser(context.Background(), u.ID); err != nil {
					t.Errorf("user after the refused call: %v, want it kept", err)
				}
				if e.compat() {
					if n := e.srv.Unsupported(); n != 1 {
						t.Errorf("Unsupported = %d, want 1", n)
					}
				}
				if fe, ok := asFAError(err); ok && len(fe.Errors.GeneralErrors)+len(fe.Errors.FieldErrors) == 0 {
					t.Errorf("400 without error details, want an Errors body saying what is wrong")
				}
			})
		}
	})
}

// TestFlushSearchIndex: PUT /api/user/search flushes the search index and answers 200
// with no body; like every method it needs its own permission (§1.2, §8): the prune
// key may POST a search but not PUT.
func TestFlushSearchIndex(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		tests := map[string]struct {
			key  string
			want int
		}{
			"admin key": {key: "apiKey", want: http.StatusOK},
			"prune key": {key: "pruneApiKey", want: http.StatusUnauthorized},
			"video key": {key: "videoApiKey", want: http.StatusUnauthorized},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				resp := e.raw(t, http.MethodPut, "/api/user/search", e.apiKey(t, tc.key), nil)
				if resp.Status != tc.want || len(resp.Body) != 0 {
					t.Errorf("got %d %q, want %d with no body", resp.Status, resp.Body, tc.want)
				}
			})
		}
	})
}
