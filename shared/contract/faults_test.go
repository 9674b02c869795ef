package contract_test

import (
	"context"
	"net/http"
	"reflect"
	"testing"

	"github.com/changebank/anonuser/shared/faclient"
)

// TestFaults: the client retries a safe call (GET) after a 5xx up to its retry budget
// (2 by default) and never retries a write; the compatible server's injected faults
// answer without acting (§1.5 statuses: 503 with an Errors body, 500 with none).
func TestFaults(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		const (
			getUser   = "GET /api/user/{userId}"
			patchUser = "PATCH /api/user/{userId}"
		)
		tests := map[string]struct {
			endpoint   string
			status     int
			n          int
			wantStatus int // the client's result
			wantCalls  int
		}{
			"GET after one 503":              {endpoint: getUser, status: http.StatusServiceUnavailable, n: 1, wantStatus: http.StatusOK, wantCalls: 2},
			"GET after two 503s (= retries)": {endpoint: getUser, status: http.StatusServiceUnavailable, n: 2, wantStatus: http.StatusOK, wantCalls: 3},
			"GET gives up after three 503s":  {endpoint: getUser, status: http.StatusServiceUnavailable, n: 3, wantStatus: http.StatusServiceUnavailable, wantCalls: 3},
			"GET after one 500":              {endpoint: getUser, status: http.StatusInternalServerError, n: 1, wantStatus: http.StatusOK, wantCalls: 2},
			"PATCH 503 is not retried":       {endpoint: patchUser, status: http.StatusServiceUnavailable, n: 1, wantStatus: http.StatusServiceUnavailable, wantCalls: 1},
			"PATCH 500 is not retried":       {endpoint: patchUser, status: http.StatusInternalServerError, n: 1, wantStatus: http.StatusInternalServerError, wantCalls: 1},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				e.requireCompat(t, "injecting faults needs the compatible server")
				ctx := context.Background()
				u := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: uniqueEmail("fault"), Password: testPassword, Data: map[string]any{"watchCount": 1}}}).User
				e.srv.ResetCalls()
				e.srv.InjectFault(tc.endpoint, tc.status, tc.n)
				var err error
				if tc.endpoint == getUser {
					var got *faclient.UserResponse
					got, err = e.admin.RetrieveUser(ctx, u.ID)
					if err == nil && got.User.ID != u.ID {
						t.Errorf("retrieved user %s, want %s", got.User.ID, u.ID)
					}
				} else {
					_, err = e.admin.PatchUser(ctx, u.ID, map[string]any{"user": map[string]any{"data": map[string]any{"watchCount": 2}}})
				}
				if got := statusOf(err); got != tc.wantStatus {
					t.Errorf("status = %d (%v), want %d", got, err, tc.wantStatus)
				}
				if got := e.srv.Calls(tc.endpoint); got != tc.wantCalls {
					t.Errorf("calls to %s = %d, want %d", tc.endpoint, got, tc.wantCalls)
				}
				after, gerr := e.admin.RetrieveUser(ctx, u.ID)
				if gerr != nil {
					t.Fatalf("retrieve after the fault: %v", gerr)
				}
				if want := map[string]any{"watchCount": float64(1)}; !reflect.DeepEqual(after.User.Data, want) || after.User.LastUpdateInstant != u.LastUpdateInstant {
					t.Errorf("user after a faulted call: data %v, lastUpdateInstant %d, want unchanged %v, %d", after.User.Data, after.User.LastUpdateInstant, want, u.LastUpdateInstant)
				}
			})
		}
	})
}
