// Package smtest is an in-memory AWS Secrets Manager endpoint for tests, in the style of
// net/http/httptest.
//
// It speaks the part of the Secrets Manager JSON protocol that GetSecretValue uses, so tests run
// the real AWS SDK client (request signing, serialisation, error decoding) against it instead of
// a hand-written fake of the client interface:
//
//	srv := smtest.NewServer(t, map[string]string{"anonuser/video": "key-1"})
//	src, err := apikey.Load(ctx, srv.Client(t), "anonuser/video")
//	srv.Set("anonuser/video", "key-2") // rotate
//	srv.Reads("anonuser/video")        // GetSecretValue calls seen so far
//
// Only the current version (AWSCURRENT) of each secret exists. A secret can be addressed by its
// name or by the ARN that ARN returns.
//
// Outside a test (a benchmark, a local tool), Start returns a server the caller stops with Close.
package smtest
