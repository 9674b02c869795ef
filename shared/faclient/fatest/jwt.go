package fatest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
)

// signJWT returns a compact JWS of claims signed with k; the header carries the key's
// algorithm, typ "JWT" and the key's kid (never its id).
func signJWT(k *keyRecord, claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]any{"alg": k.algorithm, "typ": "JWT", "kid": k.kid})
	if err != nil {
		return "", fmt.Errorf("encode JWT header: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode JWT claims: %w", err)
	}
	input := b64url(header) + "." + b64url(payload)
	sig, err := k.sign([]byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64url(sig), nil
}

// sign produces the JWS signature of data: RSASSA-PKCS1-v1_5 for RS256/384/512 keys,
// HMAC-SHA256 for the HS256 default signing key.
func (k *keyRecord) sign(data []byte) ([]byte, error) {
	if k.keyType == "HMAC" {
		mac := hmac.New(sha256.New, k.secret)
		mac.Write(data)
		return mac.Sum(nil), nil
	}
	h := map[string]crypto.Hash{"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512}[k.algorithm]
	priv, ok := k.signer.(*rsa.PrivateKey)
	if !ok || h == 0 {
		return nil, fmt.Errorf("sign with key %s: cannot sign %s with this key", k.id, k.algorithm)
	}
	hw := h.New()
	hw.Write(data)
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, h, hw.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("sign with key %s: %w", k.id, err)
	}
	return sig, nil
}

// accessTokenKeyID is the key an application signs access tokens with: its own
// jwtConfiguration when enabled, else its tenant's. Callers hold s.mu.
func (s *Server) accessTokenKeyID(app map[string]any) string {
	if app != nil {
		if enabled, _ := lookupPath(app, "jwtConfiguration.enabled"); truthy(enabled) {
			if id, _ := lookupPath(app, "jwtConfiguration.accessTokenKeyId"); asString(id) != "" {
				return asString(id)
			}
		}
		if t := s.state.tenants[asString(app["tenantId"])]; t != nil {
			id, _ := lookupPath(t, "jwtConfiguration.accessTokenKeyId")
			return asString(id)
		}
	}
	id, _ := lookupPath(s.state.tenants[s.state.defaultTenantID], "jwtConfiguration.accessTokenKeyId")
	return asString(id)
}

// tokenTTL is the access-token lifetime in seconds for an application (or its tenant).
// Callers hold s.mu.
func (s *Server) tokenTTL(tenantID string, app map[string]any) int64 {
	if app != nil {
		if enabled, _ := lookupPath(app, "jwtConfiguration.enabled"); truthy(enabled) {
			if v, _ := lookupPath(app, "jwtConfiguration.timeToLiveInSeconds"); v != nil {
				if ttl, ok := asInt64(v); ok && ttl > 0 {
					return ttl
				}
			}
		}
	}
	if v, _ := lookupPath(s.state.tenants[tenantID], "jwtConfiguration.timeToLiveInSeconds"); v != nil {
		if ttl, ok := asInt64(v); ok && ttl > 0 {
			return ttl
		}
	}
	return 3600
}

// issueUserToken signs an access token for u like FusionAuth's login and create
// responses do; app may be nil (no application claims). It returns the token and its
// expiry instant in ms. Callers hold s.mu (read or write).
func (s *Server) issueUserToken(u *userRecord, app map[string]any, authenticationType string) (string, int64, error) {
	k := s.state.keys[s.accessTokenKeyID(app)]
	if k == nil {
		return "", 0, fmt.Errorf("issue token: no access token key")
	}
	now := s.now()
	ttl := s.tokenTTL(u.tenantID(), app)
	exp := now.Unix() + ttl
	tenant := s.state.tenants[u.tenantID()]
	claims := map[string]any{
		"iat":                now.Unix(),
		"exp":                exp,
		"auth_time":          now.Unix(),
		"jti":                newUUID(),
		"sub":                u.id(),
		"iss":                asString(tenant["issuer"]),
		"tid":                u.tenantID(),
		"authenticationType": authenticationType,
	}
	if e := u.email(); e != "" {
		claims["email"] = e
		claims["email_verified"] = u.doc["verified"] == true
	}
	if n := u.username(); n != "" {
		claims["preferred_username"] = n
	}
	if app != nil {
		appID := asString(app["id"])
		claims["aud"] = appID
		claims["applicationId"] = appID
		roles := []any{}
		if reg := registrationFor(u, appID); reg != nil {
			if rs, ok := reg["roles"].([]any); ok {
				roles = rs
			}
		}
		claims["roles"] = roles
	}
	tok, err := signJWT(k, claims)
	if err != nil {
		return "", 0, err
	}
	return tok, exp * 1000, nil
}

// handleVend serves POST /api/jwt/vend (§10.1): the request's claims minus the reserved
// ones, plus amr, iat, exp = iat + ttl and a fresh jti, signed with keyId (default: the
// tenant's access-token key).
func (s *Server) handleVend(w http.ResponseWriter, r *http.Request, rc *reqCtx, f fields) {
	errs := f.errs
	claimsIn := f.object("claims")
	keyID := f.str("keyId")
	ttl, hasTTL := f.integer("timeToLiveInSeconds")
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	s.mu.RLock()
	tenantID := rc.tenantID
	if tenantID == "" {
		tenantID = s.state.defaultTenantID
	}
	if keyID == "" {
		id, _ := lookupPath(s.state.tenants[tenantID], "jwtConfiguration.accessTokenKeyId")
		keyID = asString(id)
	}
	var k *keyRecord
	if id, ok := canonicalUUID(keyID); ok {
		k = s.state.keys[id]
	}
	if !hasTTL {
		ttl = s.tokenTTL(tenantID, nil)
	}
	s.mu.RUnlock()
	if k == nil {
		errs.field("keyId", "[invalid]keyId", "The [keyId] property does not reference an existing Key with a private key or secret for signing.")
	}
	if ttl <= 0 {
		errs.field("timeToLiveInSeconds", "[invalid]timeToLiveInSeconds", "The [timeToLiveInSeconds] property must be greater than 0.")
	}
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	claims := cloneMap(claimsIn)
	if claims == nil {
		claims = map[string]any{}
	}
	// Reserved on the Vend API: exp and iat (set below), amr and cnf (fusionauth-issues
	// #1669, #3177). Since 1.60 FusionAuth sets amr itself, "starting with the Vend API";
	// what it puts in the list is not documented, so here it is an empty list.
	for _, reserved := range []string{"exp", "iat", "amr", "cnf"} {
		delete(claims, reserved)
	}
	now := s.now().Unix()
	claims["amr"] = []any{}
	claims["iat"] = now
	claims["exp"] = now + ttl
	claims["jti"] = newUUID()
	tok, err := signJWT(k, claims)
	if err != nil {
		s.log.Error("fatest: vend", "err", err)
		writeEmpty(w, http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": tok})
}
