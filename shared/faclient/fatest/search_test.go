package fatest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient/fatest"
)

// seeded is a population for search tests.
type seeded struct {
	s                *fatest.Server
	c                *clock
	key              string
	staleAnon        []string // anonymous, no email, untouched for 40 days
	freshAnon        []string // anonymous, no email, touched today
	pendingAnon      []string // anonymous with an email, stale
	regular          []string // registered with email
	kickstartUserIDs []string
}

func seedSearch(t *testing.T) *seeded {
	t.Helper()
	s, c := newServer(t, fatest.Options{})
	sd := &seeded{s: s, c: c, key: keysOf(s).admin}
	sd.kickstartUserIDs = []string{s.Variable("regularUserId")} // the visitors' tenant's; the admin is in the Default tenant
	old := c.Now().Add(-40 * 24 * time.Hour).UnixMilli()
	put := func(list *[]string, i int, user map[string]any) {
		id := fmt.Sprintf("6b1a3a80-0000-4000-8000-%012d", len(sd.staleAnon)+len(sd.freshAnon)+len(sd.pendingAnon)+len(sd.regular)+1)
		user["id"] = id
		user["tenantId"] = s.Variable("visitorTenantId")
		if err := s.PutUser(user, "long-enough-pw"); err != nil {
			t.Fatalf("PutUser: %v", err)
		}
		*list = append(*list, id)
	}
	for i := 0; i < 6; i++ {
		put(&sd.staleAnon, i, map[string]any{"username": fmt.Sprintf("stale-%02d", i), "lastUpdateInstant": old, "data": map[string]any{"anonymousUser": true}})
	}
	for i := 0; i < 4; i++ {
		put(&sd.freshAnon, i, map[string]any{"username": fmt.Sprintf("fresh-%02d", i), "data": map[string]any{"anonymousUser": true}})
	}
	for i := 0; i < 3; i++ {
		put(&sd.pendingAnon, i, map[string]any{"username": fmt.Sprintf("pending-%02d", i), "email": fmt.Sprintf("pending%02d@example.com", i), "lastUpdateInstant": old, "data": map[string]any{"anonymousUser": true}})
	}
	for i := 0; i < 5; i++ {
		put(&sd.regular, i, map[string]any{"email": fmt.Sprintf("user%02d@example.org", i), "lastUpdateInstant": old, "data": map[string]any{"anonymousUser": false}})
	}
	return sd
}

// Queries the search tests use besides the prune query.
const (
	anonQuery    = `{"term":{"data.anonymousUser":true}}`
	regularQuery = `{"bool":{"must":[{"exists":{"field":"email"}},{"term":{"data.anonymousUser":false}}]}}`
	everyone     = `{"exists":{"field":"id"}}`
)

const pruneQuery = `{"bool":{"filter":[{"term":{"data.anonymousUser":true}},{"range":{"lastUpdateInstant":{"lt":"now-30d"}}}],"must_not":[{"exists":{"field":"email"}}]}}`

// ids returns the user ids of a search response.
func ids(r resp) []string {
	var out []string
	users, _ := r.body["users"].([]any)
	for _, u := range users {
		out = append(out, asString(u.(map[string]any)["id"]))
	}
	return out
}

func sorted(list ...[]string) []string {
	var out []string
	for _, l := range list {
		out = append(out, l...)
	}
	sort.Strings(out)
	return out
}

