package token_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/token"
)

func TestParseKeys(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", n))) }
	cases := []struct {
		name, json string
		wantIDs    []string
		wantErr    string // part of the error; "" = accepted
	}{
		{"one key", `[{"kid":"a","secret":"` + b64(32) + `"}]`, []string{"a"}, ""},
		{"two keys, order kept", `[{"kid":"new","secret":"` + b64(48) + `"},{"kid":"old","secret":"` + b64(32) + `"}]`, []string{"new", "old"}, ""},
		{"empty list", `[]`, nil, "empty"},
		{"null", `null`, nil, "empty"},
		{"not an array", `{"kid":"a","secret":"` + b64(32) + `"}`, nil, "not a JSON array"},
		{"not JSON", `kid=a`, nil, "not a JSON array"},
		{"secret not base64", `[{"kid":"a","secret":"not base64!"}]`, nil, "not a JSON array"},
		{"empty kid", `[{"kid":"","secret":"` + b64(32) + `"}]`, nil, "key 0 has an empty kid"},
		{"missing kid", `[{"secret":"` + b64(32) + `"}]`, nil, "key 0 has an empty kid"},
		{"duplicate kid", `[{"kid":"a","secret":"` + b64(32) + `"},{"kid":"a","secret":"` + b64(40) + `"}]`, nil, `kid "a" is listed twice`},
		{"short secret", `[{"kid":"a","secret":"` + b64(32) + `"},{"kid":"b","secret":"` + b64(31) + `"}]`, nil, `kid "b" has a 31-byte secret, want at least 32`},
		{"missing secret", `[{"kid":"a"}]`, nil, `kid "a" has a 0-byte secret`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := token.ParseKeys([]byte(tc.json))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err=%v, want one saying %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), b64(31)) || strings.Contains(err.Error(), strings.Repeat("k", 31)) {
					t.Errorf("error %q holds a secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, k := range keys {
				ids = append(ids, k.ID)
				if len(k.Secret) < token.MinSecretLen {
					t.Errorf("kid %s: secret %d bytes", k.ID, len(k.Secret))
				}
			}
			if strings.Join(ids, ",") != strings.Join(tc.wantIDs, ",") {
				t.Errorf("kids=%v, want %v", ids, tc.wantIDs)
			}
		})
	}
}

func TestKeyStringHidesTheSecret(t *testing.T) {
	k := token.Key{ID: "a", Secret: []byte(strings.Repeat("s", 32))}
	for _, got := range []string{k.String(), (&k).String()} {
		if strings.Contains(got, "sss") || !strings.Contains(got, `"a"`) {
			t.Errorf("String()=%q, want the kid and no secret", got)
		}
	}
}
