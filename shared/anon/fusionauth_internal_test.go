package anon

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/changebank/anonuser/shared/faclient"
)

func TestFusionAuthErrorTranslation(t *testing.T) {
	answer := func(status int, code string) error {
		e := &faclient.Error{Method: "PATCH", Endpoint: "/api/user/{userId}", StatusCode: status}
		if code != "" {
			e.Errors.FieldErrors = map[string][]faclient.ErrorDetail{"user.email": {{Code: code}}}
		}
		return e
	}
	vocabulary := []error{ErrGone, ErrNotAnonymous, ErrInvalidEmail, ErrTaken, ErrEmailNotSent, ErrContended, ErrUnavailable}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"404", answer(404, ""), ErrGone},
		{"duplicate email", answer(400, "[duplicate]user.email"), ErrTaken},
		{"email too long", answer(400, "[tooLong]user.email"), ErrInvalidEmail},
		{"not an email", answer(400, "[notEmail]user.email"), ErrInvalidEmail},
		{"blocked domain", answer(400, "[blocked]user.email"), ErrInvalidEmail},
		{"other 400", answer(400, "[blank]user.username"), ErrUnavailable},
		{"key refused", answer(401, ""), ErrUnavailable},
		{"forbidden", answer(403, ""), ErrUnavailable},
		{"server error", answer(500, ""), ErrUnavailable},
		{"unreachable", errors.New("dial tcp 127.0.0.1:9011: connection refused"), ErrUnavailable},
		{"timeout", fmt.Errorf("fusionauth: GET /api/user/{userId}: %w", context.DeadlineExceeded), ErrUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := fusionAuthError(tc.err, "doing something")
			for _, v := range vocabulary {
				if errors.Is(got, v) != (v == tc.want) {
					t.Errorf("errors.Is(%v, %v)=%v, want only %v", got, v, !(v == tc.want), tc.want)
				}
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("%v does not keep FusionAuth's error for the log", got)
			}
		})
	}
	if fusionAuthError(nil, "nothing") != nil {
		t.Error("nil became an error")
	}
}
