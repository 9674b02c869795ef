// Package signin is the OpenID Connect client of the sign-in: OAuth 2.0 Authorization
// Code with PKCE (S256), state and nonce against FusionAuth's hosted login
// (golang.org/x/oauth2), and the ID token verified against FusionAuth's JWKS: signature,
// iss, aud, exp and nonce (github.com/coreos/go-oidc/v3).
//
// It knows the protocol and nothing of pages or cookies: Start gives the flow to keep
// and the FusionAuth URL to send the browser to; Finish turns the callback's query and
// the kept flow into the identity that signed in, or one error of this package's
// vocabulary (errors.go), which package site maps to statuses. The client secret is
// configuration handed in by the caller (read from Secrets Manager at cold start);
// nothing here holds FusionAuth's tokens beyond Finish.
package signin
