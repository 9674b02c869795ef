package anon_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/lock"
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
		{strings.Repeat("a", 64) + "@example.com", strings.Repeat("a", 64) + "@example.com", true},
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

// refusingStore is a stub user, never asked for an address, whose email FusionAuth
// refuses with code.
type refusingStore struct {
	code         string
	forgot, sent int
}

func (s *refusingStore) user(id string) faclient.User {
	return faclient.User{ID: id, Active: true, LastUpdateInstant: 1, Data: map[string]any{anon.DataAnonymous: true, anon.DataWatchCount: 1.0}}
}

func (s *refusingStore) RetrieveUser(_ context.Context, id string) (*faclient.UserResponse, error) {
	return &faclient.UserResponse{User: s.user(id)}, nil
}

func (s *refusingStore) PatchUserJSONPatch(_ context.Context, id string, ops []faclient.PatchOperation) (*faclient.UserResponse, error) {
	for _, op := range ops {
		if op.Path == "/user/email" {
			return nil, &faclient.Error{Method: "PATCH", Endpoint: "/api/user/{userId}", StatusCode: 400,
				Errors: faclient.Errors{FieldErrors: map[string][]faclient.ErrorDetail{"user.email": {{Code: s.code}}}}}
		}
	}
	return &faclient.UserResponse{User: s.user(id)}, nil
}

func (s *refusingStore) CreateUser(context.Context, string, faclient.UserRequest) (*faclient.UserResponse, error) {
	return nil, errors.New("unexpected create")
}

func (s *refusingStore) DeleteUser(context.Context, string) error {
	return errors.New("unexpected delete")
}

func (s *refusingStore) ForgotPassword(context.Context, faclient.ForgotPasswordRequest) (*faclient.ForgotPasswordResponse, error) {
	s.forgot++
	return &faclient.ForgotPasswordResponse{}, nil
}

func (s *refusingStore) SendEmail(context.Context, string, faclient.SendRequest) (*faclient.SendResponse, error) {
	s.sent++
	return &faclient.SendResponse{}, nil
}

// TestAddressRefusedByFusionAuth: an address FusionAuth will not store is the visitor's
// to correct (nothing sent); one another account holds is answered like a free one,
// with the account-exists email instead of the set-password email.
func TestAddressRefusedByFusionAuth(t *testing.T) {
	const id = "00000000-0000-4000-8000-000000000001"
	opts := anon.ConverterOptions{AccountExistsTemplateID: "3d8c1f52-6b7a-4e9d-a1c4-5f2e8b0d7c93"}
	for code, want := range map[string]error{"[tooLong]user.email": anon.ErrEmailTooLong, "[notEmail]user.email": anon.ErrInvalidEmail, "[blocked]user.email": anon.ErrInvalidEmail} {
		t.Run(code, func(t *testing.T) {
			store := &refusingStore{code: code}
			_, err := anon.NewConverter(store, lock.NewMemory(), opts).RequestConversion(context.Background(), id, "x@example.com")
			if !errors.Is(err, want) || !errors.Is(err, anon.ErrInvalidEmail) {
				t.Errorf("err=%v, want %v (an ErrInvalidEmail)", err, want)
			}
			if store.forgot+store.sent != 0 {
				t.Error("an email was sent for a refused address")
			}
		})
	}
	store := &refusingStore{code: "[duplicate]user.email"}
	got, err := anon.NewConverter(store, lock.NewMemory(), opts).RequestConversion(context.Background(), id, "x@example.com")
	if err != nil || got != (anon.Requested{Holder: id, Taken: true}) || store.forgot != 0 || store.sent != 1 {
		t.Errorf("duplicate: %+v err=%v forgot=%d sent=%d, want success on the same stub, taken, and one account-exists email", got, err, store.forgot, store.sent)
	}
}

// TestMovedIDIsAVersion5UUID: the id of the stub a profile moves to is a valid,
// deterministic FusionAuth user id, different for each address and each old stub.
func TestMovedIDIsAVersion5UUID(t *testing.T) {
	// RFC 9562's construction, checked against Python's uuid.uuid5(NAMESPACE_DNS, …).
	if got := anon.MovedID("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com"); got != "2ed6657d-e927-568b-95e1-2665a8aea6a2" {
		t.Errorf("MovedID of the DNS namespace and www.example.com = %s, want 2ed6657d-e927-568b-95e1-2665a8aea6a2", got)
	}
	a := anon.MovedID("00000000-0000-4000-8000-000000000001", "a@example.com")
	if !anon.ValidUserID(a) || a[14] != '5' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Errorf("MovedID=%s, want a version 5 RFC 4122 UUID", a)
	}
	if b := anon.MovedID("00000000-0000-4000-8000-000000000001", "a@example.com"); b != a {
		t.Errorf("MovedID is not deterministic: %s, %s", a, b)
	}
	for _, other := range []string{
		anon.MovedID("00000000-0000-4000-8000-000000000001", "b@example.com"),
		anon.MovedID("00000000-0000-4000-8000-000000000002", "a@example.com"),
	} {
		if other == a {
			t.Errorf("MovedID collides: %s", a)
		}
	}
}
