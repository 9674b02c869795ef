// Package signin is the vocabulary of the sign-in: the FusionAuth pages it starts on
// (Screen), who signed in (Identity), FusionAuth's OAuth endpoints, and the errors a
// sign-in can end in (errors.go), which package site maps to statuses. It has no
// dependencies, so every function that links the site's handlers can link it.
//
// The protocol itself, OAuth 2.0 Authorization Code with PKCE (S256), state and nonce
// (golang.org/x/oauth2) and the ID token verified against FusionAuth's JWKS
// (github.com/coreos/go-oidc/v3), is package signin/openid, which only the register
// function links.
package signin
