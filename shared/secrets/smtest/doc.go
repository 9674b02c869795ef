// Package smtest is an in-memory AWS Secrets Manager endpoint for tests, in the style of
// net/http/httptest.
//
// It speaks the part of the Secrets Manager JSON protocol that GetSecretValue uses, checks
// every request's SigV4 signature against the one credential it accepts (AccessKeyID,
// SecretAccessKey), and answers as the service does, so tests run the functions' real client
// (package secrets: signing, serialisation, error decoding) against it instead of a
// hand-written fake of a client interface. Its own tests run the AWS SDK's client against it
// too (SDKClient), which shows that both see the same service:
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
