package esquery

import (
	"slices"
	"testing"
)

// matchCase is one query and the fixture users (testDocs) it must match.
type matchCase struct {
	name  string
	query string
	want  []string
}

// runMatchCases compiles each case with parse and checks which fixture users match.
func runMatchCases(t *testing.T, parse func(string) (*Query, error), cases []matchCase) {
	t.Helper()
	docs := testDocs(t)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			q, err := parse(tt.query)
			if err != nil {
				t.Fatalf("parse(%s) error = %v, want nil", tt.query, err)
			}
			if got := matchingIDs(q, docs); !slices.Equal(got, tt.want) {
				t.Errorf("parse(%s) matches = %v, want %v", tt.query, got, tt.want)
			}
		})
	}
}

func parseJSON(q string) (*Query, error) { return ParseAt([]byte(q), testNow) }

// TestParseClauses covers the clauses besides bool, term, range and exists (parse_test.go).
func TestParseClauses(t *testing.T) {
	all := ids("a1", "a2", "u1", "u2")
	runMatchCases(t, parseJSON, []matchCase{
		// terms
		{"terms", `{"terms":{"id":["a1","u1","zzz"]}}`, ids("a1", "u1")},
		{"terms array field", `{"terms":{"registrations.roles":["admin","x"],"boost":2}}`, ids("u1")},
		{"terms bool", `{"terms":{"data.anonymousUser":[true]}}`, ids("a1", "a2")},
		{"terms empty", `{"terms":{"id":[]}}`, ids()},
		// match
		{"match text any token", `{"match":{"fullName":"JOHN smith"}}`, ids("u1")},
		{"match text and misses", `{"match":{"fullName":{"query":"john smith","operator":"and"}}}`, ids()},
		{"match text and", `{"match":{"fullName":{"query":"Doe John","operator":"AND"}}}`, ids("u1")},
		{"match bool from string (FusionAuth's data example)", `{"match":{"data.anonymousUser":{"query":"true"}}}`, ids("a1", "a2")},
		{"match bool", `{"match":{"data.anonymousUser":false}}`, ids("u1")},
		{"match email case-insensitive (FusionAuth's email example)", `{"match":{"email":{"query":"JOHN.DOE@EXAMPLE.COM"}}}`, ids("u1")},
		{"match keyword exact", `{"match":{"registrations.applicationId":"app1"}}`, ids("a1", "u1")},
		{"match analyzed dynamic", `{"match":{"data.visitorId":"v-123"}}`, ids("a1")},
		{"match dynamic value case-insensitive", `{"match":{"data.nickname":"JOHNNY"}}`, ids("u1")},
		{"match number", `{"match":{"data.count":5}}`, ids("u1")},
		{"match no tokens", `{"match":{"fullName":"--"}}`, ids()},
		// match_phrase
		{"match_phrase in order", `{"match_phrase":{"fullName":"john doe"}}`, ids("u1")},
		{"match_phrase wrong order", `{"match_phrase":{"fullName":"doe john"}}`, ids()},
		{"match_phrase long form", `{"match_phrase":{"data.nickname":{"query":"Big Johnny","slop":0}}}`, ids("u1")},
		{"match_phrase keyword is exact", `{"match_phrase":{"email":"JANE@example.org"}}`, ids("u2")},
		// match_all, match_none, constant_score
		{"match_all", `{"match_all":{}}`, all},
		{"match_all boost", `{"match_all":{"boost":1.2}}`, all},
		{"match_none", `{"match_none":{}}`, ids()},
		{"constant_score (FusionAuth's data exists example)", `{"constant_score":{"filter":{"exists":{"field":"data.visitorId"}},"boost":1}}`, ids("a1")},
		// nested
		{"nested per element", `{"nested":{"path":"registrations","query":{"bool":{"must":[
			{"match":{"registrations.applicationId":"app2"}},{"match":{"registrations.verified":true}}]}}}}`, ids()},
		{"flattened bool mixes elements", `{"bool":{"must":[
			{"match":{"registrations.applicationId":"app2"}},{"match":{"registrations.verified":true}}]}}`, ids("u1")},
		{"nested unverified app1 (FusionAuth's example)", `{"bool":{"must":[{"nested":{"path":"registrations","score_mode":"none","query":{"bool":{"must":[
			{"match":{"registrations.applicationId":"app1"}},{"match":{"registrations.verified":false}}]}}}}]}}`, ids("a1")},
		{"nested role (FusionAuth's example)", `{"nested":{"path":"registrations","query":{"bool":{"must":[
			{"match":{"registrations.applicationId":"app1"}},{"match":{"registrations.roles":"admin"}}]}}}}`, ids("u1")},
		{"nested range", `{"nested":{"path":"registrations","query":{"range":{"registrations.insertInstant":{"gte":"now-7d"}}}}}`, ids("u1")},
		{"nested must_not inside", `{"nested":{"path":"registrations","query":{"bool":{"must_not":[{"term":{"registrations.verified":true}}]}}}}`, ids("a1", "u1")},
		{"nested exists on empty", `{"nested":{"path":"memberships","query":{"match_all":{}}}}`, ids()},
		// ids
		{"ids", `{"ids":{"values":["a2","nope"]}}`, ids("a2")},
		// wildcard and prefix
		{"wildcard suffix", `{"wildcard":{"email":"*@example.com"}}`, ids("u1")},
		{"wildcard exact_lower is case-insensitive", `{"wildcard":{"email":{"value":"J*@EXAMPLE.*"}}}`, ids("u1", "u2")},
		{"wildcard question mark", `{"wildcard":{"tenantId":"t?"}}`, all},
		{"wildcard keyword case-sensitive", `{"wildcard":{"tenantId":"T?"}}`, ids()},
		{"wildcard keyword case_insensitive", `{"wildcard":{"tenantId":{"wildcard":"T?","case_insensitive":true}}}`, all},
		{"wildcard text token", `{"wildcard":{"fullName":"jo*"}}`, ids("u1")},
		{"wildcard never matches a date", `{"wildcard":{"data.signup":"2025*"}}`, ids()},
		{"prefix", `{"prefix":{"id":"a"}}`, ids("a1", "a2")},
		{"prefix keyword case-sensitive", `{"prefix":{"id":"A"}}`, ids()},
		{"prefix case_insensitive", `{"prefix":{"id":{"value":"A","case_insensitive":true}}}`, ids("a1", "a2")},
		{"prefix wildcard chars are literal", `{"prefix":{"id":"a*"}}`, ids()},
		{"prefix nested field", `{"prefix":{"registrations.applicationId":"app"}}`, ids("a1", "u1")},
	})
}

