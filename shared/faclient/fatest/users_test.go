package fatest_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient/fatest"
)

func TestCreateUser(t *testing.T) {
	s, c := newServer(t, fatest.Options{})
	k := keysOf(s)
	r := do(t, s, http.MethodPost, "/api/user", k.video, map[string]any{"user": map[string]any{
		"username": "Stub-User-1", "password": "long-enough-pw", "data": map[string]any{"anonymousUser": true, "watchCount": 1},
	}})
	wantStatus(t, r, http.StatusOK)
	u, _ := r.body["user"].(map[string]any)
	now := float64(c.Now().UnixMilli())
	insert, _ := u["insertInstant"].(float64)
	checks := map[string]any{
		"username": "Stub-User-1", "active": true, "usernameStatus": "ACTIVE",
		"tenantId": s.Variable("visitorTenantId"), "lastUpdateInstant": insert,
		"lastLoginInstant": insert, "passwordLastUpdateInstant": now, "data.anonymousUser": true, "data.watchCount": float64(1),
	}
	for p, want := range checks {
		if got := path(u, p); got != want {
			t.Errorf("user.%s = %v, want %v", p, got, want)
		}
	}
	// The insert is stamped when the request starts, the password when the hash is done,
	// 27–140 ms later, and the answer comes after: no stamp is later than the clock.
	if insert < now-140 || insert > now-27 {
		t.Errorf("user.insertInstant = %v, want 27–140 ms before the password's %v", insert, now)
	}
	for _, secret := range []string{"password", "salt"} {
		if _, ok := u[secret]; ok {
			t.Errorf("response has user.%s", secret)
		}
	}
	id := asString(u["id"])
	if len(id) != 36 || id[14] != '4' {
		t.Errorf("id = %q, want a version-4 UUID", id)
	}
	if asString(r.body["token"]) == "" || r.body["tokenExpirationInstant"] == nil {
		t.Errorf("create response lacks token/tokenExpirationInstant: %s", r.raw)
	}
	if got := path(r.body, "tokenExpirationInstant"); got != now+3600*1000 {
		t.Errorf("tokenExpirationInstant = %v, want %v", got, now+3600*1000)
	}

	t.Run("with id in the path", func(t *testing.T) {
		const fixed = "1d7c2a5e-8a0f-4a8b-9d3c-2b1e0f9a8c7d"
		r := do(t, s, http.MethodPost, "/api/user/"+strings.ToUpper(fixed), k.admin, map[string]any{"user": map[string]any{"email": "Fixed@Example.com", "password": "long-enough-pw"}})
		wantStatus(t, r, http.StatusOK)
		if got := path(r.body, "user.id"); got != fixed {
			t.Errorf("id = %v, want %s", got, fixed)
		}
		if got := path(r.body, "user.email"); got != "fixed@example.com" {
			t.Errorf("email = %v, want it lower-cased", got)
		}
		r = do(t, s, http.MethodPost, "/api/user/"+fixed, k.admin, map[string]any{"user": map[string]any{"email": "other@example.com", "password": "long-enough-pw"}})
		wantStatus(t, r, http.StatusBadRequest)
	})
}

