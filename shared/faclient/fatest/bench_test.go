package fatest_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient/fatest"
)

// seedMany stores n anonymous users through PutUser, half of them untouched for 40 days.
func seedMany(tb testing.TB, s *fatest.Server, now time.Time, n int) {
	tb.Helper()
	old := now.Add(-40 * 24 * time.Hour).UnixMilli()
	for i := 0; i < n; i++ {
		u := map[string]any{"username": fmt.Sprintf("anon-%07d", i), "tenantId": s.Variable("visitorTenantId"), "data": map[string]any{"anonymousUser": true, "watchCount": i % 7}}
		if i%2 == 0 {
			u["lastUpdateInstant"] = old
		}
		if err := s.PutUser(u, ""); err != nil {
			tb.Fatalf("PutUser: %v", err)
		}
	}
}

// BenchmarkPutUser measures seeding one user.
func BenchmarkPutUser(b *testing.B) {
	s, _ := newServer(b, fatest.Options{})
	i := 0
	for b.Loop() {
		if err := s.PutUser(map[string]any{"username": fmt.Sprintf("bench-%09d", i), "tenantId": s.Variable("visitorTenantId"), "data": map[string]any{"anonymousUser": true}}, ""); err != nil {
			b.Fatalf("PutUser: %v", err)
		}
		i++
	}
}

// BenchmarkSearch100k measures the prune search (a 500-user page) over 100,000 users.
func BenchmarkSearch100k(b *testing.B) {
	s, c := newServer(b, fatest.Options{})
	seedMany(b, s, c.Now(), 100000)
	key := keysOf(s).admin
	body := map[string]any{"search": map[string]any{"query": pruneQuery, "numberOfResults": 500}}
	for b.Loop() {
		r := do(b, s, http.MethodPost, "/api/user/search", key, body)
		if r.status != http.StatusOK || r.body["total"] != float64(10000) {
			b.Fatalf("search = %d, total %v; want 200 and the capped total 10000", r.status, r.body["total"])
		}
	}
}
