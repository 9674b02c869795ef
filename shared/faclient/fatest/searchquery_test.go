package fatest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"testing"

	"github.com/changebank/anonuser/shared/faclient/fatest"
)

// searchCase is one search and the users it must find (compared sorted unless ordered).
type searchCase struct {
	search  map[string]any
	wantIDs []string
	ordered bool
}

// runSearchCases POSTs each case (numberOfResults 100 unless given) and checks the users
// and the total.
func runSearchCases(t *testing.T, sd *seeded, tests map[string]searchCase) {
	t.Helper()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			search := map[string]any{"numberOfResults": 100}
			for k, v := range tc.search {
				search[k] = v
			}
			r := do(t, sd.s, http.MethodPost, "/api/user/search", sd.key, map[string]any{"search": search})
			wantStatus(t, r, http.StatusOK)
			got := ids(r)
			if !tc.ordered {
				sort.Strings(got)
			}
			want := tc.wantIDs
			if !tc.ordered {
				want = sorted(want)
			}
			if !slices.Equal(got, want) {
				t.Errorf("ids = %v, want %v", got, want)
			}
			if r.body["total"] != float64(len(want)) {
				t.Errorf("total = %v, want %d", r.body["total"], len(want))
			}
		})
	}
}

// TestSearchQueryString: queryString in Lucene syntax, after FusionAuth's pre-processing
// (issue 21: "*" and "data.anonymousUser:true" were refused as not implemented).
func TestSearchQueryString(t *testing.T) {
	sd := seedSearch(t)
	anon := sorted(sd.staleAnon, sd.freshAnon, sd.pendingAnon)
	runSearchCases(t, sd, map[string]searchCase{
		"* is everyone":                 {search: map[string]any{"queryString": "*"}, wantIDs: sorted(anon, sd.regular, sd.kickstartUserIDs)},
		"data.anonymousUser:true":       {search: map[string]any{"queryString": "data.anonymousUser:true"}, wantIDs: anon},
		"AND _exists_":                  {search: map[string]any{"queryString": "data.anonymousUser:true AND _exists_:email"}, wantIDs: sd.pendingAnon},
		"AND NOT, date math":            {search: map[string]any{"queryString": "data.anonymousUser:true AND NOT _exists_:email AND lastUpdateInstant:<now-30d"}, wantIDs: sd.staleAnon},
		"range with open end":           {search: map[string]any{"queryString": "lastUpdateInstant:[* TO now-30d]"}, wantIDs: sorted(sd.staleAnon, sd.pendingAnon, sd.regular)},
		"email suffix wildcard":         {search: map[string]any{"queryString": "email:*@example.org"}, wantIDs: sd.regular},
		"a bare address becomes email:": {search: map[string]any{"queryString": "USER03@example.org"}, wantIDs: sd.regular[3:4]},
		"a bare word gets wildcards":    {search: map[string]any{"queryString": "stale-0"}, wantIDs: sd.staleAnon},
		"field group":                   {search: map[string]any{"queryString": "username:(fresh-00 OR fresh-01)"}, wantIDs: sd.freshAnon[:2]},
		"+ and -":                       {search: map[string]any{"queryString": "+data.anonymousUser:true -username:stale*"}, wantIDs: sorted(sd.freshAnon, sd.pendingAnon)},
		"registrations field":           {search: map[string]any{"queryString": "registrations.applicationId:" + sd.s.Variable("applicationId")}, wantIDs: sd.kickstartUserIDs},
		"query wins over queryString":   {search: map[string]any{"query": pruneQuery, "queryString": "*"}, wantIDs: sd.staleAnon},
		"sorted":                        {search: map[string]any{"queryString": "username:pending*", "sortFields": []any{map[string]any{"name": "username", "order": "desc"}}}, wantIDs: []string{sd.pendingAnon[2], sd.pendingAnon[1], sd.pendingAnon[0]}, ordered: true},
	})
	t.Run("GET form matches POST", func(t *testing.T) {
		q := url.Values{"queryString": {"username:pending*"}, "sortFields[0].name": {"username"}, "sortFields[0].order": {"desc"}, "startRow": {"1"}, "numberOfResults": {"1"}}
		r := do(t, sd.s, http.MethodGet, "/api/user/search?"+q.Encode(), sd.key, nil)
		wantStatus(t, r, http.StatusOK)
		if got, want := ids(r), sd.pendingAnon[1:2]; !slices.Equal(got, want) || r.body["total"] != float64(3) {
			t.Errorf("ids = %v, total = %v, want %v, 3", got, r.body["total"], want)
		}
	})
	t.Run("bulk delete by queryString", func(t *testing.T) {
		r := do(t, sd.s, http.MethodDelete, "/api/user/bulk", sd.key, map[string]any{"queryString": "data.anonymousUser:true AND NOT _exists_:email", "dryRun": true})
		wantStatus(t, r, http.StatusOK)
		wantBulk(t, r, true, false, sorted(sd.staleAnon, sd.freshAnon))
	})
}

