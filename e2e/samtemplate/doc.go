// Package samtemplate holds no code, only tests: they parse the repository's SAM
// template (template.yaml) with goformation and prove that it agrees with the Go
// code it deploys.
//
// For each of the four functions the tests check the runtime contract (provided.al2023,
// bootstrap, arm64, go1.x builds of functions/<name>/), timeouts, events and routes,
// that the template sets exactly the environment variables the function's config
// loader reads, that the function may read only its own Secrets Manager secret, and
// that it has a log group. For the stack they check HTTP API throttling, the outputs,
// that no secret value is written into template.yaml, samconfig.toml or
// env-vars.example.json, and that samconfig.toml keeps its safe deploy defaults.
// Each check returns its problems, so the tests can also prove that every check fails
// on a deliberately broken copy of the template.
//
// Files by concern: template_test.go loads the template (and runs the check tables),
// functions_test.go holds the specs and the per-function build, timeout, environment and
// log-group checks, api_test.go the routes and HTTP API throttling, schedule_url_test.go
// the schedule, the Function URL and the outputs, iam_test.go least privilege and secret
// values, samconfig_test.go samconfig.toml (read with a TOML library) and
// env-vars.example.json, mutations_test.go the broken copies.
//
// goformation cannot decode a !Ref to a Number parameter that feeds a numeric property
// (RetentionInDays, ThrottlingRateLimit, ...): the tests resolve those to the
// parameter's default before decoding and remember the reference.
package samtemplate