func TestSearch(t *testing.T) {
	sd := seedSearch(t)
	all := sorted(sd.staleAnon, sd.freshAnon, sd.pendingAnon, sd.regular, sd.kickstartUserIDs)
	tests := map[string]struct {
		search    map[string]any
		wantIDs   []string // compared sorted unless ordered
		ordered   bool
		wantTotal int
	}{
		"prune query":            {search: map[string]any{"query": pruneQuery}, wantIDs: sorted(sd.staleAnon), wantTotal: 6},
		"term on data":           {search: map[string]any{"query": anonQuery, "numberOfResults": 100}, wantIDs: sorted(sd.staleAnon, sd.freshAnon, sd.pendingAnon), wantTotal: 13},
		"exists and term":        {search: map[string]any{"query": regularQuery}, wantIDs: sorted(sd.regular), wantTotal: 5},
		"everyone, default 25":   {search: map[string]any{"query": everyone}, wantIDs: all, wantTotal: len(all)},
		"query wins over string": {search: map[string]any{"query": pruneQuery, "queryString": "*"}, wantIDs: sorted(sd.staleAnon), wantTotal: 6},
		"ids, unknown ignored": {search: map[string]any{"ids": []any{sd.regular[1], sd.regular[0], "6b1a3a80-0000-4000-8000-999999999999", "bad"}, "query": pruneQuery},
			wantIDs: []string{sd.regular[1], sd.regular[0]}, ordered: true, wantTotal: 2},
		"sorted by username desc, paged": {search: map[string]any{"query": anonQuery, "sortFields": []any{map[string]any{"name": "username", "order": "desc"}}, "startRow": 2, "numberOfResults": 3},
			wantIDs: []string{sd.staleAnon[3], sd.staleAnon[2], sd.staleAnon[1]}, ordered: true, wantTotal: 13},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := do(t, sd.s, http.MethodPost, "/api/user/search", sd.key, map[string]any{"search": tc.search})
			wantStatus(t, r, http.StatusOK)
			got := ids(r)
			if !tc.ordered {
				sort.Strings(got)
			}
			if !slices.Equal(got, tc.wantIDs) {
				t.Errorf("ids = %v, want %v", got, tc.wantIDs)
			}
			if r.body["total"] != float64(tc.wantTotal) {
				t.Errorf("total = %v, want %d", r.body["total"], tc.wantTotal)
			}
		})
	}
	t.Run("GET form matches POST", func(t *testing.T) {
		q := url.Values{"query": {anonQuery}, "sortFields[0].name": {"username"}, "sortFields[0].order": {"desc"}, "startRow": {"2"}, "numberOfResults": {"3"}}
		r := do(t, sd.s, http.MethodGet, "/api/user/search?"+q.Encode(), sd.key, nil)
		wantStatus(t, r, http.StatusOK)
		if got, want := ids(r), []string{sd.staleAnon[3], sd.staleAnon[2], sd.staleAnon[1]}; !slices.Equal(got, want) {
			t.Errorf("ids = %v, want %v", got, want)
		}
	})
}

func TestSearchNextResults(t *testing.T) {
	sd := seedSearch(t)
	want := sorted(sd.staleAnon, sd.freshAnon, sd.pendingAnon)
	total := len(want)
	var got []string
	r := do(t, sd.s, http.MethodPost, "/api/user/search", sd.key, map[string]any{"search": map[string]any{
		"query": anonQuery, "numberOfResults": 4, "sortFields": []any{map[string]any{"name": "id"}}}})
	for page := 0; ; page++ {
		wantStatus(t, r, http.StatusOK)
		if r.body["total"] != float64(total) {
			t.Fatalf("page %d total = %v, want %d", page, r.body["total"], total)
		}
		pageIDs := ids(r)
		if len(pageIDs) == 0 {
			// Every answer carries a token; after an empty page it leads to another one.
			after := do(t, sd.s, http.MethodPost, "/api/user/search", sd.key, map[string]any{"search": map[string]any{"nextResults": r.body["nextResults"]}})
			wantStatus(t, after, http.StatusOK)
			if asString(r.body["nextResults"]) == "" || len(ids(after)) != 0 {
				t.Errorf("empty page: nextResults = %v, next page %v; want a token leading to an empty page", r.body["nextResults"], ids(after))
			}
			break
		}
		got = append(got, pageIDs...)
		if page == 1 {
			// The last user of this page is deleted before the next page: the cursor
			// does not depend on it still existing.
			wantStatus(t, do(t, sd.s, http.MethodDelete, "/api/user/"+pageIDs[len(pageIDs)-1]+"?hardDelete=true", sd.key, nil), http.StatusOK)
			total--
		}
		token := asString(r.body["nextResults"])
		if token == "" {
			t.Fatalf("page %d has no nextResults", page)
		}
		if page > 10 {
			t.Fatal("too many pages")
		}
		r = do(t, sd.s, http.MethodPost, "/api/user/search", sd.key, map[string]any{"search": map[string]any{"nextResults": token, "numberOfResults": 4}})
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged ids = %v, want each matching user once, in order: %v", got, want)
	}
	t.Run("only numberOfResults may accompany nextResults", func(t *testing.T) {
		first := do(t, sd.s, http.MethodPost, "/api/user/search", sd.key, map[string]any{"search": map[string]any{"query": everyone, "numberOfResults": 1}})
		r := do(t, sd.s, http.MethodPost, "/api/user/search", sd.key, map[string]any{"search": map[string]any{"nextResults": first.body["nextResults"], "query": everyone}})
		wantStatus(t, r, http.StatusBadRequest)
		r = do(t, sd.s, http.MethodPost, "/api/user/search", sd.key, map[string]any{"search": map[string]any{"nextResults": "garbage!"}})
		wantStatus(t, r, http.StatusBadRequest)
	})
}

