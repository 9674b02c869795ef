// Package token signs and verifies the JWTs the functions deal with:
//
//   - The visitor cookie (Visitor): an HS256 JWT the functions sign themselves with
//     keys from Secrets Manager, never one vended by FusionAuth. No function's
//     FusionAuth API key can mint it, and checking it costs no network call.
//   - The session (Session) of a person who signed in, and the short-lived sign-in flow
//     (SignIn: state, nonce, PKCE verifier): the same keys and scheme (hs256.go), each
//     with its own purpose claim, so no kind passes for another.
//   - FusionAuth's webhook signature (Webhook): the X-FusionAuth-Signature-JWT header,
//     checked against FusionAuth's JWKS with the algorithm and kid pinned from
//     configuration, and bound to the exact request body.
//
// Every refusal is an *Error whose Reason is safe to log; the token never is.
package token