// TestSearchQueryKinds: one Elasticsearch query per supported kind (issue 21: match_all and
// match were refused as unsupported clauses).
func TestSearchQueryKinds(t *testing.T) {
	sd := seedSearch(t)
	anon := sorted(sd.staleAnon, sd.freshAnon, sd.pendingAnon)
	everyoneIDs := sorted(anon, sd.regular, sd.kickstartUserIDs)
	app := sd.s.Variable("applicationId")
	q := func(s string) map[string]any { return map[string]any{"query": s} }
	runSearchCases(t, sd, map[string]searchCase{
		"match_all":    {search: q(`{"match_all":{}}`), wantIDs: everyoneIDs},
		"match_none":   {search: q(`{"match_none":{}}`), wantIDs: nil},
		"match":        {search: q(`{"match":{"data.anonymousUser":{"query":"true"}}}`), wantIDs: anon},
		"match email":  {search: q(`{"match":{"email":"USER02@EXAMPLE.ORG"}}`), wantIDs: sd.regular[2:3]},
		"match_phrase": {search: q(`{"match_phrase":{"firstName":"richard"}}`), wantIDs: sd.kickstartUserIDs},
		"term":         {search: q(anonQuery), wantIDs: anon},
		"terms":        {search: q(`{"terms":{"username":["fresh-00","stale-05","nobody"]}}`), wantIDs: []string{sd.freshAnon[0], sd.staleAnon[5]}},
		"range":        {search: q(`{"range":{"lastUpdateInstant":{"gte":"now-1d"}}}`), wantIDs: sorted(sd.freshAnon, sd.kickstartUserIDs)},
		"exists":       {search: q(`{"exists":{"field":"email"}}`), wantIDs: sorted(sd.pendingAnon, sd.regular, sd.kickstartUserIDs)},
		"ids":          {search: q(`{"ids":{"values":["` + sd.regular[0] + `"]}}`), wantIDs: sd.regular[:1]},
		"wildcard":     {search: q(`{"wildcard":{"username":"FRESH-0?"}}`), wantIDs: sd.freshAnon},
		"prefix":       {search: q(`{"prefix":{"email":"pending"}}`), wantIDs: sd.pendingAnon},
		"bool must/filter/must_not": {search: q(`{"bool":{"must":[{"match":{"data.anonymousUser":true}}],"filter":[{"range":{"lastUpdateInstant":{"lt":"now-30d"}}}],"must_not":[{"exists":{"field":"email"}}]}}`),
			wantIDs: sd.staleAnon},
		"bool should with minimum_should_match": {search: q(`{"bool":{"should":[{"term":{"data.anonymousUser":true}},{"exists":{"field":"email"}},{"range":{"lastUpdateInstant":{"lt":"now-30d"}}}],"minimum_should_match":3}}`),
			wantIDs: sd.pendingAnon},
		"constant_score": {search: q(`{"constant_score":{"filter":{"exists":{"field":"data.watchCount"}}}}`), wantIDs: sd.kickstartUserIDs},
		"nested registrations": {search: q(`{"nested":{"path":"registrations","query":{"bool":{"must":[{"match":{"registrations.applicationId":"` + app + `"}},{"match":{"registrations.verified":true}}]}}}}`),
			wantIDs: sd.kickstartUserIDs},
		"nested element must match as a whole": {search: q(`{"nested":{"path":"registrations","query":{"bool":{"must":[{"match":{"registrations.applicationId":"` + app + `"}},{"match":{"registrations.verified":false}}]}}}}`),
			wantIDs: nil},
	})
}

