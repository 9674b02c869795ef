package contract_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/kickstart"
)

// servedOperations are the operations of FusionAuth's OpenAPI file the compatible server
// implements (some in part: unimplemented options are 400 [UnsupportedRequest]). Every
// other operation of the file must be refused by name.
var servedOperations = []string{
	"GET /.well-known/jwks.json",
	"GET /.well-known/openid-configuration",
	"POST /api/api-key", "POST /api/api-key/{keyId}", "DELETE /api/api-key/{keyId}",
	"POST /api/application", "POST /api/application/{applicationId}",
	"POST /api/email/send/{emailTemplateId}",
	"POST /api/email/template", "POST /api/email/template/{emailTemplateId}",
	"POST /api/jwt/vend",
	"POST /api/key/generate", "POST /api/key/generate/{keyId}",
	"POST /api/key/import", "POST /api/key/import/{keyId}",
	"GET /api/key/{keyId}",
	"POST /api/login",
	"POST /api/tenant", "POST /api/tenant/{tenantId}", "PATCH /api/tenant/{tenantId}",
	"POST /api/theme", "POST /api/theme/{themeId}", "PATCH /api/theme/{themeId}",
	"POST /api/user", "GET /api/user", "POST /api/user/{userId}", "GET /api/user/{userId}",
	"PUT /api/user/{userId}", "PATCH /api/user/{userId}", "DELETE /api/user/{userId}",
	"DELETE /api/user/bulk",
	"POST /api/user/change-password", "GET /api/user/change-password/{changePasswordId}", "POST /api/user/change-password/{changePasswordId}",
	"POST /api/user/forgot-password",
	"POST /api/user/registration", "POST /api/user/registration/{userId}",
	"GET /api/user/search", "POST /api/user/search",
	"POST /api/webhook", "POST /api/webhook/{webhookId}",
	"POST /oauth2/token",
}

// docSection returns the section of docs/stand-in.md that lists what the compatible
// server does not implement.
func docSection(t testing.TB, title string) string {
	t.Helper()
	root, err := kickstart.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "stand-in.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "\n## "+title+"\n")
	if !ok {
		t.Fatalf("docs/stand-in.md has no section %q", title)
	}
	if end := strings.Index(rest, "\n## "); end >= 0 {
		rest = rest[:end]
	}
	return strings.Join(strings.Fields(rest), " ") // names may wrap across lines
}

// TestUnimplementedAPIsRefusedByName: every operation of FusionAuth's OpenAPI file that
// the compatible server does not implement is refused (501 for a path it does not
// serve, 405 for another method on one it serves; no body, as FusionAuth documents
// those statuses) with fatest.NotImplementedHeader naming the FusionAuth API, and the
// docs/stand-in.md's "What the embedded FusionAuth does not implement" lists that API; no
// operation it implements carries the header. Only the compatible server: a real
// FusionAuth implements them all.
func TestUnimplementedAPIsRefusedByName(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		e.requireCompat(t, "it is about what the compatible server does not implement")
		section := docSection(t, "What the embedded FusionAuth does not implement")
		served := map[string]bool{}
		for _, op := range servedOperations {
			served[op] = true
		}
		seen := map[string]bool{}
		for _, r := range e.spec.routes {
			for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
				if r.item.GetOperation(method) == nil {
					continue
				}
				op := method + " " + r.path
				seen[op] = true
				path := r.path
				for _, p := range r.params {
					path = strings.Replace(path, "{"+p+"}", newUUIDString(), 1)
				}
				status, header := sendBare(t, e, method, path)
				name, _, _ := strings.Cut(header.Get(fatest.NotImplementedHeader), ": ")
				switch {
				case served[op] && name != "":
					t.Errorf("%s (served): answered %d with %s %q", op, status, fatest.NotImplementedHeader, header.Get(fatest.NotImplementedHeader))
				case served[op]:
				case status != http.StatusNotImplemented && status != http.StatusMethodNotAllowed:
					t.Errorf("%s (not served): answered %d, want 501 or 405 naming the API", op, status)
				case name == "" || name == "no FusionAuth API":
					t.Errorf("%s (not served): %s = %q, want the FusionAuth API named", op, fatest.NotImplementedHeader, header.Get(fatest.NotImplementedHeader))
				case !strings.Contains(section, name):
					t.Errorf("%s: refused as %s, which docs/stand-in.md's \"What the embedded FusionAuth does not implement\" does not list", op, name)
				}
			}
		}
		var stale []string
		for _, op := range servedOperations {
			if !seen[op] {
				stale = append(stale, op)
			}
		}
		sort.Strings(stale)
		if len(stale) > 0 {
			t.Errorf("servedOperations names operations the OpenAPI file does not have: %v", stale)
		}
	})
}

// sendBare sends method path to the compatible server with the admin key and, for a
// method with a body, an empty JSON object, bypassing the request validation of the
// test's client (these requests are not meant to be valid, only routed).
func sendBare(t testing.TB, e *env, method, path string) (int, http.Header) {
	t.Helper()
	var body *bytes.Reader
	if slices.Contains([]string{http.MethodPost, http.MethodPut, http.MethodPatch}, method) {
		body = bytes.NewReader([]byte("{}"))
	} else {
		body = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.baseURL+path, body)
	if err != nil {
		t.Fatalf("build %s %s: %v", method, path, err)
	}
	req.Header.Set("Authorization", e.adminKey)
	if body.Len() > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header
}