func TestCreateUserValidation(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	k := keysOf(s)
	createUser(t, s, k.admin, map[string]any{"email": "taken@example.com", "username": "TakenName", "password": "long-enough-pw"})
	tests := map[string]struct {
		body      map[string]any
		wantField map[string]string // path -> code
	}{
		"no email nor username": {
			body:      map[string]any{"user": map[string]any{"password": "long-enough-pw"}},
			wantField: map[string]string{"user.email": "[blank]user.email", "user.username": "[blank]user.username"},
		},
		"blank strings count as missing": {
			body:      map[string]any{"user": map[string]any{"email": " ", "username": "", "password": "long-enough-pw"}},
			wantField: map[string]string{"user.email": "[blank]user.email", "user.username": "[blank]user.username"},
		},
		"no password": {
			body:      map[string]any{"user": map[string]any{"email": "new@example.com"}},
			wantField: map[string]string{"user.password": "[blank]user.password"},
		},
		"short password": {
			body:      map[string]any{"user": map[string]any{"email": "new@example.com", "password": "short"}},
			wantField: map[string]string{"user.password": "[tooShort]user.password"},
		},
		"not an email": {
			body:      map[string]any{"user": map[string]any{"email": "not-an-email", "password": "long-enough-pw"}},
			wantField: map[string]string{"user.email": "[notEmail]user.email"},
		},
		"email longer than 191 characters": {
			body:      map[string]any{"user": map[string]any{"email": emailOfLength(192), "password": "long-enough-pw"}},
			wantField: map[string]string{"user.email": "[tooLong]user.email"},
		},
		"email local part longer than 64 characters": {
			body:      map[string]any{"user": map[string]any{"email": strings.Repeat("a", 65) + "@example.com", "password": "long-enough-pw"}},
			wantField: map[string]string{"user.email": "[notEmail]user.email"},
		},
		"duplicate email in another case": {
			body:      map[string]any{"user": map[string]any{"email": "TAKEN@example.COM", "password": "long-enough-pw"}},
			wantField: map[string]string{"user.email": "[duplicate]user.email"},
		},
		"duplicate username in another case": {
			body:      map[string]any{"user": map[string]any{"username": "takenname", "password": "long-enough-pw"}},
			wantField: map[string]string{"user.username": "[duplicate]user.username"},
		},
		"both duplicates at once": {
			body:      map[string]any{"user": map[string]any{"email": "taken@example.com", "username": "TAKENNAME", "password": "long-enough-pw"}},
			wantField: map[string]string{"user.email": "[duplicate]user.email", "user.username": "[duplicate]user.username"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := do(t, s, http.MethodPost, "/api/user", k.admin, tc.body)
			wantStatus(t, r, http.StatusBadRequest)
			for p, code := range tc.wantField {
				wantFieldError(t, r, p, code)
			}
			fe, _ := r.body["fieldErrors"].(map[string]any)
			if len(fe) != len(tc.wantField) {
				t.Errorf("fieldErrors = %v, want exactly the keys of %v", fe, tc.wantField)
			}
		})
	}
	t.Run("email of exactly 191 characters", func(t *testing.T) {
		r := do(t, s, http.MethodPost, "/api/user", k.admin, map[string]any{"user": map[string]any{"email": emailOfLength(191), "password": "long-enough-pw"}})
		wantStatus(t, r, http.StatusOK)
	})
	t.Run("sendSetPasswordEmail is not implemented", func(t *testing.T) {
		r := do(t, s, http.MethodPost, "/api/user", k.admin, map[string]any{"sendSetPasswordEmail": true, "user": map[string]any{"email": "set@example.com"}})
		wantStatus(t, r, http.StatusBadRequest)
		if got := generalCodes(r); !slices.Contains(got, "[UnsupportedRequest]") {
			t.Errorf("generalErrors = %v, want [UnsupportedRequest]", got)
		}
	})
	for name, ct := range map[string]string{"form content type": "application/x-www-form-urlencoded", "no content type": ""} {
		t.Run(name, func(t *testing.T) {
			r := do(t, s, http.MethodPost, "/api/user", k.admin, `{"user":{"email":"ct@example.com","password":"long-enough-pw"}}`, "Content-Type", ct)
			wantStatus(t, r, http.StatusBadRequest)
			if got := generalCodes(r); !slices.Contains(got, "[UnsupportedContentType]") {
				t.Errorf("generalErrors = %v, want [UnsupportedContentType]", got)
			}
		})
	}
	t.Run("invalid JSON", func(t *testing.T) {
		r := do(t, s, http.MethodPost, "/api/user", k.admin, `{"user":`)
		wantStatus(t, r, http.StatusBadRequest)
		if got := generalCodes(r); !slices.Contains(got, "[invalidJSON]") {
			t.Errorf("generalErrors = %v, want [invalidJSON]", got)
		}
	})
}

