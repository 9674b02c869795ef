package fatest

// state is everything FusionAuth would keep in its database.
type state struct {
	defaultTenantID string
	tenants         map[string]map[string]any
	apiKeys         map[string]*apiKey // by key string
	firstKey        string
	users           map[string]*userRecord
	order           []*userRecord // users in insertion order (removed ones until compacted)
	removedInOrder  int
	nextSeq         int64
	byEmail         map[string]string // tenantID + "\x00" + lower-case email -> user id
	byUsername      map[string]string // tenantID + "\x00" + lower-case username -> user id
	keys            map[string]*keyRecord
	keyOrder        []string
	applications    map[string]map[string]any
	templates       map[string]*emailTemplate
	webhooks        map[string]map[string]any
	webhookOrder    []string
	changePassword  map[string]*changePasswordRecord
	oneTimePassword map[string]*oneTimePasswordRecord
	authCodes       map[string]*authGrant  // OAuth authorization code -> what it grants
	ssoSessions     map[string]*ssoSession // fusionauth.sso cookie value -> the session
	themes          map[string]map[string]any
	variables       map[string]string
}

// AdminApplicationID is the fixed id of FusionAuth's own admin application
// (kickstart's FUSIONAUTH_APPLICATION_ID).
const AdminApplicationID = "3c219e58-ed0e-4b18-ad48-f4f92793ae32"

// initialState is a fresh FusionAuth: the Default tenant, the admin application, the
// HMAC "Default signing key" its tenant signs tokens with (never published in JWKS) and
// an RSA key pair (published).
func (s *Server) initialState() (*state, error) {
	now := s.now().UnixMilli()
	tenantID := newUUID()
	signing := newHMACKey(newUUID(), "Default signing key", now)
	// Since 1.50 a fresh install also has an RSA key pair, published in the JWKS
	// (reference §10.2); its name here is inferred. The material is generated once per
	// process (the cache key is fixed), the id is per server.
	km, err := generateKeyMaterial("fresh-install-rsa", "RS256", 2048, "acme.com")
	if err != nil {
		return nil, err
	}
	rsaKey := &keyRecord{id: newUUID(), kid: x5t(km.certDER), name: "Default RSA signing key", algorithm: "RS256", issuer: "acme.com",
		keyType: "RSA", length: 2048, signer: km.signer, certDER: km.certDER, cert: km.cert, insertInstant: now}
	st := &state{
		defaultTenantID: tenantID,
		tenants:         map[string]map[string]any{tenantID: defaultTenant(tenantID, signing.id, now)},
		apiKeys:         map[string]*apiKey{},
		users:           map[string]*userRecord{},
		byEmail:         map[string]string{},
		byUsername:      map[string]string{},
		keys:            map[string]*keyRecord{signing.id: signing, rsaKey.id: rsaKey},
		keyOrder:        []string{signing.id, rsaKey.id},
		applications:    map[string]map[string]any{},
		templates:       map[string]*emailTemplate{},
		webhooks:        map[string]map[string]any{},
		changePassword:  map[string]*changePasswordRecord{},
		oneTimePassword: map[string]*oneTimePasswordRecord{},
		authCodes:       map[string]*authGrant{},
		ssoSessions:     map[string]*ssoSession{},
		themes:          map[string]map[string]any{DefaultThemeID: defaultTheme(now)},
		variables: map[string]string{
			"FUSIONAUTH_APPLICATION_ID":         AdminApplicationID,
			"FUSIONAUTH_TENANT_ID":              tenantID,
			"FUSIONAUTH_DEFAULT_SIGNING_KEY_ID": signing.id,
		},
	}
	st.applications[AdminApplicationID] = map[string]any{
		"id":       AdminApplicationID,
		"name":     "FusionAuth",
		"tenantId": tenantID,
		"active":   true,
		"state":    "Active",
		"roles": []any{
			map[string]any{"id": newUUID(), "name": "admin", "isSuperRole": true, "isDefault": false},
		},
		"loginConfiguration":        map[string]any{"requireAuthentication": true, "generateRefreshTokens": false, "allowTokenRefresh": false},
		"jwtConfiguration":          map[string]any{"enabled": false},
		"registrationConfiguration": map[string]any{"enabled": false},
		"oauthConfiguration": map[string]any{
			"clientId":               AdminApplicationID,
			"authorizedRedirectURLs": []any{"/admin/login"},
			"enabledGrants":          []any{"authorization_code", "refresh_token"},
			"requireRegistration":    true,
		},
		"verifyRegistration": false,
		"insertInstant":      now,
		"lastUpdateInstant":  now,
	}
	return st, nil
}
