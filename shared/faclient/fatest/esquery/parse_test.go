package esquery

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
)

const pruneQuery = `{"bool":{"filter":[
	{"term":{"data.anonymousUser":true}},
	{"bool":{"must_not":[{"exists":{"field":"email"}}]}},
	{"range":{"lastUpdateInstant":{"lt":"now-30d"}}}]}}`

func TestParseMatch(t *testing.T) {
	docs := testDocs(t)
	all := ids("a1", "a2", "u1", "u2")
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		// term
		{"term bool", `{"term":{"data.anonymousUser":true}}`, ids("a1", "a2")},
		{"term bool from string", `{"term":{"data.anonymousUser":"true"}}`, ids("a1", "a2")},
		{"term long form false", `{"term":{"data.anonymousUser":{"value":false,"boost":1.0}}}`, ids("u1")},
		{"term keyword id", `{"term":{"id":"u1"}}`, ids("u1")},
		{"term _id", `{"term":{"_id":"u1"}}`, ids("u1")},
		{"term keyword is case-sensitive", `{"term":{"id":"U1"}}`, ids()},
		{"term keyword case_insensitive", `{"term":{"id":{"value":"U1","case_insensitive":true}}}`, ids("u1")},
		{"term email lower-case", `{"term":{"email":"john.doe@example.com"}}`, ids("u1")},
		{"term email mixed case never matches", `{"term":{"email":"John.Doe@example.com"}}`, ids()},
		{"term email case_insensitive", `{"term":{"email":{"value":"John.Doe@example.com","case_insensitive":true}}}`, ids("u1")},
		{"term username indexed lower-cased", `{"term":{"username":"johnnyd"}}`, ids("u1")},
		{"term username as stored does not match", `{"term":{"username":"JohnnyD"}}`, ids()},
		{"term login is email or username", `{"term":{"login":"jane"}}`, ids("u2")},
		{"term text token", `{"term":{"fullName":"john"}}`, ids("u1")},
		{"term text is not analyzed", `{"term":{"fullName":"John"}}`, ids()},
		{"term text whole value", `{"term":{"fullName":"john doe"}}`, ids()},
		{"term number", `{"term":{"data.count":5}}`, ids("u1")},
		{"term number from string", `{"term":{"data.count":"5"}}`, ids("u1")},
		{"term number other", `{"term":{"data.count":6}}`, ids()},
		{"term dynamic text token", `{"term":{"data.nickname":"johnny"}}`, ids("u1")},
		{"term dynamic text whole value", `{"term":{"data.nickname":"Big Johnny"}}`, ids()},
		{"term keyword sub-field", `{"term":{"data.nickname.keyword":"Big Johnny"}}`, ids("u1")},
		{"term array any element", `{"term":{"data.tags":"red"}}`, ids("u1")},
		{"term hyphenated string is analyzed", `{"term":{"data.visitorId":"v-123"}}`, ids()},
		{"term hyphenated keyword sub-field", `{"term":{"data.visitorId.keyword":"v-123"}}`, ids("a1")},
		{"term nested field flattened", `{"term":{"registrations.applicationId":"app2"}}`, ids("u1")},
		{"term nested array field", `{"term":{"registrations.roles":"admin"}}`, ids("u1")},
		{"term date epoch ms", `{"term":{"insertInstant":` + itoa(ago(40*day)) + `}}`, ids("a1")},
		{"term date string date", `{"term":{"birthDate":"1990-05-30"}}`, ids("u1")},
		{"term date math", `{"term":{"insertInstant":"now-40d"}}`, ids("a1")},
		{"term detected date", `{"term":{"data.signup":"2025-01-02T03:04:05.000Z"}}`, ids("u1")},
		{"term bool top-level", `{"term":{"active":false}}`, ids("u2")},
		{"term missing field", `{"term":{"data.nope":"x"}}`, ids()},
		// range
		{"range date math lt", `{"range":{"lastUpdateInstant":{"lt":"now-30d"}}}`, ids("a1", "u2")},
		{"range date math gte", `{"range":{"lastUpdateInstant":{"gte":"now-30d"}}}`, ids("a2", "u1")},
		{"range date math window", `{"range":{"lastUpdateInstant":{"gte":"now-2d/d","lte":"now"}}}`, ids("a2")},
		{"range hours", `{"range":{"lastLoginInstant":{"gt":"now-1h"}}}`, ids()},
		{"range hours wide", `{"range":{"lastLoginInstant":{"gt":"now-3h"}}}`, ids("u1")},
		{"range epoch ms number", `{"range":{"insertInstant":{"lt":` + itoa(ago(45*day)) + `}}}`, ids("u1", "u2")},
		{"range epoch ms string", `{"range":{"insertInstant":{"lt":"` + itoa(ago(45*day)) + `"}}}`, ids("u1", "u2")},
		{"range ISO on epoch field", `{"range":{"insertInstant":{"gte":"2025-04-01T00:00:00Z"}}}`, ids("a1", "a2", "u2")},
		{"range ISO on string date", `{"range":{"birthDate":{"gte":"1990-01-01","lt":"1991-01-01"}}}`, ids("u1")},
		{"range anchored date math", `{"range":{"birthDate":{"gte":"1990-05-29||+1d","lte":"1990-05-30||/d"}}}`, ids("u1")},
		{"range number", `{"range":{"data.count":{"gt":4,"lte":5}}}`, ids("u1")},
		{"range number exclusive", `{"range":{"data.count":{"gt":5}}}`, ids()},
		{"range number string bound", `{"range":{"data.count":{"gte":"5"}}}`, ids("u1")},
		{"range long data field with epoch bound", `{"range":{"data.emailPendingSince":{"lt":` + itoa(ago(30*day)) + `}}}`, ids("u1")},
		{"range long data field with date math never matches", `{"range":{"data.emailPendingSince":{"lt":"now-30d"}}}`, ids()},
		{"range detected date", `{"range":{"data.signup":{"gte":"2025-01-01","lt":"now"}}}`, ids("u1")},
		{"range keyword", `{"range":{"email":{"gte":"j","lt":"k"}}}`, ids("u1", "u2")},
		// exists
		{"exists", `{"exists":{"field":"email"}}`, ids("u1", "u2")},
		{"exists empty array", `{"exists":{"field":"data.tags"}}`, ids("u1")},
		{"exists null", `{"exists":{"field":"lastLoginInstant"}}`, ids("u1")},
		{"exists array of null", `{"exists":{"field":"data.nulls"}}`, ids()},
		{"exists object", `{"exists":{"field":"registrations"}}`, ids("a1", "u1")},
		{"exists empty object array", `{"exists":{"field":"memberships"}}`, ids()},
		{"exists login", `{"exists":{"field":"login"}}`, ids("u1", "u2")},
		// bool
		{"prune query", pruneQuery, ids("a1")},
		{"bool must object form", `{"bool":{"must":{"term":{"id":"a1"}}}}`, ids("a1")},
		{"bool should only needs one", `{"bool":{"should":[{"term":{"id":"a1"}},{"term":{"id":"u1"}}]}}`, ids("a1", "u1")},
		{"bool should optional with must", `{"bool":{"must":[{"term":{"data.anonymousUser":true}}],"should":[{"term":{"id":"u1"}}]}}`, ids("a1", "a2")},
		{"bool should with must and msm", `{"bool":{"must":[{"term":{"data.anonymousUser":true}}],"should":[{"term":{"id":"a1"}},{"term":{"id":"u1"}}],"minimum_should_match":1}}`, ids("a1")},
		{"bool msm 2", `{"bool":{"should":[{"term":{"tenantId":"t1"}},{"term":{"active":true}},{"exists":{"field":"email"}}],"minimum_should_match":2}}`, ids("a1", "a2", "u1")},
		{"bool msm 3", `{"bool":{"should":[{"term":{"tenantId":"t1"}},{"term":{"active":true}},{"exists":{"field":"email"}}],"minimum_should_match":"3"}}`, ids("u1")},
		{"bool msm percent", `{"bool":{"should":[{"term":{"tenantId":"t1"}},{"term":{"active":true}},{"exists":{"field":"email"}}],"minimum_should_match":"100%"}}`, ids("u1")},
		{"bool msm negative", `{"bool":{"should":[{"term":{"tenantId":"t1"}},{"term":{"active":true}},{"exists":{"field":"email"}}],"minimum_should_match":-1}}`, ids("a1", "a2", "u1")},
		{"bool msm above clause count", `{"bool":{"should":[{"term":{"id":"a1"}}],"minimum_should_match":2}}`, ids()},
		{"bool msm zero still needs one should", `{"bool":{"should":[{"term":{"id":"a1"}}],"minimum_should_match":0}}`, ids("a1")},
		{"bool msm without should matches nothing", `{"bool":{"must":[{"term":{"id":"u1"}}],"minimum_should_match":1}}`, ids()},
		{"bool must_not only", `{"bool":{"must_not":[{"term":{"data.anonymousUser":true}}]}}`, ids("u1", "u2")},
		{"bool empty", `{"bool":{}}`, all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseAt([]byte(tt.query), testNow)
			if err != nil {
				t.Fatalf("ParseAt(%s) error = %v, want nil", tt.query, err)
			}
			if got := matchingIDs(q, docs); !slices.Equal(got, tt.want) {
				t.Errorf("matches = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMatchDocumentShapes covers documents built by hand rather than JSON-decoded.
func TestMatchDocumentShapes(t *testing.T) {
	doc := map[string]any{
		"id":                "h1",
		"lastUpdateInstant": ago(40 * day), // int64
		"insertInstant":     int(ago(40 * day)),
		"data": map[string]any{
			"anonymousUser": true,
			"a.b":           1,
			"roles":         []string{"Admin", "user"},
		},
		"registrations": []map[string]any{{"applicationId": "app9", "verified": true}},
	}
	tests := []struct {
		name  string
		query string
		want  bool
	}{
		{"int64 date", `{"range":{"lastUpdateInstant":{"lt":"now-30d"}}}`, true},
		{"int date", `{"range":{"insertInstant":{"gt":"now-30d"}}}`, false},
		{"dotted key", `{"term":{"data.a.b":1}}`, true},
		{"string slice", `{"term":{"data.roles":"admin"}}`, true},
		{"prune", pruneQuery, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseAt([]byte(tt.query), testNow)
			if err != nil {
				t.Fatalf("ParseAt error = %v", err)
			}
			if got := q.Match(doc); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

// parseErrorCase is a query ParseAt must refuse, and whether with an *UnsupportedError.
type parseErrorCase struct {
	name        string
	query       string
	unsupported bool
}

func runParseErrors(t *testing.T, cases []parseErrorCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseAt([]byte(tt.query), testNow)
			if err == nil {
				t.Fatalf("ParseAt(%s) = %v, nil; want an error", tt.query, q)
			}
			var ue *UnsupportedError
			if got := errors.As(err, &ue); got != tt.unsupported {
				t.Errorf("ParseAt(%s) error %q: is *UnsupportedError = %v, want %v", tt.query, err, got, tt.unsupported)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	runParseErrors(t, []parseErrorCase{
		{"empty input", ``, false},
		{"malformed", `{"term":`, false},
		{"not an object", `[]`, false},
		{"string", `"x"`, false},
		{"trailing data", `{"match_all":{}} {}`, false},
		{"empty object", `{}`, false},
		{"too deep", strings.Repeat(`{"bool":{"must":`, 60) + `{"match_all":{}}` + strings.Repeat(`}}`, 60), false},
		{"two clauses", `{"term":{"id":"a"},"match":{"id":"b"}}`, false},
		{"query wrapper", `{"query":{"match_all":{}}}`, true},
		{"unknown clause", `{"fuzzy":{"email":"x"}}`, true},
		{"query_string clause", `{"query_string":{"query":"x"}}`, true},
		{"duplicate key", `{"bool":{"must":[],"must":[]}}`, false},
		{"term unknown option", `{"term":{"id":{"value":"x","foo":1}}}`, true},
		{"term no field", `{"term":{}}`, false},
		{"term two fields", `{"term":{"id":"a","email":"b"}}`, false},
		{"term null", `{"term":{"id":null}}`, false},
		{"term array", `{"term":{"id":["a"]}}`, false},
		{"term missing value", `{"term":{"id":{"boost":1}}}`, false},
		{"term bad boost", `{"term":{"id":{"value":"x","boost":"high"}}}`, false},
		{"term bad case_insensitive", `{"term":{"id":{"value":"x","case_insensitive":"yes"}}}`, false},
		{"term wildcard field", `{"term":{"data.*":"x"}}`, true},
		{"term empty segment", `{"term":{"data..x":"x"}}`, true},
		{"terms lookup", `{"terms":{"id":{"index":"users","id":"1","path":"x"}}}`, true},
		{"match unknown option", `{"match":{"fullName":{"query":"x","fuzziness":"AUTO"}}}`, true},
		{"match_all option", `{"match_all":{"foo":1}}`, true},
		{"bool unknown occur", `{"bool":{"foo":[]}}`, true},
		{"bool must string", `{"bool":{"must":"x"}}`, false},
		{"bool must empty clause", `{"bool":{"must":[{}]}}`, false},
		{"bool nested error", `{"bool":{"filter":[{"term":{"id":"a"}},{"regexp":{"id":"a.*"}}]}}`, true},
		{"bool msm combination", `{"bool":{"should":[{"match_all":{}}],"minimum_should_match":"3<90%"}}`, true},
		{"bool msm bool", `{"bool":{"should":[{"term":{"id":"u1"}}],"minimum_should_match":true}}`, false},
		{"range bad date", `{"range":{"insertInstant":{"lt":"yesterday"}}}`, false},
		{"range bad date math unit", `{"range":{"insertInstant":{"lt":"now-3q"}}}`, false},
		{"range from", `{"range":{"insertInstant":{"from":1}}}`, true},
		{"range format", `{"range":{"insertInstant":{"lt":"now","format":"epoch_millis"}}}`, true},
		{"range time_zone", `{"range":{"insertInstant":{"lt":"now","time_zone":"+01:00"}}}`, true},
		{"range gt and gte", `{"range":{"insertInstant":{"gt":1,"gte":2}}}`, false},
		{"range no bounds", `{"range":{"insertInstant":{}}}`, false},
		{"range bound bool", `{"range":{"data.count":{"gt":true}}}`, false},
		{"range long field date math", `{"range":{"breachedPasswordLastCheckedInstant":{"lt":"now-1d"}}}`, false},
		{"range not object", `{"range":{"insertInstant":5}}`, false},
		{"exists field number", `{"exists":{"field":1}}`, false},
		{"exists wildcard field", `{"exists":{"field":"data.*"}}`, true},
		{"exists option", `{"exists":{"field":"email","foo":true}}`, true},
		{"nested bad path", `{"nested":{"path":"data","query":{"match_all":{}}}}`, true},
		{"nested field outside path", `{"nested":{"path":"registrations","query":{"term":{"id":"x"}}}}`, true},
		{"nested in nested", `{"nested":{"path":"registrations","query":{"nested":{"path":"registrations","query":{"match_all":{}}}}}}`, true},
		{"nested inner_hits", `{"nested":{"path":"registrations","query":{"match_all":{}},"inner_hits":{}}}`, true},
		{"ids type option", `{"ids":{"type":"_doc","values":["a"]}}`, true},
		{"wildcard rewrite", `{"wildcard":{"email":{"value":"a*","rewrite":"x"}}}`, true},
		{"prefix wildcard key", `{"prefix":{"email":{"wildcard":"a"}}}`, true},
	})
}

func TestUnsupportedErrorMessage(t *testing.T) {
	_, err := Parse([]byte(`{"bool":{"must":[{"fuzzy":{"email":"x"}}]}}`))
	var ue *UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("error = %v, want *UnsupportedError", err)
	}
	if got, want := ue.Error(), `unsupported query clause "fuzzy"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := err.Error(), `parse query: bool: must[0]: unsupported query clause "fuzzy"`; got != want {
		t.Errorf("wrapped error = %q, want %q", got, want)
	}
}

func TestNilQueryMatchesNothing(t *testing.T) {
	var q *Query
	if q.Match(map[string]any{"id": "x"}) {
		t.Errorf("nil Query Match = true, want false")
	}
	if (&Query{}).Match(map[string]any{"id": "x"}) {
		t.Errorf("zero Query Match = true, want false")
	}
}

// TestParseUsesClock checks that Parse takes "now" from the real clock.
func TestParseUsesClock(t *testing.T) {
	q, err := Parse([]byte(`{"range":{"lastUpdateInstant":{"gt":"now-1h"}}}`))
	if err != nil {
		t.Fatalf("Parse error = %v", err)
	}
	recent := map[string]any{"lastUpdateInstant": float64(timeNowMillis() - 60_000)}
	old := map[string]any{"lastUpdateInstant": float64(timeNowMillis() - 7_200_000)}
	if !q.Match(recent) || q.Match(old) {
		t.Errorf("Match(recent, old) = %v, %v; want true, false", q.Match(recent), q.Match(old))
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	docs := testDocs(t)
	for _, query := range []string{
		pruneQuery,
		`{"term":{"registrations.applicationId":"app1"}}`,
		`{"range":{"birthDate":{"gte":"1990-01-01"}}}`,
	} {
		q, err := ParseAt([]byte(query), testNow)
		if err != nil {
			t.Fatalf("ParseAt(%s) error = %v", query, err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			for _, d := range docs {
				q.Match(d)
			}
		})
		if allocs != 0 {
			t.Errorf("Match(%s) allocates %v times per run, want 0", query, allocs)
		}
	}
}

func TestConcurrentMatch(t *testing.T) {
	docs := testDocs(t)
	q, err := ParseAt([]byte(pruneQuery), testNow)
	if err != nil {
		t.Fatalf("ParseAt error = %v", err)
	}
	var wg sync.WaitGroup
	results := make([][]string, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				results[i] = matchingIDs(q, docs)
			}
		}()
	}
	wg.Wait()
	for i, got := range results {
		if want := ids("a1"); !slices.Equal(got, want) {
			t.Errorf("goroutine %d matches = %v, want %v", i, got, want)
		}
	}
}