func TestParseClauseErrors(t *testing.T) {
	runParseErrors(t, []parseErrorCase{
		{"match operator", `{"match":{"fullName":{"query":"x","operator":"xor"}}}`, false},
		{"match missing query", `{"match":{"fullName":{"operator":"and"}}}`, false},
		{"match null", `{"match":{"fullName":null}}`, false},
		{"match_phrase slop", `{"match_phrase":{"fullName":{"query":"a b","slop":2}}}`, true},
		{"match_phrase analyzer", `{"match_phrase":{"fullName":{"query":"a b","analyzer":"standard"}}}`, true},
		{"terms not array", `{"terms":{"id":"a"}}`, false},
		{"terms null element", `{"terms":{"id":[null]}}`, false},
		{"ids values not array", `{"ids":{"values":"a"}}`, false},
		{"ids value number", `{"ids":{"values":[1]}}`, false},
		{"constant_score without filter", `{"constant_score":{}}`, false},
		{"constant_score bad filter", `{"constant_score":{"filter":{"fuzzy":{"email":"x"}}}}`, true},
		{"nested without query", `{"nested":{"path":"registrations"}}`, false},
		{"nested path number", `{"nested":{"path":1,"query":{"match_all":{}}}}`, false},
		{"nested score_mode", `{"nested":{"path":"registrations","score_mode":"x","query":{"match_all":{}}}}`, false},
		{"nested array in must (as FusionAuth's role example prints it)", `{"bool":{"must":[[{"match_all":{}}]]}}`, false},
		{"wildcard value and wildcard", `{"wildcard":{"email":{"value":"a","wildcard":"b"}}}`, false},
		{"wildcard number", `{"wildcard":{"email":5}}`, false},
	})
}