func TestRetrieveUser(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	k := keysOf(s)
	id := createUser(t, s, k.video, map[string]any{"email": "Mixed.Case@Example.com", "username": "SomeName", "password": "long-enough-pw"})
	tests := map[string]struct {
		path       string
		wantStatus int
		wantID     string
	}{
		"by id":                        {"/api/user/" + id, http.StatusOK, id},
		"by email, other case":         {"/api/user?email=MIXED.case@example.COM", http.StatusOK, id},
		"unknown id":                   {"/api/user/6b1a3a80-0000-4000-8000-000000000000", http.StatusNotFound, ""},
		"unknown email":                {"/api/user?email=nobody@example.com", http.StatusNotFound, ""},
		"malformed id":                 {"/api/user/not-a-uuid", http.StatusBadRequest, ""},
		"by username: not implemented": {"/api/user?username=somename", http.StatusBadRequest, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := do(t, s, http.MethodGet, tc.path, k.video, nil)
			wantStatus(t, r, tc.wantStatus)
			switch tc.wantStatus {
			case http.StatusOK:
				if got := path(r.body, "user.id"); got != tc.wantID {
					t.Errorf("user.id = %v, want %s", got, tc.wantID)
				}
			case http.StatusNotFound:
				wantEmpty(t, r)
			case http.StatusBadRequest:
				if len(generalCodes(r)) == 0 {
					wantFieldError(t, r, "userId", "[couldNotConvert]userId")
				} else if got := generalCodes(r); !slices.Contains(got, "[UnsupportedRequest]") {
					t.Errorf("generalErrors = %v, want [UnsupportedRequest]", got)
				}
			}
		})
	}
}

func TestPatchUser(t *testing.T) {
	tests := map[string]struct {
		contentType string
		body        string
		want        map[string]any // dotted path -> value; nil = absent
	}{
		"data merges, siblings kept": {
			body: `{"user":{"data":{"watchCount":2}}}`,
			want: map[string]any{"data.watchCount": float64(2), "data.anonymousUser": true, "data.tags": []any{"a"}},
		},
		"arrays are appended": {
			body: `{"user":{"data":{"tags":["b"]}}}`,
			want: map[string]any{"data.tags": []any{"a", "b"}},
		},
		"null removes": {
			body: `{"user":{"data":{"anonymousUser":null},"firstName":null}}`,
			want: map[string]any{"data.anonymousUser": nil, "firstName": nil, "data.watchCount": float64(1)},
		},
		"blank username is unset": {
			body: `{"user":{"username":"","data":{"anonymousUser":false}}}`,
			want: map[string]any{"username": nil, "email": "stub@example.com", "data.anonymousUser": false},
		},
		"email is lower-cased": {
			body: `{"user":{"email":"New.Address@Example.COM"}}`,
			want: map[string]any{"email": "new.address@example.com"},
		},
		"json patch": {
			contentType: "application/json-patch+json",
			body:        `[{"op":"remove","path":"/user/data/tags"},{"op":"add","path":"/user/data/converted","value":true}]`,
			want:        map[string]any{"data.tags": nil, "data.converted": true, "data.watchCount": float64(1)},
		},
		"server-managed fields are ignored": {
			body: `{"user":{"active":false,"id":"6b1a3a80-0000-4000-8000-000000000000","insertInstant":1}}`,
			want: map[string]any{"active": true},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, c := newServer(t, fatest.Options{})
			k := keysOf(s)
			id := createUser(t, s, k.video, map[string]any{"username": "stubname", "email": "stub@example.com", "firstName": "Ann",
				"password": "long-enough-pw", "data": map[string]any{"anonymousUser": true, "watchCount": 1, "tags": []any{"a"}}})
			stored, _ := s.User(id)
			created := asFloat(stored["insertInstant"])
			c.Advance(time.Minute)
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			r := do(t, s, http.MethodPatch, "/api/user/"+id, k.video, tc.body, "Content-Type", ct)
			wantStatus(t, r, http.StatusOK)
			u, _ := r.body["user"].(map[string]any)
			for p, want := range tc.want {
				if got := path(u, p); !equalJSON(got, want) {
					t.Errorf("user.%s = %#v, want %#v", p, got, want)
				}
			}
			if got, want := u["lastUpdateInstant"], float64(c.Now().UnixMilli()); got != want {
				t.Errorf("lastUpdateInstant = %v, want %v (bumped)", got, want)
			}
			if got := u["insertInstant"]; got != created {
				t.Errorf("insertInstant = %v, want %v (unchanged)", got, created)
			}
			stored, _ = s.User(id)
			if got, want := path(stored, "id"), id; got != want {
				t.Errorf("stored id = %v, want %v", got, want)
			}
		})
	}
}

