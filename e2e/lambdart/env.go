package lambdart

import (
	"maps"
	"slices"
	"strconv"

	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/devserver"
	"github.com/changebank/anonuser/shared/secrets/smtest"
)

// Stack is what a function's environment points at.
type Stack struct {
	// FusionAuthURL is the FusionAuth base URL (fatest.Server.URL).
	FusionAuthURL string
	// SecretsManagerURL is the Secrets Manager endpoint (AWS_ENDPOINT_URL_SECRETS_MANAGER).
	SecretsManagerURL string
	// DynamoDBURL is the DynamoDB endpoint holding the profile leases' and client limits' tables
	// (AWS_ENDPOINT_URL_DYNAMODB; the tables are devserver.LocalLocksTable and
	// devserver.LocalLimitsTable).
	DynamoDBURL string
	// Region is the AWS region of the endpoint and its ARNs.
	Region string
	// Variable returns a kickstart variable: visitorTenantId, applicationId
	// (fatest.Server.Variable).
	Variable func(name string) string
	// WebhookSigningKID is the kid FusionAuth signs webhooks with (WEBHOOK_SIGNING_KID).
	WebhookSigningKID string
	// CookieKeysSecretID is the id of the cookie keys' secret (COOKIE_KEYS_SECRET_ID).
	CookieKeysSecretID string
	// SecretID returns the id of the function's API key secret (a name or an ARN).
	SecretID func(function string) string
	// NoAWSConfig is a path that does not exist: it stands in for ~/.aws/config and
	// ~/.aws/credentials so a developer's profile cannot leak in.
	NoAWSConfig string
}

// SiteURL is where the functions are served in the emulator runs: the HTTP API's URL.
const SiteURL = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"

// FunctionEnv returns the environment template.yaml gives the function (video, register,
// webhook or prune) with this stack's endpoints and ids, plus the variables the Lambda
// service sets and the fake Secrets Manager's credentials. The required variables are the
// local stack's (devserver.FunctionEnv); the optional ones are set to their defaults, as
// the template sets them. The caller may change or delete entries before starting the
// emulator.
func FunctionEnv(function string, s Stack) map[string]string {
	env := devserver.FunctionEnv(function, devserver.Endpoints{
		FusionAuthURL: s.FusionAuthURL,
		SiteURL:       SiteURL,
		Variable:      s.Variable,
		SecretID:      s.SecretID,

		CookieKeysSecretID: s.CookieKeysSecretID,
		WebhookSigningKID:  s.WebhookSigningKID,
	})
	maps.Copy(env, map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":         "anonuser-" + function,
		"AWS_LAMBDA_FUNCTION_VERSION":      "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE":  "256",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":      "10",
		"AWS_REGION":                       s.Region,
		"AWS_ACCESS_KEY_ID":                smtest.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":            smtest.SecretAccessKey,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": s.SecretsManagerURL,
		"AWS_ENDPOINT_URL_DYNAMODB":        s.DynamoDBURL,
		"AWS_CONFIG_FILE":                  s.NoAWSConfig,
		"AWS_SHARED_CREDENTIALS_FILE":      s.NoAWSConfig,
		"AWS_EC2_METADATA_DISABLED":        "true",
		"LOG_LEVEL":                        "info",
	})
	switch function {
	case "video":
		env["COOKIE_NAME"] = config.DefaultCookieName
		env["VIDEO_URL"] = config.DefaultVideoURL
		env["VIDEO_SECONDS"] = strconv.Itoa(config.DefaultVideoSeconds)
		env["APP_ORIGIN"] = ""
		env["STUBS_PER_CLIENT_HOUR"] = strconv.Itoa(config.DefaultStubsPerClientHour)
		env["STUBS_PER_DAY"] = strconv.Itoa(config.DefaultStubsPerDay)
		env["TRUSTED_PROXIES"] = "" // the template's default: believe no header
	case "register":
		env["COOKIE_NAME"] = config.DefaultCookieName
		env["APP_ORIGIN"] = "" // the template's default: the request's own origin
		env["REGISTER_EMAILS_PER_HOUR"] = strconv.Itoa(config.DefaultEmailsPerHour)
		env["REGISTER_EMAILS_PER_DAY"] = strconv.Itoa(config.DefaultEmailsPerDay)
		env["REGISTERS_PER_CLIENT_HOUR"] = strconv.Itoa(config.DefaultRegistersPerClientHour)
		env["TRUSTED_PROXIES"] = ""
	case "webhook":
		env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "5"
		env["WEBHOOK_SECRET_HEADER"] = config.DefaultSecretHeader
	case "prune":
		env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "900"
		env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "512"
		env["RETENTION_DAYS"] = strconv.Itoa(config.DefaultRetentionDays)
		env["RETENTION_ONE_VISIT_DAYS"] = strconv.Itoa(config.DefaultOneVisitDays)
		env["PENDING_EMAIL_DAYS"] = strconv.Itoa(config.DefaultPendingEmailDays)
		env["PRUNE_MAX_PER_RUN"] = strconv.Itoa(config.DefaultMaxPerRun)
		env["PRUNE_BATCH_SIZE"] = strconv.Itoa(config.DefaultBatchSize)
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
