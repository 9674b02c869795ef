package faclient_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/changebank/anonuser/shared/faclient"
)

// TestPatchOperationEncoding: every operation carries exactly RFC 6902's members, and
// add, replace and test send "value" even when it is null, 0 or false (omitting it would
// make FusionAuth refuse the document instead of testing the value).
func TestPatchOperationEncoding(t *testing.T) {
	tests := map[string]struct {
		op   faclient.PatchOperation
		want string
	}{
		"test for zero":  {faclient.PatchOperation{Op: "test", Path: "/user/data/watchCount", Value: 0}, `{"op":"test","path":"/user/data/watchCount","value":0}`},
		"test for false": {faclient.PatchOperation{Op: "test", Path: "/user/data/flag", Value: false}, `{"op":"test","path":"/user/data/flag","value":false}`},
		"test for null":  {faclient.PatchOperation{Op: "test", Path: "/user/data/x"}, `{"op":"test","path":"/user/data/x","value":null}`},
		"add empty string": {faclient.PatchOperation{Op: "add", Path: "/user/data/s", Value: ""},
			`{"op":"add","path":"/user/data/s","value":""}`},
		"replace": {faclient.PatchOperation{Op: "replace", Path: "/user/data/watchCount", Value: 3}, `{"op":"replace","path":"/user/data/watchCount","value":3}`},
		"remove":  {faclient.PatchOperation{Op: "remove", Path: "/user/data/x", Value: 1}, `{"op":"remove","path":"/user/data/x"}`},
		"move":    {faclient.PatchOperation{Op: "move", Path: "/user/data/b", From: "/user/data/a"}, `{"op":"move","path":"/user/data/b","from":"/user/data/a"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := json.Marshal(tc.op)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("Marshal = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestPatchUserJSONPatch: the document goes as application/json-patch+json to the
// user's PATCH endpoint, counted there, and FusionAuth's failed-test answer (400
// [JSONPatchTestFailed]) is told apart from other refusals.
func TestPatchUserJSONPatch(t *testing.T) {
	answers := map[string]struct {
		status         int
		body           string
		wantTestFailed bool
	}{
		"test failed":       {http.StatusBadRequest, `{"generalErrors":[{"code":"[JSONPatchTestFailed]","message":"m"}]}`, true},
		"absent path":       {http.StatusBadRequest, `{"generalErrors":[{"code":"[invalidJSON]","message":"no such path in target JSON document"}]}`, false},
		"other 400":         {http.StatusBadRequest, `{"fieldErrors":{"user.email":[{"code":"[duplicate]user.email","message":"m"}]}}`, false},
		"code on a non-400": {http.StatusInternalServerError, `{"generalErrors":[{"code":"[JSONPatchTestFailed]","message":"m"}]}`, false},
		"409 conflict":      {http.StatusConflict, ``, true},
	}
	for name, a := range answers {
		t.Run(name, func(t *testing.T) {
			var gotCT, gotBody, gotPath string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotCT, gotPath = r.Header.Get("Content-Type"), r.Method+" "+r.URL.Path
				b, _ := io.ReadAll(r.Body)
				gotBody = string(b)
				w.WriteHeader(a.status)
				_, _ = io.WriteString(w, a.body)
			}))
			defer srv.Close()
			c, err := faclient.New(faclient.Options{BaseURL: srv.URL, Keys: faclient.StaticKey("k"), MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.PatchUserJSONPatch(context.Background(), "u1", []faclient.PatchOperation{
				{Op: "test", Path: "/user/data/watchCount", Value: 0}, {Op: "replace", Path: "/user/data/watchCount", Value: 1}})
			if got := faclient.IsPatchTestFailed(err); got != a.wantTestFailed {
				t.Errorf("IsPatchTestFailed(%v) = %v, want %v", err, got, a.wantTestFailed)
			}
			if gotCT != "application/json-patch+json" || gotPath != "PATCH /api/user/u1" {
				t.Errorf("request = %s with Content-Type %q, want PATCH /api/user/u1 as application/json-patch+json", gotPath, gotCT)
			}
			if want := `[{"op":"test","path":"/user/data/watchCount","value":0},{"op":"replace","path":"/user/data/watchCount","value":1}]`; gotBody != want {
				t.Errorf("body = %s, want %s", gotBody, want)
			}
			if n := c.Counter().Count("PATCH /api/user/{userId}"); n != 1 {
				t.Errorf("counted %d PATCH /api/user/{userId}, want 1", n)
			}
		})
	}
}