func TestPatchUserErrors(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	k := keysOf(s)
	createUser(t, s, k.admin, map[string]any{"email": "owner@example.com", "password": "long-enough-pw"})
	id := createUser(t, s, k.admin, map[string]any{"username": "onlyusername", "password": "long-enough-pw"})
	tests := map[string]struct {
		path, contentType, body string
		wantStatus              int
		wantField               map[string]string
	}{
		"duplicate email in another case": {
			path: "/api/user/" + id, body: `{"user":{"email":"OWNER@example.com"}}`,
			wantStatus: http.StatusBadRequest, wantField: map[string]string{"user.email": "[duplicate]user.email"},
		},
		"email longer than 191 characters": {
			path: "/api/user/" + id, body: `{"user":{"email":"` + emailOfLength(192) + `"}}`,
			wantStatus: http.StatusBadRequest, wantField: map[string]string{"user.email": "[tooLong]user.email"},
		},
		"removing the last identity": {
			path: "/api/user/" + id, body: `{"user":{"username":null}}`,
			wantStatus: http.StatusBadRequest, wantField: map[string]string{"user.email": "[blank]user.email", "user.username": "[blank]user.username"},
		},
		"blank username as the last identity": {
			path: "/api/user/" + id, body: `{"user":{"username":""}}`,
			wantStatus: http.StatusBadRequest, wantField: map[string]string{"user.username": "[blank]user.username"},
		},
		"unknown user": {
			path: "/api/user/6b1a3a80-0000-4000-8000-000000000000", body: `{"user":{"firstName":"x"}}`, wantStatus: http.StatusNotFound,
		},
		"unsupported content type": {
			path: "/api/user/" + id, contentType: "text/plain", body: `{"user":{}}`, wantStatus: http.StatusBadRequest,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			r := do(t, s, http.MethodPatch, tc.path, k.admin, tc.body, "Content-Type", ct)
			wantStatus(t, r, tc.wantStatus)
			if tc.wantStatus == http.StatusNotFound {
				wantEmpty(t, r)
			}
			for p, code := range tc.wantField {
				wantFieldError(t, r, p, code)
			}
		})
	}
	if u, _ := s.User(id); u["username"] != "onlyusername" || u["email"] != nil {
		t.Errorf("failed PATCHes changed the user: %v", u)
	}
}

func TestPutUser(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	k := keysOf(s)
	id := createUser(t, s, k.admin, map[string]any{"email": "put@example.com", "password": "long-enough-pw"})
	for name, tc := range map[string]struct {
		path string
		body any
	}{
		"full update":            {"/api/user/" + id, map[string]any{"user": map[string]any{"email": "put@example.com", "lastName": "New"}}},
		"reactivate with a body": {"/api/user/" + id + "?reactivate=true", map[string]any{"user": map[string]any{"lastName": "New"}}},
	} {
		t.Run(name+" is not implemented", func(t *testing.T) {
			r := do(t, s, http.MethodPut, tc.path, k.admin, tc.body)
			wantStatus(t, r, http.StatusBadRequest)
			if got := generalCodes(r); !slices.Contains(got, "[UnsupportedRequest]") {
				t.Errorf("generalErrors = %v, want [UnsupportedRequest]", got)
			}
		})
	}
	if u, _ := s.User(id); u["lastName"] != nil {
		t.Errorf("user after refused PUTs = %v, want unchanged", u)
	}
}

