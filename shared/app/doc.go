// Package app builds the functions' handlers from configuration: the one place that
// turns settings and an API key source into a FusionAuth client, a cookie verifier and
// the site handlers. The Lambda entry points (functions/*) and the local all-in-one
// server (cmd/local) call it, so they cannot drift apart.
package app
