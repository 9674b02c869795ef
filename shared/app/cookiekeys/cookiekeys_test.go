package cookiekeys_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/app/cookiekeys"
	"github.com/changebank/anonuser/shared/secrets"
	"github.com/changebank/anonuser/shared/secrets/smtest"
	"github.com/changebank/anonuser/shared/token/tokentest"
)

// TestLoad: the cookie keys come from their own secret; a secret without a usable key
// fails cold start with an error naming the secret and the problem, never the value.
func TestLoad(t *testing.T) {
	const marker = "SECRET-MARKER-VALUE"
	good := tokentest.KeysJSON(t, tokentest.Key(t, "k2"), tokentest.Key(t, "k1"))
	sm := smtest.NewServer(t, map[string]string{
		"ok":        good,
		"plain":     marker,
		"object":    `{"kid":"a","secret":"` + marker + `"}`,
		"empty":     `[]`,
		"short-key": `[{"kid":"a","secret":"c2hvcnQ="}]`,
	})
	sm.SetBinary("binary", []byte(good))
	for name, want := range map[string]string{
		"plain":     "not a JSON array",
		"object":    "not a JSON array",
		"empty":     "the list is empty",
		"short-key": `kid "a" has a 5-byte secret`,
		"binary":    "no SecretString",
		"missing":   "not found",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := cookiekeys.Load(t.Context(), sm.Client(t), name)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `"`+name+`"`) {
				t.Errorf("err=%v, want one naming the secret %q and saying %q", err, name, want)
			}
			if err != nil && strings.Contains(err.Error(), marker) {
				t.Errorf("err=%v quotes the secret's value", err)
			}
			if name == "missing" && !errors.Is(err, secrets.ErrNotFound) {
				t.Errorf("err=%v, want it to match secrets.ErrNotFound", err)
			}
		})
	}
	keys, err := cookiekeys.Load(t.Context(), sm.Client(t), "ok")
	if err != nil || len(keys) != 2 || keys[0].ID != "k2" || keys[1].ID != "k1" {
		t.Errorf("keys=%v err=%v, want k2 then k1", keys, err)
	}
}

// TestFetchReadsAlongside: Fetch reads the secret in the background and hands back the
// same result Load gives, errors included.
func TestFetchReadsAlongside(t *testing.T) {
	sm := smtest.NewServer(t, map[string]string{"ok": tokentest.KeysJSON(t, tokentest.Key(t, "k1"))})
	wait := cookiekeys.Fetch(t.Context(), sm.Client(t), "ok")
	missing := cookiekeys.Fetch(t.Context(), sm.Client(t), "missing")
	if keys, err := wait(); err != nil || len(keys) != 1 || keys[0].ID != "k1" {
		t.Errorf("Fetch(ok): got (%v, %v), want k1", keys, err)
	}
	if _, err := missing(); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("Fetch(missing): got %v, want not found", err)
	}
	if got := sm.Reads("ok") + sm.Reads("missing"); got != 2 {
		t.Errorf("reads: got %d, want 2", got)
	}
}
