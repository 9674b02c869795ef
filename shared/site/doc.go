// Package site serves the visitor-facing pages (GET /video, GET and POST /register),
// the sign-in (GET /login, /callback, /logout) and the FusionAuth webhook as plain
// net/http handlers, so that the Lambda functions, the local all-in-one server and the
// tests run the same code.
package site
