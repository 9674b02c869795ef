package fatest_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/changebank/anonuser/shared/faclient/fatest"
)

func TestInjectFault(t *testing.T) {
	tests := map[string]struct {
		endpoint       string
		status         int
		call           func(t *testing.T, s *fatest.Server, id string) resp
		wantBodyCode   string // "" = empty body
		checkUnchanged func(t *testing.T, s *fatest.Server, id string)
	}{
		"503 with a JSON body": {
			endpoint: "GET /api/user/{userId}", status: http.StatusServiceUnavailable,
			call: func(t *testing.T, s *fatest.Server, id string) resp {
				return do(t, s, http.MethodGet, "/api/user/"+id, keysOf(s).admin, nil)
			},
			wantBodyCode: "[SearchIndexUnavailable]",
		},
		"500 empty, PATCH not applied": {
			endpoint: "PATCH /api/user/{userId}", status: http.StatusInternalServerError,
			call: func(t *testing.T, s *fatest.Server, id string) resp {
				return do(t, s, http.MethodPatch, "/api/user/"+id, keysOf(s).admin, map[string]any{"user": map[string]any{"data": map[string]any{"n": 2}}})
			},
			checkUnchanged: func(t *testing.T, s *fatest.Server, id string) {
				if u, _ := s.User(id); path(u, "data.n") != int64(1) {
					t.Errorf("data.n = %v after a faulted PATCH, want 1", path(u, "data.n"))
				}
			},
		},
		"504 transaction body, nothing created": {
			endpoint: "POST /api/user", status: http.StatusGatewayTimeout,
			call: func(t *testing.T, s *fatest.Server, id string) resp {
				return do(t, s, http.MethodPost, "/api/user", keysOf(s).admin, map[string]any{"user": map[string]any{"email": "faulted@example.com", "password": "long-enough-pw"}})
			},
			wantBodyCode: "[WebhookTransactionException]",
			checkUnchanged: func(t *testing.T, s *fatest.Server, id string) {
				r := do(t, s, http.MethodGet, "/api/user?email=faulted@example.com", keysOf(s).admin, nil)
				wantStatus(t, r, http.StatusNotFound)
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, _ := newServer(t, fatest.Options{})
			id := createUser(t, s, keysOf(s).admin, map[string]any{"username": "faults", "password": "long-enough-pw", "data": map[string]any{"n": 1}})
			s.ResetCalls()
			s.InjectFault(tc.endpoint, tc.status, 2)
			for i := 0; i < 2; i++ {
				r := tc.call(t, s, id)
				wantStatus(t, r, tc.status)
				if tc.wantBodyCode == "" {
					wantEmpty(t, r)
				} else if got := generalCodes(r); !slices.Contains(got, tc.wantBodyCode) {
					t.Errorf("generalErrors = %v, want %s", got, tc.wantBodyCode)
				}
				if tc.checkUnchanged != nil {
					tc.checkUnchanged(t, s, id)
				}
			}
			if r := tc.call(t, s, id); r.status == tc.status {
				t.Errorf("third call status = %d, want the fault used up after 2 calls", r.status)
			}
			if got := s.Calls(tc.endpoint); got < 3 {
				t.Errorf("Calls(%q) = %d, want at least 3 (faulted calls count)", tc.endpoint, got)
			}
		})
	}
	t.Run("n <= 0 removes a fault", func(t *testing.T) {
		s, _ := newServer(t, fatest.Options{})
		s.InjectFault("GET /.well-known/jwks.json", http.StatusServiceUnavailable, 5)
		s.InjectFault("GET /.well-known/jwks.json", http.StatusServiceUnavailable, 0)
		wantStatus(t, do(t, s, http.MethodGet, "/.well-known/jwks.json", "", nil), http.StatusOK)
	})
}

func TestCallCounting(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	key := keysOf(s).admin
	if s.TotalCalls() != 0 {
		t.Fatalf("TotalCalls after start = %d, want 0", s.TotalCalls())
	}
	do(t, s, http.MethodGet, "/api/user/6b1a3a80-0000-4000-8000-000000000000", key, nil)
	do(t, s, http.MethodGet, "/api/user/6b1a3a80-0000-4000-8000-000000000001", "bad-key", nil)
	do(t, s, http.MethodGet, "/.well-known/jwks.json", "", nil)
	if got := s.Calls("GET /api/user/{userId}"); got != 2 {
		t.Errorf("Calls(GET /api/user/{userId}) = %d, want 2", got)
	}
	if got := s.Calls("GET /.well-known/jwks.json"); got != 1 {
		t.Errorf("Calls(JWKS) = %d, want 1", got)
	}
	if got := s.TotalCalls(); got != 3 {
		t.Errorf("TotalCalls = %d, want 3", got)
	}
	s.ResetCalls()
	if s.TotalCalls() != 0 || s.Calls("GET /api/user/{userId}") != 0 {
		t.Errorf("after ResetCalls: total %d, user %d, want 0", s.TotalCalls(), s.Calls("GET /api/user/{userId}"))
	}
}

func TestOnResponse(t *testing.T) {
	type seen struct {
		status int
		body   string
	}
	ch := make(chan seen, 16)
	s, _ := newServer(t, fatest.Options{OnResponse: func(r *http.Request, status int, header http.Header, body []byte) {
		if r.URL.Path == "/api/status" {
			ch <- seen{status, string(body)}
		}
	}})
	r := do(t, s, http.MethodGet, "/api/status", "", nil)
	got := <-ch
	if got.status != r.status || got.body != string(r.raw) {
		t.Errorf("OnResponse saw %d %q, want what the client got: %d %q", got.status, got.body, r.status, r.raw)
	}
}
