package esquery

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// testNow is the fixed clock for date math in tests.
var testNow = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

// ago returns the epoch-ms instant d before testNow.
func ago(d time.Duration) int64 { return testNow.Add(-d).UnixMilli() }

const day = 24 * time.Hour

// testDocs returns the fixture users, decoded from JSON as the server does (numbers are float64).
//
//   - a1: old anonymous user, no email key, one unverified app1 registration.
//   - a2: recent anonymous user, email null, no registrations.
//   - u1: full user, two registrations (app1 verified, app2 not), rich data.
//   - u2: user with empty arrays and a null lastLoginInstant.
func testDocs(tb testing.TB) []map[string]any {
	tb.Helper()
	src := strings.NewReplacer(
		"NOW-40d", itoa(ago(40*day)),
		"NOW-1d", itoa(ago(1*day)),
		"NOW-100d", itoa(ago(100*day)),
		"NOW-10d", itoa(ago(10*day)),
		"NOW-2h", itoa(ago(2*time.Hour)),
		"NOW-31d", itoa(ago(31*day)),
		"NOW-5d", itoa(ago(5*day)),
		"NOW-50d", itoa(ago(50*day)),
	).Replace(`[
{"id":"a1","tenantId":"t1","active":true,"insertInstant":NOW-40d,"lastUpdateInstant":NOW-40d,
 "data":{"anonymousUser":true,"visitorId":"v-123"},
 "registrations":[{"applicationId":"app1","id":"r1","roles":["user"],"verified":false,"insertInstant":NOW-40d}]},
{"id":"a2","tenantId":"t1","active":true,"email":null,"insertInstant":NOW-1d,"lastUpdateInstant":NOW-1d,
 "data":{"anonymousUser":true}},
{"id":"u1","tenantId":"t1","active":true,"email":"john.doe@example.com","username":"JohnnyD",
 "firstName":"John","lastName":"Doe","fullName":"John Doe","birthDate":"1990-05-30",
 "insertInstant":NOW-100d,"lastUpdateInstant":NOW-10d,"lastLoginInstant":NOW-2h,"preferredLanguages":["en","fr"],
 "data":{"anonymousUser":false,"emailPendingSince":NOW-31d,"tags":["Red","Blue"],"nickname":"Big Johnny",
         "signup":"2025-01-02T03:04:05Z","count":5,"nulls":[null]},
 "registrations":[{"applicationId":"app1","id":"r2","roles":["admin","user"],"verified":true,"insertInstant":NOW-100d},
                  {"applicationId":"app2","id":"r3","verified":false,"insertInstant":NOW-5d}],
 "memberships":[]},
{"id":"u2","tenantId":"t2","active":false,"email":"jane@example.org","username":"jane",
 "firstName":"Jane","lastName":"Roe","fullName":"Jane Roe","birthDate":"1985-12-01",
 "insertInstant":NOW-50d,"lastUpdateInstant":NOW-50d,"lastLoginInstant":null,
 "data":{"tags":[]},"registrations":[]}
]`)
	var docs []map[string]any
	if err := json.Unmarshal([]byte(src), &docs); err != nil {
		tb.Fatalf("decode fixtures: %v", err)
	}
	return docs
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// matchingIDs returns the sorted ids of the docs q matches.
func matchingIDs(q *Query, docs []map[string]any) []string {
	ids := []string{}
	for _, d := range docs {
		if q.Match(d) {
			ids = append(ids, d["id"].(string))
		}
	}
	slices.Sort(ids)
	return ids
}

func ids(s ...string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func idsOf(docs []map[string]any) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i], _ = d["id"].(string)
	}
	return out
}

func timeNowMillis() int64 { return time.Now().UnixMilli() }