// TestSearchSortByData: sortFields on a data.* number (the busiest watchers), and refusals of
// sorts Elasticsearch cannot do.
func TestSearchSortByData(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	key := keysOf(s).admin
	var want []string
	for i, n := range []int{3, 12, 7} {
		id := fmt.Sprintf("6b1a3a80-0000-4000-8000-%012d", i+1)
		if err := s.PutUser(map[string]any{"id": id, "username": fmt.Sprintf("w-%d", i), "tenantId": s.Variable("visitorTenantId"), "data": map[string]any{"anonymousUser": true, "watchCount": n, "tag": "Some Text"}}, ""); err != nil {
			t.Fatalf("PutUser: %v", err)
		}
		want = append(want, id)
	}
	want = []string{want[1], want[2], want[0]}
	search := func(sortField string) resp {
		return do(t, s, http.MethodPost, "/api/user/search", key, map[string]any{"search": map[string]any{
			"queryString": "data.anonymousUser:true", "sortFields": []any{map[string]any{"name": sortField, "order": "desc"}}}})
	}
	r := search("data.watchCount")
	wantStatus(t, r, http.StatusOK)
	if got := ids(r); !slices.Equal(got, want) {
		t.Errorf("ids by data.watchCount desc = %v, want %v", got, want)
	}
	wantStatus(t, search("data.tag.keyword"), http.StatusOK)
	r = search("data.tag")
	wantStatus(t, r, http.StatusBadRequest)
	wantFieldError(t, r, "search.sortFields", "[invalid]search.sortFields")
}

// TestSearchExpand: expand (beside search) keeps only the named properties of each user and
// lists the others in expandable.
func TestSearchExpand(t *testing.T) {
	sd := seedSearch(t)
	tests := map[string]struct {
		method, path   string
		body           any
		wantKept       []string // of memberships and registrations
		wantExpandable []any
	}{
		"default keeps both":       {http.MethodPost, "/api/user/search", map[string]any{"search": map[string]any{"queryString": "*"}}, []string{"memberships", "registrations"}, nil},
		"empty list":               {http.MethodPost, "/api/user/search", map[string]any{"expand": []any{}, "search": map[string]any{"queryString": "*"}}, nil, []any{"memberships", "registrations"}},
		"registrations only":       {http.MethodPost, "/api/user/search", map[string]any{"expand": []any{"registrations"}, "search": map[string]any{"ids": []any{sd.kickstartUserIDs[0]}}}, []string{"registrations"}, []any{"memberships"}},
		"GET, memberships":         {http.MethodGet, "/api/user/search?queryString=*&expand=memberships", nil, []string{"memberships"}, []any{"registrations"}},
		"GET, empty expand":        {http.MethodGet, "/api/user/search?queryString=*&expand=", nil, nil, []any{"memberships", "registrations"}},
		"both named, nothing left": {http.MethodPost, "/api/user/search", map[string]any{"expand": []any{"memberships", "registrations"}, "search": map[string]any{"queryString": "*"}}, []string{"memberships", "registrations"}, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := do(t, sd.s, tc.method, tc.path, sd.key, tc.body)
			wantStatus(t, r, http.StatusOK)
			users, _ := r.body["users"].([]any)
			if len(users) == 0 {
				t.Fatalf("no users: %s", r.raw)
			}
			for _, u := range users {
				m := u.(map[string]any)
				for _, p := range []string{"memberships", "registrations"} {
					if _, ok := m[p]; ok != slices.Contains(tc.wantKept, p) {
						t.Errorf("user %s has %s = %v, want %v", m["id"], p, ok, slices.Contains(tc.wantKept, p))
					}
				}
			}
			got, _ := r.body["expandable"].([]any)
			if !slices.Equal(got, tc.wantExpandable) {
				t.Errorf("expandable = %v, want %v", got, tc.wantExpandable)
			}
		})
	}
}

