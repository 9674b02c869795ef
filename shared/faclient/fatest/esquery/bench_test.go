package esquery

import (
	"fmt"
	"testing"
	"time"
)

// benchDocs builds n JSON-shaped users: a third anonymous (half of them stale), the rest with email.
func benchDocs(n int) []map[string]any {
	docs := make([]map[string]any, n)
	for i := range docs {
		d := map[string]any{
			"id":                fmt.Sprintf("00000000-0000-0000-0000-%012d", i),
			"tenantId":          "f24aca2b-ce4a-4dad-951a-c9d690e71415",
			"active":            true,
			"insertInstant":     float64(ago(time.Duration(i%90) * day)),
			"lastUpdateInstant": float64(ago(time.Duration(i%60) * day)),
			"data":              map[string]any{"anonymousUser": i%3 == 0},
			"registrations": []any{map[string]any{
				"applicationId": "3c219e58-ed0e-4b18-ad48-f4f92793ae32", "verified": false,
			}},
		}
		if i%3 != 0 {
			d["email"] = fmt.Sprintf("user%d@example.com", i)
			d["fullName"] = fmt.Sprintf("User Number%d", i)
		}
		docs[i] = d
	}
	return docs
}

func BenchmarkMatch(b *testing.B) {
	docs := benchDocs(100_000)
	q, err := ParseAt([]byte(pruneQuery), testNow)
	if err != nil {
		b.Fatalf("ParseAt error = %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	matched := 0
	for b.Loop() {
		matched = 0
		for _, d := range docs {
			if q.Match(d) {
				matched++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(docs)), "ns/doc")
	if matched == 0 {
		b.Fatalf("matched 0 docs, want some")
	}
}