func TestDeleteUser(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	k := keysOf(s)
	tests := map[string]struct {
		query, body string
		wantGone    bool
	}{
		"soft by default":          {wantGone: false},
		"hardDelete query":         {query: "?hardDelete=true", wantGone: true},
		"hardDelete in JSON body":  {body: `{"hardDelete":true}`, wantGone: true},
		"hardDelete=false is soft": {query: "?hardDelete=false", wantGone: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			id := createUser(t, s, k.admin, map[string]any{"username": "del-" + strings.ReplaceAll(name, " ", "-"), "password": "long-enough-pw"})
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := do(t, s, http.MethodDelete, "/api/user/"+id+tc.query, k.admin, body)
			wantStatus(t, r, http.StatusOK)
			wantEmpty(t, r)
			got := do(t, s, http.MethodGet, "/api/user/"+id, k.admin, nil)
			if tc.wantGone {
				wantStatus(t, got, http.StatusNotFound)
				return
			}
			wantStatus(t, got, http.StatusOK)
			if path(got.body, "user.active") != false {
				t.Errorf("active = %v, want false after a soft delete", path(got.body, "user.active"))
			}
		})
	}
	t.Run("unknown user", func(t *testing.T) {
		r := do(t, s, http.MethodDelete, "/api/user/6b1a3a80-0000-4000-8000-000000000000", k.admin, nil)
		wantStatus(t, r, http.StatusNotFound)
		wantEmpty(t, r)
	})
	t.Run("hard delete frees the email", func(t *testing.T) {
		id := createUser(t, s, k.admin, map[string]any{"email": "reuse@example.com", "password": "long-enough-pw"})
		wantStatus(t, do(t, s, http.MethodDelete, "/api/user/"+id+"?hardDelete=true", k.admin, nil), http.StatusOK)
		createUser(t, s, k.admin, map[string]any{"email": "reuse@example.com", "password": "long-enough-pw"})
	})
}

func TestPutUserSeed(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	const id = "6b1a3a80-0000-4000-8000-0000000000aa"
	if err := s.PutUser(map[string]any{"id": id, "tenantId": s.Variable("visitorTenantId"), "username": "Seeded", "email": "Seed@Example.com", "lastUpdateInstant": old, "data": map[string]any{"n": 3}}, "long-enough-pw"); err != nil {
		t.Fatalf("PutUser: %v", err)
	}
	u, ok := s.User(id)
	if !ok {
		t.Fatal("User: seeded user not found")
	}
	if u["lastUpdateInstant"] != old || u["email"] != "seed@example.com" || path(u, "data.n") != int64(3) {
		t.Errorf("seeded user = %v, want lastUpdateInstant %d, lower-cased email, data.n 3", u, old)
	}
	tests := map[string]map[string]any{
		"duplicate id":       {"id": id, "username": "other"},
		"duplicate email":    {"email": "SEED@example.com"},
		"duplicate username": {"username": "seeded"},
		"no identity":        {"firstName": "x"},
	}
	for name, user := range tests {
		t.Run(name, func(t *testing.T) {
			if err := s.PutUser(user, ""); err == nil {
				t.Errorf("PutUser(%v) = nil, want an error", user)
			}
		})
	}
	k := keysOf(s)
	wantStatus(t, do(t, s, http.MethodPost, "/api/login", k.admin, map[string]any{"loginId": "seeded", "password": "long-enough-pw"}), http.StatusOK)
}

// equalJSON compares decoded JSON values (nil means absent).
func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		return false
	}
	return a == b
}

// emailOfLength returns a valid address of n characters (n >= 20): a 60-character local
// part and a domain of dotted labels of at most 63 characters.
func emailOfLength(n int) string {
	local := strings.Repeat("l", 60)
	domain := "example.com"
	for len(local)+1+len(domain) < n {
		label := min(63, n-(len(local)+1+len(domain))-1)
		if label < 1 {
			local += "x"
			continue
		}
		domain = strings.Repeat("d", label) + "." + domain
	}
	return local + "@" + domain
}

// asFloat reads a stored instant (int64) as a decoded response carries it (float64).
func asFloat(v any) float64 {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case float64:
		return n
	}
	return -1
}