// TestSearchNextResultsQueryString: the nextResults token carries the queryString.
func TestSearchNextResultsQueryString(t *testing.T) {
	sd := seedSearch(t)
	want := sorted(sd.staleAnon, sd.freshAnon, sd.pendingAnon)
	var got []string
	r := do(t, sd.s, http.MethodPost, "/api/user/search", sd.key, map[string]any{"search": map[string]any{
		"queryString": "data.anonymousUser:true", "numberOfResults": 5, "sortFields": []any{map[string]any{"name": "id"}}}})
	for page := 0; page < 10; page++ {
		wantStatus(t, r, http.StatusOK)
		if len(ids(r)) == 0 {
			break
		}
		got = append(got, ids(r)...)
		// startRow 0 may accompany the token (the docs: "must be 0 or omitted").
		r = do(t, sd.s, http.MethodPost, "/api/user/search", sd.key, map[string]any{"search": map[string]any{"nextResults": r.body["nextResults"], "numberOfResults": 5, "startRow": 0}})
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged ids = %v, want %v", got, want)
	}
	r = do(t, sd.s, http.MethodPost, "/api/user/search", sd.key, map[string]any{"search": map[string]any{"nextResults": r.body["nextResults"], "startRow": 5}})
	wantStatus(t, r, http.StatusBadRequest)
}

// TestSearchQueryStringRefusals: Lucene constructs outside the subset are refused with 400
// [UnsupportedRequest] (counted), malformed ones with a field error (not counted), and the
// 10,000-row window applies to queryString searches too.
func TestSearchQueryStringRefusals(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	key := keysOf(s).admin
	tests := map[string]struct {
		body        map[string]any
		wantCounted bool
		wantField   string // the field error wanted when not counted
	}{
		"fuzzy":              {map[string]any{"search": map[string]any{"queryString": "email:jo~"}}, true, ""},
		"regular expression": {map[string]any{"search": map[string]any{"queryString": "email:/jo.*/"}}, true, ""},
		"wildcard field":     {map[string]any{"search": map[string]any{"queryString": "data.*:x"}}, true, ""},
		"boost":              {map[string]any{"search": map[string]any{"queryString": "email:a^2"}}, true, ""},
		"match_phrase slop":  {map[string]any{"search": map[string]any{"query": `{"match_phrase":{"fullName":{"query":"a b","slop":1}}}`}}, true, ""},
		"unknown expand":     {map[string]any{"expand": []any{"identities"}, "search": map[string]any{"queryString": "*"}}, true, ""},
		"unbalanced":         {map[string]any{"search": map[string]any{"queryString": "(email:x"}}, false, "search.queryString"},
		"bad date":           {map[string]any{"search": map[string]any{"queryString": "insertInstant:<yesterday"}}, false, "search.queryString"},
		"past the window":    {map[string]any{"search": map[string]any{"queryString": "*", "startRow": 9990, "numberOfResults": 25}}, false, "search.numberOfResults"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := s.Unsupported()
			r := do(t, s, http.MethodPost, "/api/user/search", key, tc.body)
			wantStatus(t, r, http.StatusBadRequest)
			if counted := s.Unsupported() - before; counted != map[bool]int{true: 1}[tc.wantCounted] {
				t.Errorf("Unsupported grew by %d, want counted %v", counted, tc.wantCounted)
			}
			if tc.wantCounted && !slices.Contains(generalCodes(r), "[UnsupportedRequest]") {
				t.Errorf("generalErrors = %v, want [UnsupportedRequest]; body %s", generalCodes(r), r.raw)
			}
			if !tc.wantCounted && len(fieldCodes(r, tc.wantField)) == 0 {
				t.Errorf("body %s, want a field error on %s", r.raw, tc.wantField)
			}
		})
	}
}