func TestSearchWindowAndTotal(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	key := keysOf(s).admin
	for i := 0; i < 10001; i++ {
		if err := s.PutUser(map[string]any{"username": fmt.Sprintf("bulk-%05d", i), "tenantId": s.Variable("visitorTenantId")}, ""); err != nil {
			t.Fatalf("PutUser: %v", err)
		}
	}
	tests := map[string]struct {
		search     map[string]any
		wantStatus int
		wantTotal  float64
	}{
		"total capped at 10,000":  {map[string]any{"query": everyone}, http.StatusOK, 10000},
		"accurateTotal":           {map[string]any{"query": everyone, "accurateTotal": true}, http.StatusOK, 10002},
		"last page in the window": {map[string]any{"query": everyone, "startRow": 9975, "numberOfResults": 25}, http.StatusOK, 10000},
		"past the window":         {map[string]any{"query": everyone, "startRow": 9990, "numberOfResults": 25}, http.StatusBadRequest, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := do(t, s, http.MethodPost, "/api/user/search", key, map[string]any{"search": tc.search})
			wantStatus(t, r, tc.wantStatus)
			if tc.wantStatus == http.StatusOK && r.body["total"] != tc.wantTotal {
				t.Errorf("total = %v, want %v", r.body["total"], tc.wantTotal)
			}
		})
	}
}

func TestUnsupportedQueries(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	key := keysOf(s).admin
	tests := map[string]struct {
		method, path string
		body         any
		wantCounted  bool
	}{
		"search: unknown clause":     {http.MethodPost, "/api/user/search", map[string]any{"search": map[string]any{"query": `{"fuzzy":{"email":"x"}}`}}, true},
		"search: query wrapper":      {http.MethodPost, "/api/user/search", map[string]any{"search": map[string]any{"query": `{"query":{"match_all":{}}}`}}, true},
		"search: queryString fuzzy":  {http.MethodPost, "/api/user/search", map[string]any{"search": map[string]any{"queryString": "email:x~"}}, true},
		"bulk: queryString fuzzy":    {http.MethodDelete, "/api/user/bulk?dryRun=true&queryString=email%3Ax~", nil, true},
		"search: malformed JSON":     {http.MethodPost, "/api/user/search", map[string]any{"search": map[string]any{"query": `{"term":`}}, false},
		"search: unknown sort field": {http.MethodPost, "/api/user/search", map[string]any{"search": map[string]any{"query": everyone, "sortFields": []any{map[string]any{"name": "passwordLastUpdateInstant"}}}}, true},
		"bulk: unknown clause":       {http.MethodDelete, "/api/user/bulk", map[string]any{"query": `{"fuzzy":{"email":"x"}}`, "dryRun": true}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := s.Unsupported()
			r := do(t, s, tc.method, tc.path, key, tc.body)
			wantStatus(t, r, http.StatusBadRequest)
			counted := s.Unsupported() - before
			if counted != map[bool]int{true: 1, false: 0}[tc.wantCounted] {
				t.Errorf("Unsupported grew by %d, want counted %v", counted, tc.wantCounted)
			}
			if tc.wantCounted {
				if got := generalCodes(r); !slices.Contains(got, "[UnsupportedRequest]") {
					t.Errorf("generalErrors = %v, want [UnsupportedRequest] naming the construct; body %s", got, r.raw)
				}
			}
		})
	}
}

