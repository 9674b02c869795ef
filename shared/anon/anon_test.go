package anon_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/faclient"
)

func TestRandomString(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		s, err := anon.RandomString(64)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 64 {
			t.Fatalf("len=%d, want 64", len(s))
		}
		if seen[s] {
			t.Fatalf("repeated value %q", s)
		}
		seen[s] = true
		if i := strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune(alphabet, r) }); i >= 0 {
			t.Fatalf("character %q outside [A-Za-z0-9]", s[i])
		}
	}
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// TestRandomStringIsUniform is a chi-square test over 124,000 characters. A generator
// taking b%62 of every byte draws the first eight characters 5/4 as often and scores
// about 800; a uniform one scores about 61 (the degrees of freedom). 129 is the 1e-6
// critical value for 61 degrees of freedom (Wilson-Hilferty), so a fair generator fails
// once in a million runs.
func TestRandomStringIsUniform(t *testing.T) {
	const draws = 2000 * 62
	counts := map[rune]int{}
	for range draws / 62 {
		s, err := anon.RandomString(62)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range s {
			counts[r]++
		}
	}
	if len(counts) != 62 {
		t.Fatalf("%d distinct characters, want 62", len(counts))
	}
	expected := float64(draws) / 62
	chi2 := 0.0
	for _, n := range counts {
		d := float64(n) - expected
		chi2 += d * d / expected
	}
	if chi2 > 129 {
		t.Errorf("chi-square=%.1f over 62 characters, want at most 129: the characters are not drawn uniformly (counts %v)", chi2, counts)
	}
}

func TestNormalizeEmail(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"Bob@Example.COM", "bob@example.com", true},
		{"  a.b+tag@sub.example.org ", "a.b+tag@sub.example.org", true},
		{"", "", false},
		{"bob", "", false},
		{"bob@localhost", "", false},
		{"Bob <bob@example.com>", "", false},
		{"bob@example.com, eve@example.com", "", false},
		{"bob@@example.com", "", false},
		{"bob@example..com", "", false},
		{"bob@.example.com", "", false},
		{strings.Repeat("a", 65) + "@example.com", "", false},
		{"a@" + strings.Repeat("b", 250) + ".com", "", false},
		{strings.Repeat("a", 60) + "@" + strings.Repeat("b", 127) + ".com", "", false}, // 192: over FusionAuth's 191
		{strings.Repeat("a", 60) + "@" + strings.Repeat("b", 126) + ".com", strings.Repeat("a", 60) + "@" + strings.Repeat("b", 126) + ".com", true},
		{"\"quoted\"@example.com", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := anon.NormalizeEmail(tc.in)
			if tc.ok != (err == nil) || got != tc.want {
				t.Errorf("NormalizeEmail(%q)=%q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
			if err != nil && !errors.Is(err, anon.ErrInvalidEmail) {
				t.Errorf("error %v is not ErrInvalidEmail", err)
			}
		})
	}
}

// refusingStore is a stub user whose email PATCH FusionAuth refuses with code.
type refusingStore struct {
	code   string
	forgot int
}

func (s *refusingStore) RetrieveUser(_ context.Context, id string) (*faclient.UserResponse, error) {
	return &faclient.UserResponse{User: faclient.User{ID: id, Active: true, Data: map[string]any{anon.DataAnonymous: true}}}, nil
}

func (s *refusingStore) PatchUser(context.Context, string, map[string]any) (*faclient.UserResponse, error) {
	return nil, &faclient.Error{Method: "PATCH", Endpoint: "/api/user/{userId}", StatusCode: 400,
		Errors: faclient.Errors{FieldErrors: map[string][]faclient.ErrorDetail{"user.email": {{Code: s.code}}}}}
}

func (s *refusingStore) PatchUserJSONPatch(ctx context.Context, id string, _ []faclient.PatchOperation) (*faclient.UserResponse, error) {
	return s.PatchUser(ctx, id, nil)
}

func (s *refusingStore) ForgotPassword(context.Context, faclient.ForgotPasswordRequest) (*faclient.ForgotPasswordResponse, error) {
	s.forgot++
	return &faclient.ForgotPasswordResponse{}, nil
}

func TestAddressRefusedByFusionAuthIsInvalid(t *testing.T) {
	for _, code := range []string{"[tooLong]user.email", "[notEmail]user.email", "[blocked]user.email"} {
		t.Run(code, func(t *testing.T) {
			store := &refusingStore{code: code}
			err := anon.NewConverter(store, "", nil).RequestConversion(context.Background(), "00000000-0000-4000-8000-000000000001", "x@example.com")
			if !errors.Is(err, anon.ErrInvalidEmail) {
				t.Errorf("err=%v, want ErrInvalidEmail", err)
			}
			if store.forgot != 0 {
				t.Error("forgot-password called for a refused address")
			}
		})
	}
	store := &refusingStore{code: "[duplicate]user.email"}
	if err := anon.NewConverter(store, "", nil).RequestConversion(context.Background(), "00000000-0000-4000-8000-000000000001", "x@example.com"); err != nil || store.forgot != 0 {
		t.Errorf("duplicate: err=%v forgot=%d, want silent success and no email", err, store.forgot)
	}
}
