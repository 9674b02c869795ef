package fatest_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/fatest"
)

// seed100k stores n anonymous users, half of them stale.
func seedMany(tb testing.TB, s *fatest.Server, now time.Time, n int) {
	tb.Helper()
	old := now.Add(-40 * 24 * time.Hour).UnixMilli()
	for i := 0; i < n; i++ {
		u := map[string]any{"username": fmt.Sprintf("anon-%07d", i), "data": map[string]any{"anonymousUser": true, "watchCount": i % 7}}
		if i%2 == 0 {
			u["lastUpdateInstant"] = old
		}
		if err := s.PutUser(u, ""); err != nil {
			tb.Fatalf("PutUser: %v", err)
		}
	}
}

// BenchmarkSearch100k measures the prune search (first page) over 100,000 users.
func BenchmarkSearch100k(b *testing.B) {
	s, c := newServer(b, fatest.Options{})
	start := time.Now()
	seedMany(b, s, c.Now(), 100000)
	b.Logf("seeded 100k users in %v", time.Since(start))
	key := keysOf(s).admin
	body := map[string]any{"search": map[string]any{"query": pruneQuery, "numberOfResults": 500}}
	b.ResetTimer()
	for b.Loop() {
		r := do(b, s, http.MethodPost, "/api/user/search", key, body)
		if r.status != http.StatusOK || r.body["total"] != float64(10000) {
			b.Fatalf("search = %d total %v", r.status, r.body["total"])
		}
	}
}
