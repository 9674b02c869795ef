package lambdart

import (
	"maps"
	"slices"
)

// Stack is what a function's environment points at.
type Stack struct {
	// FusionAuthURL is the FusionAuth base URL (fatest.Server.URL).
	FusionAuthURL string
	// SecretsManagerURL is the Secrets Manager endpoint (AWS_ENDPOINT_URL_SECRETS_MANAGER).
	SecretsManagerURL string
	// Region is the AWS region of the endpoint and its ARNs.
	Region string
	// Variable returns a kickstart variable: defaultTenantId, applicationId
	// (fatest.Server.Variable).
	Variable func(name string) string
	// WebhookSigningKID is the kid FusionAuth signs webhooks with (WEBHOOK_SIGNING_KID).
	WebhookSigningKID string
	// SecretID returns the id of the function's API key secret (a name or an ARN).
	SecretID func(function string) string
	// NoAWSConfig is a path that does not exist: it stands in for ~/.aws/config and
	// ~/.aws/credentials so a developer's profile cannot leak in.
	NoAWSConfig string
}

// FunctionEnv returns the environment template.yaml gives the function (video, register,
// webhook or prune) with this stack's endpoints and ids, plus the variables the Lambda
// service sets and static credentials for the local Secrets Manager endpoint. The caller
// may change or delete entries before starting the emulator.
func FunctionEnv(function string, s Stack) map[string]string {
	env := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":         "anonuser-" + function,
		"AWS_LAMBDA_FUNCTION_VERSION":      "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE":  "256",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":      "10",
		"AWS_REGION":                       s.Region,
		"AWS_ACCESS_KEY_ID":                "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":            "fake-secret-key-for-the-local-endpoint",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": s.SecretsManagerURL,
		"AWS_CONFIG_FILE":                  s.NoAWSConfig,
		"AWS_SHARED_CREDENTIALS_FILE":      s.NoAWSConfig,
		"AWS_EC2_METADATA_DISABLED":        "true",

		"FUSIONAUTH_URL":            s.FusionAuthURL,
		"FUSIONAUTH_TENANT_ID":      s.Variable("visitorTenantId"),
		"FUSIONAUTH_APPLICATION_ID": s.Variable("applicationId"),
		"LOG_LEVEL":                 "info",
		"API_KEY_SECRET_ID":         s.SecretID(function),
	}
	switch function {
	case "video":
		env["COOKIE_NAME"] = "anon_user"
		env["VIDEO_URL"] = "https://storage.googleapis.com/gtv-videos-bucket/sample/ForBiggerJoyrides.mp4"
	case "register":
		env["COOKIE_NAME"] = "anon_user"
		env["FUSIONAUTH_PUBLIC_URL"] = s.FusionAuthURL
		env["REGISTER_REDIRECT_URI"] = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/callback"
		env["APP_ORIGIN"] = "" // the template's default: the request's own origin
	case "webhook":
		env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "5"
		env["WEBHOOK_SIGNING_KID"] = s.WebhookSigningKID
		env["WEBHOOK_SECRET_HEADER"] = "X-Webhook-Secret"
	case "prune":
		env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "900"
		env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "512"
		env["RETENTION_DAYS"] = "30"
		env["PENDING_EMAIL_DAYS"] = "7"
		env["PRUNE_MAX_PER_RUN"] = "50000"
		env["PRUNE_BATCH_SIZE"] = "10000"
		env["PRUNE_DRY_RUN"] = "false"
	}
	return env
}

// EnvList turns env into the "NAME=value" list Options.Env takes, sorted by name.
func EnvList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}
