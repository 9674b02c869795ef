package faclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/faclient"
)

// seen is one request as FusionAuth received it.
type seen struct {
	method, target, auth, tenant, contentType, body string
}

// fusionAuth answers every request with status and body, records what it saw, and
// returns a client with key "k" and tenant "t1" that does not retry.
func fusionAuth(t *testing.T, status int, body string) (*faclient.Client, *[]seen) {
	t.Helper()
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, seen{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("X-FusionAuth-TenantId"), r.Header.Get("Content-Type"), string(b)})
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := faclient.New(faclient.Options{BaseURL: srv.URL, TenantID: "t1", Keys: faclient.StaticKey("k"), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c, &got
}

// sentOnce checks that exactly one request went out and that it was want (body: JSON
// compared by value, "" for none).
func sentOnce(t *testing.T, got []seen, want seen) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	g := got[0]
	if g.method != want.method || g.target != want.target || g.auth != want.auth || g.tenant != want.tenant || g.contentType != want.contentType {
		t.Errorf("request %+v, want %+v", g, want)
	}
	if (want.body == "") != (g.body == "") || want.body != "" && !sameJSON(t, g.body, want.body) {
		t.Errorf("body %s, want %s", g.body, want.body)
	}
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("body %q: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatal(err)
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return string(xs) == string(ys)
}

const uid = "6f1c2a4e-8b3d-4e5f-9a7b-1c2d3e4f5a6b"

func TestCreateUser(t *testing.T) {
	ctx := context.Background()
	req := faclient.UserRequest{User: faclient.User{Username: "stub"}}
	for name, tc := range map[string]struct{ id, target string }{
		"with our id":      {uid, "/api/user/" + uid},
		"FusionAuth picks": {"", "/api/user"},
	} {
		t.Run(name, func(t *testing.T) {
			c, got := fusionAuth(t, http.StatusOK, `{"user":{"id":"`+uid+`","username":"stub"}}`)
			resp, err := c.CreateUser(ctx, tc.id, req)
			if err != nil || resp.User.ID != uid {
				t.Fatalf("CreateUser=%+v, %v; want user %s", resp, err, uid)
			}
			sentOnce(t, *got, seen{"POST", tc.target, "k", "t1", "application/json", `{"user":{"username":"stub"}}`})
		})
	}
	c, _ := fusionAuth(t, http.StatusBadRequest, `{"fieldErrors":{"user.username":[{"code":"[duplicate]user.username","message":"m"}]}}`)
	if resp, err := c.CreateUser(ctx, uid, req); !faclient.IsDuplicate(err, "user.username") || resp != nil {
		t.Errorf("CreateUser on 400 = %+v, %v; want nil and the duplicate error", resp, err)
	}
}

// TestDeleteUserIsHard: a deleted stub is gone for good (hardDelete=true), not deactivated.
func TestDeleteUserIsHard(t *testing.T) {
	c, got := fusionAuth(t, http.StatusOK, ``)
	if err := c.DeleteUser(context.Background(), uid); err != nil {
		t.Fatal(err)
	}
	sentOnce(t, *got, seen{"DELETE", "/api/user/" + uid + "?hardDelete=true", "k", "t1", "", ""})
	c, _ = fusionAuth(t, http.StatusNotFound, ``)
	if err := c.DeleteUser(context.Background(), uid); !faclient.IsNotFound(err) {
		t.Errorf("DeleteUser of a missing user: %v, want 404", err)
	}
}

// TestEmptyIDSendsNothing: an empty id would address another endpoint (/api/user/ is
// the create and search path), so it is refused before any request.
func TestEmptyIDSendsNothing(t *testing.T) {
	c, got := fusionAuth(t, http.StatusOK, `{}`)
	ctx := context.Background()
	errs := map[string]error{"DeleteUser": c.DeleteUser(ctx, "")}
	_, errs["RetrieveUser"] = c.RetrieveUser(ctx, "")
	_, errs["PatchUser"] = c.PatchUser(ctx, "", map[string]any{})
	_, errs["PatchUserJSONPatch"] = c.PatchUserJSONPatch(ctx, "", nil)
	_, errs["RetrieveKey"] = c.RetrieveKey(ctx, "")
	for name, err := range errs {
		if err == nil {
			t.Errorf("%s with an empty id: no error", name)
		}
	}
	if len(*got) != 0 {
		t.Errorf("%d requests sent, want none", len(*got))
	}
}

func TestRetrieveUserByEmailEscapesTheAddress(t *testing.T) {
	c, got := fusionAuth(t, http.StatusOK, `{"user":{"id":"`+uid+`"}}`)
	resp, err := c.RetrieveUserByEmail(context.Background(), "a+b&c@example.com")
	if err != nil || resp.User.ID != uid {
		t.Fatalf("RetrieveUserByEmail=%+v, %v", resp, err)
	}
	sentOnce(t, *got, seen{"GET", "/api/user?email=a%2Bb%26c%40example.com", "k", "t1", "", ""})
}

func TestVendJWT(t *testing.T) {
	c, got := fusionAuth(t, http.StatusOK, `{"token":"eyJ.x.y"}`)
	resp, err := c.VendJWT(context.Background(), faclient.JWTVendRequest{KeyID: "key-1", Claims: map[string]any{"userId": uid}, TimeToLiveInSeconds: 60})
	if err != nil || resp.Token != "eyJ.x.y" {
		t.Fatalf("VendJWT=%+v, %v", resp, err)
	}
	sentOnce(t, *got, seen{"POST", "/api/jwt/vend", "k", "t1", "application/json", `{"keyId":"key-1","claims":{"userId":"` + uid + `"},"timeToLiveInSeconds":60}`})
	c, _ = fusionAuth(t, http.StatusBadRequest, `{}`)
	if resp, err := c.VendJWT(context.Background(), faclient.JWTVendRequest{KeyID: "nope"}); faclient.StatusCode(err) != 400 || resp != nil {
		t.Errorf("VendJWT on 400 = %+v, %v", resp, err)
	}
}

// TestForgotPasswordWithoutKeyAnswersNoBody: without an API key FusionAuth answers the
// started flow with 200 and no body at all (FusionAuth API docs, "Start Forgot Password
// Workflow"); that is a success, not a decoding error.
func TestForgotPasswordWithoutKeyAnswersNoBody(t *testing.T) {
	withKey, got := fusionAuth(t, http.StatusOK, ``)
	c, err := faclient.New(faclient.Options{BaseURL: withKey.BaseURL(), TenantID: "t1"}) // no Keys
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.ForgotPassword(context.Background(), faclient.ForgotPasswordRequest{LoginID: "a@example.com", State: map[string]any{"anon_user": "true"}})
	if err != nil || resp == nil || resp.ChangePasswordID != "" {
		t.Fatalf("ForgotPassword=%+v, %v; want success without an id", resp, err)
	}
	sentOnce(t, *got, seen{"POST", "/api/user/forgot-password", "", "t1", "application/json", `{"loginId":"a@example.com","state":{"anon_user":"true"}}`})
}

// TestChangePasswordSendsNoKey: completing the flow needs only the id; the client's API
// key is not sent, and a 404 (used or expired id) does not ask the key source again.
func TestChangePasswordSendsNoKey(t *testing.T) {
	c, got := fusionAuth(t, http.StatusOK, `{"oneTimePassword":"otp","state":{"anon_user":"true"}}`)
	resp, err := c.ChangePassword(context.Background(), "cp-id", faclient.ChangePasswordRequest{Password: "Setec Astronomy"})
	if err != nil || resp.OneTimePassword != "otp" || resp.State["anon_user"] != "true" {
		t.Fatalf("ChangePassword=%+v, %v", resp, err)
	}
	sentOnce(t, *got, seen{"POST", "/api/user/change-password", "", "t1", "application/json", `{"changePasswordId":"cp-id","password":"Setec Astronomy"}`})
	c, _ = fusionAuth(t, http.StatusNotFound, ``)
	if resp, err := c.ChangePassword(context.Background(), "used", faclient.ChangePasswordRequest{Password: "p"}); !faclient.IsNotFound(err) || resp != nil {
		t.Errorf("ChangePassword with a used id = %+v, %v; want 404", resp, err)
	}
}

// TestLoginStatuses: FusionAuth's documented 2xx login answers come back as a response
// with their status; any other 2xx is an error, not a login.
func TestLoginStatuses(t *testing.T) {
	for status, ok := range map[int]bool{200: true, 202: true, 203: true, 212: true, 213: true, 242: true, 201: false, 204: false, 299: false} {
		c, _ := fusionAuth(t, status, `{"token":"t","user":{"id":"`+uid+`"}}`)
		resp, err := c.Login(context.Background(), faclient.LoginRequest{LoginID: "a", Password: "b"})
		switch {
		case ok && (err != nil || resp.StatusCode != status || resp.User.ID != uid):
			t.Errorf("%d: Login=%+v, %v; want the user with status %d", status, resp, err, status)
		case !ok && faclient.StatusCode(err) != status:
			t.Errorf("%d: Login=%+v, %v; want an error with status %d", status, resp, err, status)
		}
	}
}

func TestSearchAndBulkDelete(t *testing.T) {
	ctx := context.Background()
	c, got := fusionAuth(t, http.StatusOK, `{"total":2,"users":[{"id":"a"},{"id":"b"}]}`)
	sr, err := c.SearchUsersByQuery(ctx, faclient.SearchRequest{Search: faclient.UserSearchCriteria{Query: `{"match_all":{}}`}})
	if err != nil || sr.Total != 2 || len(sr.Users) != 2 {
		t.Fatalf("SearchUsersByQuery=%+v, %v", sr, err)
	}
	sentOnce(t, *got, seen{"POST", "/api/user/search", "k", "t1", "application/json", `{"search":{"query":"{\"match_all\":{}}"}}`})

	c, got = fusionAuth(t, http.StatusOK, `{"dryRun":true,"hardDelete":true,"total":2,"userIds":["a","b"]}`)
	dr, err := c.DeleteUsersByQuery(ctx, faclient.UserDeleteRequest{Query: `{"match_all":{}}`, DryRun: true, HardDelete: true, Limit: 10})
	if err != nil || !dr.DryRun || dr.Total != 2 || len(dr.UserIDs) != 2 {
		t.Fatalf("DeleteUsersByQuery=%+v, %v", dr, err)
	}
	sentOnce(t, *got, seen{"DELETE", "/api/user/bulk", "k", "t1", "application/json", `{"query":"{\"match_all\":{}}","dryRun":true,"hardDelete":true,"limit":10}`})

	c, _ = fusionAuth(t, http.StatusServiceUnavailable, `{}`)
	if sr, err := c.SearchUsersByQuery(ctx, faclient.SearchRequest{}); faclient.StatusCode(err) != 503 || sr != nil {
		t.Errorf("SearchUsersByQuery on 503 = %+v, %v", sr, err)
	}
	if dr, err := c.DeleteUsersByQuery(ctx, faclient.UserDeleteRequest{}); faclient.StatusCode(err) != 503 || dr != nil {
		t.Errorf("DeleteUsersByQuery on 503 = %+v, %v", dr, err)
	}
}

// TestRetrieveKeyNamesItsKID: the key's JWT kid is what the webhook verifier pins.
func TestRetrieveKeyNamesItsKID(t *testing.T) {
	c, got := fusionAuth(t, http.StatusOK, `{"key":{"id":"key-1","kid":"kid-1","algorithm":"RS256"}}`)
	resp, err := c.RetrieveKey(context.Background(), "key-1")
	if err != nil || resp.Key.KID != "kid-1" || resp.Key.Algorithm != "RS256" {
		t.Fatalf("RetrieveKey=%+v, %v; want kid-1", resp, err)
	}
	sentOnce(t, *got, seen{"GET", "/api/key/key-1", "k", "", "", ""})
	c, _ = fusionAuth(t, http.StatusNotFound, ``)
	if resp, err := c.RetrieveKey(context.Background(), "gone"); !faclient.IsNotFound(err) || resp != nil {
		t.Errorf("RetrieveKey of a missing key = %+v, %v; want 404", resp, err)
	}
}

// TestRetrieveJsonWebKeySet: the published keys are decoded and the document is kept as
// it came, for JWT libraries that read it themselves; a document whose keys are not a
// list is an error, not an empty key set.
func TestRetrieveJsonWebKeySet(t *testing.T) {
	doc := `{"keys":[{"alg":"RS256","kty":"RSA","use":"sig","kid":"kid-1","n":"xyz","e":"AQAB"}]}`
	c, got := fusionAuth(t, http.StatusOK, doc)
	resp, err := c.RetrieveJsonWebKeySet(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := faclient.JSONWebKey{Alg: "RS256", Kty: "RSA", Use: "sig", KID: "kid-1", N: "xyz", E: "AQAB"}
	if len(resp.Keys) != 1 || resp.Keys[0] != want || string(resp.Raw) != doc {
		t.Errorf("JWKS=%+v (raw %s), want the one key and the document as sent", resp.Keys, resp.Raw)
	}
	sentOnce(t, *got, seen{"GET", "/.well-known/jwks.json", "", "", "", ""})

	for name, body := range map[string]string{"keys not a list": `{"keys":"kid-1"}`, "not JSON": `<html>`} {
		c, _ := fusionAuth(t, http.StatusOK, body)
		resp, err := c.RetrieveJsonWebKeySet(context.Background())
		if err == nil || resp != nil || !strings.Contains(err.Error(), "decode response") {
			t.Errorf("%s: JWKS=%+v, %v; want a decode error", name, resp, err)
		}
		var fe *faclient.Error
		if errors.As(err, &fe) {
			t.Errorf("%s: a decode failure reported as FusionAuth's answer %d", name, fe.StatusCode)
		}
	}
	c, _ = fusionAuth(t, http.StatusInternalServerError, ``)
	if resp, err := c.RetrieveJsonWebKeySet(context.Background()); faclient.StatusCode(err) != 500 || resp != nil {
		t.Errorf("JWKS on 500 = %+v, %v", resp, err)
	}
}