func TestBulkDelete(t *testing.T) {
	tests := map[string]struct {
		run func(t *testing.T, sd *seeded)
	}{
		"query-string form with repeated userId, dry run": {func(t *testing.T, sd *seeded) {
			q := url.Values{"userId": {sd.staleAnon[0], sd.staleAnon[1], "6b1a3a80-0000-4000-8000-999999999999"}, "dryRun": {"true"}, "hardDelete": {"true"}}
			r := do(t, sd.s, http.MethodDelete, "/api/user/bulk?"+q.Encode(), sd.key, nil)
			wantStatus(t, r, http.StatusOK)
			wantBulk(t, r, true, true, []string{sd.staleAnon[0], sd.staleAnon[1]})
			if _, ok := sd.s.User(sd.staleAnon[0]); !ok {
				t.Error("dry run deleted a user")
			}
		}},
		"query-string form, soft delete": {func(t *testing.T, sd *seeded) {
			r := do(t, sd.s, http.MethodDelete, "/api/user/bulk?userId="+sd.regular[0], sd.key, nil)
			wantStatus(t, r, http.StatusOK)
			wantBulk(t, r, false, false, []string{sd.regular[0]})
			if u, ok := sd.s.User(sd.regular[0]); !ok || u["active"] != false {
				t.Errorf("user after soft bulk delete = %v, want inactive", u)
			}
		}},
		"body form with the prune query, hard delete": {func(t *testing.T, sd *seeded) {
			r := do(t, sd.s, http.MethodDelete, "/api/user/bulk", sd.key, map[string]any{"query": pruneQuery, "hardDelete": true})
			wantStatus(t, r, http.StatusOK)
			wantBulk(t, r, false, true, sd.staleAnon)
			for _, id := range sd.staleAnon {
				if _, ok := sd.s.User(id); ok {
					t.Errorf("user %s still exists", id)
				}
			}
			for _, id := range sorted(sd.freshAnon, sd.pendingAnon, sd.regular) {
				if _, ok := sd.s.User(id); !ok {
					t.Errorf("user %s was deleted but does not match", id)
				}
			}
		}},
		"limit pages the deletion": {func(t *testing.T, sd *seeded) {
			var deleted []string
			for i := 0; i < 4; i++ {
				r := do(t, sd.s, http.MethodDelete, "/api/user/bulk", sd.key, map[string]any{"query": pruneQuery, "hardDelete": true, "limit": 4})
				wantStatus(t, r, http.StatusOK)
				deleted = append(deleted, toStrings(r.body["userIds"])...)
				if want := []float64{4, 2, 0, 0}[i]; r.body["total"] != want {
					t.Errorf("call %d total = %v, want %v", i, r.body["total"], want)
				}
			}
			if sort.Strings(deleted); !slices.Equal(deleted, sorted(sd.staleAnon)) {
				t.Errorf("deleted = %v, want %v", deleted, sorted(sd.staleAnon))
			}
		}},
		"ids win over query": {func(t *testing.T, sd *seeded) {
			r := do(t, sd.s, http.MethodDelete, "/api/user/bulk", sd.key, map[string]any{"userIds": []any{sd.regular[2]}, "query": pruneQuery, "dryRun": true})
			wantStatus(t, r, http.StatusOK)
			wantBulk(t, r, true, false, []string{sd.regular[2]})
		}},
		"nothing matched: userIds omitted": {func(t *testing.T, sd *seeded) {
			r := do(t, sd.s, http.MethodDelete, "/api/user/bulk", sd.key, map[string]any{"query": `{"term":{"email":"nobody@nowhere.example"}}`})
			wantStatus(t, r, http.StatusOK)
			if _, ok := r.body["userIds"]; ok || r.body["total"] != float64(0) {
				t.Errorf("body = %s, want total 0 and no userIds", r.raw)
			}
		}},
		"no criteria": {func(t *testing.T, sd *seeded) {
			r := do(t, sd.s, http.MethodDelete, "/api/user/bulk", sd.key, map[string]any{"dryRun": true})
			wantStatus(t, r, http.StatusBadRequest)
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.run(t, seedSearch(t))
		})
	}
}

func wantBulk(tb testing.TB, r resp, dryRun, hard bool, wantIDs []string) {
	tb.Helper()
	if r.body["dryRun"] != dryRun || r.body["hardDelete"] != hard || r.body["total"] != float64(len(wantIDs)) {
		tb.Errorf("body = %s, want dryRun %v hardDelete %v total %d", r.raw, dryRun, hard, len(wantIDs))
	}
	got := toStrings(r.body["userIds"])
	sort.Strings(got)
	if !slices.Equal(got, sorted(wantIDs)) {
		tb.Errorf("userIds = %v, want %v", got, sorted(wantIDs))
	}
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		out = append(out, asString(e))
	}
	return out
}
