// Package apikey provides a function's FusionAuth API key, read from AWS Secrets Manager.
//
// The environment holds only the secret's id. Load reads the secret once per cold start (from
// main, before lambda.Start) and the Source caches the key for every invocation. When FusionAuth
// answers 401 the caller hands the key it used to RefreshAPIKey, which re-reads the secret if
// that key is still the cached one: that is how a rotated key is picked up without a restart.
// Re-reads are single-flight and rate limited, because the runtime may run several handler
// loops at once and a wrong key must not turn every request into a Secrets Manager call.
//
// The secret's SecretString is either the API key itself or a JSON object such as
// {"apiKey": "…", "webhookSecret": "…"}; Value returns the other string fields.
//
// Static is a fixed key with the same methods, for the local stack and tests. The consumer (the
// FusionAuth client) defines the interface both satisfy.
//
// Secret values never appear in errors or log records.
package apikey
