package fatest

// routeTable lists every endpoint the server implements with its FusionAuth permission
// root (the key of apiKey.permissions.endpoints that grants it) and its authentication.
// Routes marked global are "Global API Key Authentication" APIs in FusionAuth's endpoint
// list (Key Master, email templates, themes, and since 1.66.0 webhooks; tenants stay
// tenant-scoped): a tenant-locked key, or any key with X-FusionAuth-TenantId, gets 401
// with an empty body there (fusionauth-issues #3452; fusionauth-site PR #4299, "Update
// the webhook documentation from tenant scoped keys to global keys", 2026-05).
// Patterns are also the endpoint labels of Calls, InjectFault and SetLatency.
func (s *Server) routeTable() []route {
	return []route{
		// Users (§3–§7).
		{pattern: "POST /api/user", root: "/api/user", handle: creates("userId", "user", s.handleCreateUser)},
		{pattern: "POST /api/user/{userId}", root: "/api/user", handle: creates("userId", "user", s.handleCreateUser)},
		{pattern: "GET /api/user", root: "/api/user", handle: s.handleLookupUser},
		{pattern: "GET /api/user/{userId}", root: "/api/user", handle: byID("userId", s.handleGetUser)},
		{pattern: "PUT /api/user/{userId}", root: "/api/user", handle: byID("userId", s.handleReactivateUser)},
		{pattern: "PATCH /api/user/{userId}", root: "/api/user", handle: s.handlePatchUser},
		{pattern: "DELETE /api/user/{userId}", root: "/api/user", handle: byID("userId", s.handleDeleteUser)},
		{pattern: "DELETE /api/user/bulk", root: "/api/user/bulk", handle: s.handleBulkDelete},
		{pattern: "POST /api/user/search", root: "/api/user/search", handle: s.handleSearch},
		{pattern: "GET /api/user/search", root: "/api/user/search", handle: s.handleSearch},
		{pattern: "PUT /api/user/search", root: "/api/user/search", handle: s.handleFlushSearch},
		{pattern: "POST /api/user/registration", root: "/api/user/registration", handle: creates("userId", "registration", s.handleRegister)},
		{pattern: "POST /api/user/registration/{userId}", root: "/api/user/registration", handle: creates("userId", "registration", s.handleRegister)},

		// Passwords (§9).
		{pattern: "POST /api/user/forgot-password", root: "/api/user/forgot-password", auth: authOptional, handle: takesJSON(s.handleForgotPassword)},
		{pattern: "GET /api/user/change-password/{changePasswordId}", root: "/api/user/change-password", auth: authOptional, handle: s.handleCheckChangePassword},
		{pattern: "POST /api/user/change-password", root: "/api/user/change-password", auth: authOptional, handle: takesJSON(s.handleChangePassword)},
		{pattern: "POST /api/user/change-password/{changePasswordId}", root: "/api/user/change-password", auth: authOptional, handle: takesJSON(s.handleChangePassword)},

		// Keys and JWTs (§10).
		{pattern: "POST /api/key/generate/{keyId}", root: "/api/key/generate", global: true, handle: creates("keyId", "key", s.handleGenerateKey)},
		{pattern: "POST /api/key/generate", root: "/api/key/generate", global: true, handle: creates("keyId", "key", s.handleGenerateKey)},
		{pattern: "POST /api/key/import/{keyId}", root: "/api/key/import", global: true, handle: creates("keyId", "key", s.handleImportKey)},
		{pattern: "POST /api/key/import", root: "/api/key/import", global: true, handle: creates("keyId", "key", s.handleImportKey)},
		{pattern: "GET /api/key/{keyId}", root: "/api/key", global: true, handle: byID("keyId", s.handleGetKey)},
		{pattern: "GET /.well-known/jwks.json", auth: authNone, handle: s.handleJWKS},
		{pattern: "POST /api/jwt/vend", root: "/api/jwt/vend", handle: takesJSON(s.handleVend)},

		// Login (§11).
		{pattern: "POST /api/login", root: "/api/login", auth: authOptional, handle: takesJSON(s.handleLogin)},

		// Configuration (§12–§13).
		{pattern: "POST /api/application", root: "/api/application", handle: s.createDocument(applications)},
		{pattern: "POST /api/application/{applicationId}", root: "/api/application", handle: s.createDocument(applications)},
		{pattern: "POST /api/email/send/{emailTemplateId}", root: "/api/email/send", handle: byID("emailTemplateId", s.handleSendEmail)},
		{pattern: "POST /api/email/template", root: "/api/email/template", global: true, handle: creates("emailTemplateId", "emailTemplate", s.handleCreateEmailTemplate)},
		{pattern: "POST /api/email/template/{emailTemplateId}", root: "/api/email/template", global: true, handle: creates("emailTemplateId", "emailTemplate", s.handleCreateEmailTemplate)},
		{pattern: "POST /api/webhook", root: "/api/webhook", global: true, handle: s.createDocument(webhooks)},
		{pattern: "POST /api/webhook/{webhookId}", root: "/api/webhook", global: true, handle: s.createDocument(webhooks)},
		{pattern: "POST /api/tenant", root: "/api/tenant", handle: s.createDocument(tenants)},
		{pattern: "POST /api/tenant/{tenantId}", root: "/api/tenant", handle: s.createDocument(tenants)},
		{pattern: "PATCH /api/tenant/{tenantId}", root: "/api/tenant", handle: s.patchDocument(tenants)},
		{pattern: "POST /api/theme", root: "/api/theme", global: true, handle: s.createDocument(themes)},
		{pattern: "POST /api/theme/{themeId}", root: "/api/theme", global: true, handle: s.createDocument(themes)},
		{pattern: "PATCH /api/theme/{themeId}", root: "/api/theme", global: true, handle: s.patchDocument(themes)},
		// The API Keys API is not in FusionAuth's endpoint list: it needs a key manager.
		{pattern: "POST /api/api-key", root: "/api/api-key", handle: creates("keyId", "apiKey", s.handleCreateAPIKey)},
		{pattern: "POST /api/api-key/{keyId}", root: "/api/api-key", handle: creates("keyId", "apiKey", s.handleCreateAPIKey)},
		{pattern: "DELETE /api/api-key/{keyId}", root: "/api/api-key", handle: byID("keyId", s.handleDeleteAPIKey)},

		// OAuth 2.0 and OpenID Connect: no API key; the token endpoint authenticates the
		// client itself and takes a form body.
		{pattern: "POST /oauth2/token", auth: authNone, form: true, handle: s.handleToken},
		{pattern: "GET /.well-known/openid-configuration", auth: authNone, handle: s.handleDiscovery},
		{pattern: "GET /.well-known/openid-configuration/{tenantId}", auth: authNone, handle: s.handleDiscovery},
		{pattern: "GET /{tenantId}/.well-known/openid-configuration", auth: authNone, handle: s.handleDiscovery},

		// Hosted pages (FusionAuth's themed UI, reduced to plain forms).
		{pattern: "GET /password/change/{changePasswordId}", auth: authPage, handle: s.handlePasswordChangePage},
		{pattern: "POST /password/change/{changePasswordId}", auth: authPage, handle: s.handlePasswordChangePage},
		{pattern: "GET /password/forgot", auth: authPage, handle: s.handleForgotPage},
		{pattern: "POST /password/forgot", auth: authPage, handle: s.handleForgotPage},
		{pattern: "GET /oauth2/authorize", auth: authPage, handle: s.handleAuthorizePage},
		{pattern: "POST /oauth2/authorize", auth: authPage, handle: s.handleAuthorizePage},
		{pattern: "GET /oauth2/register", auth: authPage, handle: s.handleRegisterPage},
		{pattern: "POST /oauth2/register", auth: authPage, handle: s.handleRegisterPage},
		{pattern: "GET /oauth2/logout", auth: authPage, handle: s.handleLogout},
	}
}
