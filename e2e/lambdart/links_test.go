package lambdart_test

import (
	"bytes"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/kickstart"
)

const module = "github.com/changebank/anonuser/"

// linkedBy names, for every package of this module a function may link, the functions
// that may. A function linking a package not listed for it links another function's code
// (or a tool's); a package missing from the table fails too, so adding one means deciding
// who may link it.
var linkedBy = map[string][]string{
	"shared/app":             functions,
	"shared/apikey":          functions,
	"shared/backoff":         functions, // the FusionAuth and Secrets Manager clients' retries
	"shared/config":          functions,
	"shared/faclient":        functions,
	"shared/secrets":         functions,
	"shared/awsjson":         functions, // Secrets Manager and the lease table over the AWS JSON protocol
	"shared/lock":            functions, // every function writes profiles under their leases
	"shared/anon":            functions, // prune reads the stub markers' names from it
	"shared/site":            {"video", "register", "webhook"},
	"shared/lambdahttp":      {"video", "register", "webhook"},
	"shared/limit":           functions, // the per-client counts (video and register), through app
	"shared/metrics":         functions, // EMF lines: prune's summary, the sites' refusals
	"shared/token":           {"video", "register", "webhook"},
	"shared/signin":          {"video", "register", "webhook"}, // the sign-in's vocabulary, through site
	"shared/signin/openid":   {"register"},                     // the OAuth and OIDC libraries: the sign-in's function only
	"shared/prune":           {"prune"},
	"shared/app/cookiekeys":  {"video", "register"},
	"shared/app/videoapp":    {"video"},
	"shared/app/registerapp": {"register"},
	"shared/app/webhookapp":  {"webhook"},
	"shared/app/pruneapp":    {"prune"},
	"functions/video":        {"video"},
	"functions/register":     {"register"},
	"functions/webhook":      {"webhook"},
	"functions/prune":        {"prune"},
}

// neverLinked are packages no Lambda binary may carry: the AWS SDK's default
// configuration chain (Lambda hands credentials and region in the environment), the SDK's
// own Secrets Manager client (package secrets makes the one call), and test code.
var neverLinked = []string{
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds",
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds",
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
	"github.com/aws/aws-sdk-go-v2/service/sso",
	"github.com/aws/aws-sdk-go-v2/service/ssooidc",
	"github.com/aws/aws-sdk-go-v2/service/sts",
	"github.com/aws/aws-sdk-go-v2/service/signin",
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager",
	"testing",
}

// deps lists the packages a function's Lambda build links, as SAM builds it.
func deps(tb testing.TB, root, function string, tags string) []string {
	tb.Helper()
	cmd := exec.Command("go", "list", "-deps", "-tags", tags, "./functions/"+function)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("go list -deps ./functions/%s: %v\n%s", function, err, stderr.Bytes())
	}
	return strings.Fields(string(out))
}

// TestFunctionsLinkOnlyWhatTheyUse fails when a function's binary links another
// function's package, a package nobody placed in linkedBy, or the SDK's SSO, STS, IMDS
// or sign-in clients.
func TestFunctionsLinkOnlyWhatTheyUse(t *testing.T) {
	root, err := kickstart.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range functions {
		t.Run(fn, func(t *testing.T) {
			for _, pkg := range deps(t, root, fn, "lambda.norpc") {
				if own, ok := strings.CutPrefix(pkg, module); ok {
					allowed, known := linkedBy[own]
					switch {
					case !known:
						t.Errorf("links %s: got a package linkedBy does not list, want it listed with the functions that may link it", own)
					case !slices.Contains(allowed, fn):
						t.Errorf("links %s: got another function's package (linked by %v only)", own, allowed)
					}
				}
				for _, bad := range neverLinked {
					if pkg == bad || strings.HasPrefix(pkg, bad+"/") {
						t.Errorf("links %s: got it, want it never in a Lambda binary", pkg)
					}
				}
			}
		})
	}
}

// TestDefaultChainStaysBehindItsTag shows the check above can see the default chain: a
// build with -tags awsdefaultchain (for local runs with a profile) links it; the Lambda
// build does not.
func TestDefaultChainStaysBehindItsTag(t *testing.T) {
	root, err := kickstart.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	const chain = "github.com/aws/aws-sdk-go-v2/config"
	if got := slices.Contains(deps(t, root, "video", "lambda.norpc,awsdefaultchain"), chain); !got {
		t.Errorf("-tags awsdefaultchain: links %s = false, want true", chain)
	}
	if got := slices.Contains(deps(t, root, "video", "lambda.norpc"), chain); got {
		t.Errorf("Lambda build: links %s = true, want false", chain)
	}
}
