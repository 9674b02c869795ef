// Package secrets reads secret values from AWS Secrets Manager: the one call the functions
// make there (GetSecretValue, AWS JSON 1.1 protocol), signed with the SDK's own SigV4 signer.
//
// Why not the SDK's secretsmanager client: it carries every Secrets Manager operation, its
// endpoint rules engine and middleware stack, and a page that renders html/template keeps
// every exported method of every reachable type (the template engine finds methods by
// name at run time). Measured on linux/arm64, stripped, with html/template in the binary:
// the SDK client adds 1.4 MB, this package 0.13 MB, which is the difference between the
// functions meeting their size budget (1.5× a hello-world Lambda) and missing it.
//
// The Lambda runtime puts the execution role's credentials and the region in the
// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION), so
// FromEnv needs nothing else, and the SDK's default credential chain (SSO, STS, IMDS,
// sign-in) stays out of the binaries. AWS_ENDPOINT_URL_SECRETS_MANAGER (or AWS_ENDPOINT_URL)
// points the client elsewhere, as it does the SDK: a VPC endpoint, or a local fake.
//
// For local runs with a profile (SSO and the like), build with -tags awsdefaultchain: when
// the environment holds no access key, FromEnv then takes credentials, region and endpoint
// from the SDK's default configuration chain.
package secrets
