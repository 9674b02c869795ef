package fatest

import (
	"net/http"
	"slices"
	"strings"
)

// NotImplementedHeader is the response header that names the FusionAuth API of a
// request this server does not implement (a 501 for a path it does not serve, a 405 for
// a method it does not serve on a path it does). FusionAuth documents 405 and 501 with
// no body, so the name travels in this header and in the warning the server logs.
const NotImplementedHeader = "Fusionauth-Compatible-Not-Implemented"

// apiNames maps path prefixes to the FusionAuth API they belong to, named as
// FusionAuth's API reference names its pages; the longest matching prefix wins. It
// covers every path of FusionAuth's OpenAPI file (1.69) and the OAuth endpoints doc.
// docs/stand-in.md's "What the embedded FusionAuth does not implement" lists the same names.
var apiNames = []struct{ prefix, name string }{
	{"/api/api-key", "API Keys API"},
	{"/api/application", "Applications API"},
	{"/api/connector", "Connectors API"},
	{"/api/consent", "Consents API"},
	{"/api/email", "Emails API"},
	{"/api/entity", "Entity Management APIs"},
	{"/api/form/field", "Form Fields API"},
	{"/api/form", "Forms API"},
	{"/api/group", "Groups API"},
	{"/api/health", "System API"},
	{"/api/identity-provider/link", "Links API"},
	{"/api/identity-provider", "Identity Providers API"},
	{"/api/identity/verify", "Identity Verify API"},
	{"/api/integration", "Integrations API"},
	{"/api/ip-acl", "IP Access Control Lists API"},
	{"/api/jwt", "JWT API"},
	{"/api/key", "Keys API"},
	{"/api/lambda", "Lambdas API"},
	{"/api/login", "Login API"},
	{"/api/logout", "Login API"},
	{"/api/message/template", "Message Templates API"},
	{"/api/messenger", "Messengers API"},
	{"/api/passwordless", "Passwordless API"},
	{"/api/reactor", "Reactor API"},
	{"/api/report", "Reports API"},
	{"/api/status", "System API"},
	{"/api/system-configuration", "System API"},
	{"/api/system/audit-log", "Audit Logs API"},
	{"/api/system/event-log", "Event Logs API"},
	{"/api/system/login-record", "Reports API"},
	{"/api/system", "System API"},
	{"/api/tenant-manager", "Tenant Manager API"},
	{"/api/tenant", "Tenants API"},
	{"/api/theme", "Themes API"},
	{"/api/two-factor", "Two Factor API"},
	{"/api/user-action-reason", "User Action Reasons API"},
	{"/api/user-action", "User Actions API"},
	{"/api/user/action", "Actioning Users API"},
	{"/api/user/comment", "User Comments API"},
	{"/api/user/consent", "Consents API"},
	{"/api/user/family", "Families API"},
	{"/api/user/registration", "Registrations API"},
	{"/api/user/two-factor", "Two Factor API"},
	{"/api/user/verify-registration", "Registrations API"},
	{"/api/user", "Users API"},
	{"/api/webauthn", "WebAuthn API"},
	{"/api/webhook", "Webhooks API"},
	{"/oauth2", "OAuth endpoints"},
	{"/.well-known", "OAuth endpoints"},
}

// shadowedPaths are FusionAuth paths this server does not serve that one of its id
// routes would otherwise take for an id (POST /api/user/family is FusionAuth's Families
// API, not a user created with the id "family"). Found by matching every path of
// FusionAuth's OpenAPI file against the route table; the contract suite's
// TestUnimplementedAPIsRefusedByName fails if one is missed.
var shadowedPaths = []string{
	"/api/application/search",
	"/api/email/template/preview",
	"/api/email/template/search",
	"/api/tenant/search",
	"/api/theme/search",
	"/api/user/action",
	"/api/user/change-password", // GET ?loginId= (is a change required); POST is served
	"/api/user/comment",
	"/api/user/consent",
	"/api/user/family",
	"/api/user/import",
	"/api/user/recent-login",
	"/api/user/verify-email",
	"/api/user/verify-registration",
	"/api/webhook/search",
}

// shadowed reports whether the route pattern took a FusionAuth path it does not serve
// for one of its wildcards (see shadowedPaths).
func shadowed(pattern, path string) bool {
	return strings.Contains(pattern, "{") && slices.Contains(shadowedPaths, strings.TrimSuffix(path, "/"))
}

// apiName is the FusionAuth API path belongs to, "" when no FusionAuth API has it.
func apiName(path string) string {
	best, name := -1, ""
	for _, a := range apiNames {
		if (path == a.prefix || strings.HasPrefix(path, a.prefix+"/")) && len(a.prefix) > best {
			best, name = len(a.prefix), a.name
		}
	}
	return name
}

// notImplemented names what r asked for that this server does not serve, for
// NotImplementedHeader and the log: the FusionAuth API and the request.
func notImplemented(r *http.Request) string {
	name := apiName(r.URL.Path)
	if name == "" {
		name = "no FusionAuth API"
	}
	return name + ": " + r.Method + " " + r.URL.EscapedPath() + " is not implemented by this FusionAuth-compatible server (see docs/stand-in.md, \"What the embedded FusionAuth does not implement\")"
}
