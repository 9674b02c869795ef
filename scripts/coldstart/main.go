// Command coldstart measures how long the functions' Lambda bootstraps take to answer
// their first invoke under the AWS Lambda Runtime Interface Emulator, next to a hello-world
// Go function as the baseline. It is a benchmark, not a test.
//
// It prints the figures and then each function's ratios to hello in the same run (binary
// size, whole cold start, and the function's own part of it), marking any over its target.
//
// Usage, from anywhere in the repository (scripts/coldstart.sh wraps it):
//
//	go run ./scripts/coldstart [-n 10] [-only video,hello] [-arm64=false] [-v]
//
// It builds the four bootstraps and e2e/lambdart/testdata/hello with the deployment's flags
// (GOOS=linux CGO_ENABLED=0 -tags lambda.norpc -trimpath -ldflags "-s -w") for the host
// architecture, and also for arm64 (what template.yaml deploys) to report those sizes. It
// starts an in-memory FusionAuth (shared/faclient/fatest, loaded from kickstart/kickstart.json) and a
// fake Secrets Manager (shared/secrets/smtest) on 127.0.0.1, because the functions read their
// API key and FusionAuth's signing keys during init.
//
// n rounds, each function once per round (so load on this shared machine falls on all
// alike); each time: start aws-lambda-rie with the bootstrap on fresh loopback
// ports, wait until its HTTP server answers, send the function's event fixture (functions/<name>/testdata), and
// record the time from starting the emulator process to the first successful response
// (the cold start: emulator start, process start, the function's init including its
// Secrets Manager and FusionAuth calls, and the first handler run), then one more invoke
// (warm). The emulator starts the function only on the first invoke, so the figure includes
// the emulator's own start-up (a few ms) that Lambda does not bill, and none of Lambda's
// sandbox and code download. Compare functions with each other and with hello, not with
// production Init Duration.
//
// Events: video GET /video without a cookie (a browser's first visit: creates a stub),
// register POST /register with the fixture's redacted cookie (refused: a redirect, no
// FusionAuth call), webhook with the fixture's redacted signature (401 before any call), prune
// the scheduled event (a prune pass over the stubs the video runs created), hello an empty
// object.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/changebank/anonuser/e2e/lambdart"
	"github.com/changebank/anonuser/shared/devserver"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/kickstart"
	"github.com/changebank/anonuser/shared/lock/dynamotest"
	"github.com/changebank/anonuser/shared/secrets/smtest"
	"github.com/changebank/anonuser/shared/token"
)

// bench is one bootstrap to measure.
type bench struct {
	name  string
	pkg   string
	event string // the function's event fixture, from the repository root; "" for {}
}

var benches = []bench{
	{"hello", "./e2e/lambdart/testdata/hello", ""},
	{"video", "./functions/video", "functions/video/testdata/apigw-v2-get-video.json"},
	{"register", "./functions/register", "functions/register/testdata/apigw-v2-post-register.json"},
	{"webhook", "./functions/webhook", "functions/webhook/testdata/function-url-post-webhook.json"},
	{"prune", "./functions/prune", "functions/prune/testdata/eventbridge-scheduled-prune.json"},
}

// region is the functions' AWS region: the fake Secrets Manager's.
const region = smtest.Region

func main() {
	n := flag.Int("n", 10, "cold starts per function")
	only := flag.String("only", "", "comma-separated functions to measure (default all: "+names(benches)+")")
	arm64 := flag.Bool("arm64", true, "also build for arm64 to report the deployed sizes")
	verbose := flag.Bool("v", false, "print every run")
	flag.Parse()
	if err := run(*n, *only, *arm64, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func names(bs []bench) string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.name
	}
	return strings.Join(out, ",")
}

func run(n int, only string, arm64, verbose bool) error {
	if n < 1 {
		return errors.New("-n must be at least 1")
	}
	selected := benches
	if only != "" {
		// hello always runs: the ratios compare with it in the same run.
		selected = benches[:1]
		for _, name := range strings.Split(only, ",") {
			if strings.TrimSpace(name) == "hello" {
				continue
			}
			i := slices.IndexFunc(benches, func(b bench) bool { return b.name == strings.TrimSpace(name) })
			if i < 0 {
				return fmt.Errorf("-only: unknown function %q (have %s)", name, names(benches))
			}
			selected = append(selected, benches[i])
		}
	}
	rie, err := lambdart.FindRIE()
	if err != nil {
		return err
	}
	root, err := kickstart.ModuleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "coldstart-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	ctx := context.Background()

	pkgs := make([]string, len(selected))
	for i, b := range selected {
		pkgs[i] = b.pkg
	}
	fmt.Fprintf(os.Stderr, "building %d bootstraps...\n", len(pkgs))
	bins, err := lambdart.Build(ctx, root, filepath.Join(dir, runtime.GOARCH), pkgs...)
	if err != nil {
		return err
	}
	var armBins map[string]string
	if arm64 && runtime.GOARCH != "arm64" {
		if armBins, err = lambdart.BuildFor(ctx, "arm64", root, filepath.Join(dir, "arm64"), pkgs...); err != nil {
			return err
		}
	}

	fa, err := fatest.Start(fatest.Options{
		Kickstart: filepath.Join(root, "kickstart", "kickstart.json"),
		// Nothing here logs in, so no webhook fires; keep it on loopback anyway.
		Variables: map[string]string{"webhookURL": "http://127.0.0.1:9/webhook"},
	})
	if err != nil {
		return err
	}
	defer func() { _ = fa.Close() }()
	cookieKeys, err := randomCookieKeys()
	if err != nil {
		return err
	}
	sm, err := smtest.Start(map[string]string{
		secretID("video"):    fa.Variable("videoApiKey"),
		secretID("register"): fmt.Sprintf(`{"apiKey":%q,"clientSecret":%q}`, fa.Variable("registerApiKey"), fa.Variable("clientSecret")),
		secretID("webhook"):  fmt.Sprintf(`{"apiKey":%q,"webhookSecret":%q}`, fa.Variable("webhookApiKey"), fa.Variable("webhookSecret")),
		secretID("prune"):    fa.Variable("pruneApiKey"),
		cookieKeysSecret:     cookieKeys,
	})
	if err != nil {
		return err
	}
	defer sm.Close()
	ddb, err := dynamotest.Start(dynamotest.Table{Name: devserver.LocalLocksTable, Key: "id"}, dynamotest.Table{Name: devserver.LocalLimitsTable, Key: "id"})
	if err != nil {
		return err
	}
	defer ddb.Close()
	stack := lambdart.Stack{
		FusionAuthURL:     fa.URL(),
		SecretsManagerURL: sm.URL,
		DynamoDBURL:       ddb.URL,
		Region:            region,
		Variable:          fa.Variable,
		SecretID:          secretID,
		NoAWSConfig:       filepath.Join(dir, "no-aws-config"),

		CookieKeysSecretID: cookieKeysSecret,
		WebhookSigningKID:  fa.Variable("webhookSigningKid"), // the kickstart imports the key with a fixed kid
	}

	type row struct {
		bench
		size, armSize int64
		ready, cold   []time.Duration
		init, warm    []time.Duration
	}
	rows := make([]row, len(selected))
	events := make([][]byte, len(selected))
	envs := make([]map[string]string, len(selected))
	for i, b := range selected {
		rows[i].bench = b
		if rows[i].size, err = fileSize(bins[b.name]); err != nil {
			return err
		}
		if armBins != nil {
			if rows[i].armSize, err = fileSize(armBins[b.name]); err != nil {
				return err
			}
		}
		events[i] = []byte("{}")
		if b.event != "" {
			if events[i], err = os.ReadFile(filepath.Join(root, b.event)); err != nil {
				return fmt.Errorf("read event: %w", err)
			}
		}
		envs[i] = map[string]string{"AWS_LAMBDA_FUNCTION_NAME": b.name, "AWS_LAMBDA_FUNCTION_TIMEOUT": "10", "AWS_REGION": region}
		if b.name != "hello" {
			envs[i] = lambdart.FunctionEnv(b.name, stack)
		}
	}
	// Round by round, every function once per round: a load spike on this shared machine
	// then falls on hello and the functions alike, which keeps the ratios fair.
	for round := range n {
		for i := range rows {
			r := &rows[i]
			m, err := measure(ctx, lambdart.Options{RIE: rie, Bootstrap: bins[r.name], Env: lambdart.EnvList(envs[i])}, events[i])
			if err != nil {
				return fmt.Errorf("%s run %d: %w", r.name, round+1, err)
			}
			if verbose {
				fmt.Fprintf(os.Stderr, "%-9s run %2d: emulator ready %5.1f ms, cold %6.1f ms, warm %5.2f ms\n", r.name, round+1, ms(m.ready), ms(m.cold), ms(m.warm))
			}
			r.ready, r.cold, r.warm = append(r.ready, m.ready), append(r.cold, m.cold), append(r.warm, m.warm)
			r.init = append(r.init, m.cold-m.ready)
		}
	}

	fmt.Printf("Cold start under aws-lambda-rie: emulator process start to first successful invoke response.\n")
	fmt.Printf("%d runs per function; %s/%s, %d CPUs, %s, load average %s; sizes with -tags lambda.norpc -trimpath -ldflags \"-s -w\", CGO_ENABLED=0.\n",
		n, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), loadAverage())
	fmt.Printf("rie ready: emulator start to its HTTP server answering (part of cold; Lambda has no such step).\n")
	fmt.Printf("cold-ready: the rest of each cold start (function process start, init, first invoke).\n\n")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := "function\t" + runtime.GOARCH + " MB\t"
	if armBins != nil {
		header += "arm64 MB\t"
	}
	_, _ = fmt.Fprintln(tw, header+"rie ready median ms\tcold min ms\tcold median ms\tcold max ms\tcold-ready median ms\twarm median ms\t")
	for _, r := range rows {
		line := fmt.Sprintf("%s\t%.1f\t", r.name, mb(r.size))
		if armBins != nil {
			line += fmt.Sprintf("%.1f\t", mb(r.armSize))
		}
		slices.Sort(r.cold)
		line += fmt.Sprintf("%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t", ms(median(r.ready)), ms(r.cold[0]), ms(median(r.cold)), ms(r.cold[len(r.cold)-1]), ms(median(r.init)), ms(median(r.warm)))
		_, _ = fmt.Fprintln(tw, line) // tabwriter buffers; Flush reports write errors
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	// Ratios to hello in this run, against the targets (issue "Cheap to run").
	hello := rows[0]
	size := func(r row) int64 {
		if armBins != nil {
			return r.armSize
		}
		return r.size
	}
	sizeArch := runtime.GOARCH
	if armBins != nil {
		sizeArch = "arm64"
	}
	fmt.Printf("\nRatios to hello in this run (target; * = over it): size %s ≤ %.2f×, cold median ≤ %.2f×, cold-ready median (the function's own part) ≤ %.2f×.\n\n",
		sizeArch, targetSize, targetCold, targetOwn)
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	_, _ = fmt.Fprintln(tw, "function\tsize ×hello\tcold ×hello\tcold-ready ×hello\t")
	for _, r := range rows[1:] {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", r.name,
			ratio(float64(size(r)), float64(size(hello)), targetSize),
			ratio(float64(median(r.cold)), float64(median(hello.cold)), targetCold),
			ratio(float64(median(r.init)), float64(median(hello.init)), targetOwn))
	}
	return tw.Flush()
}

// The targets, as ratios to hello in the same run.
const (
	targetSize = 1.5
	targetCold = 1.15
	targetOwn  = 1.5
)

// ratio formats a/b with a star when it is over target.
func ratio(a, b, target float64) string {
	if b == 0 {
		return "n/a"
	}
	r := a / b
	mark := ""
	if r > target {
		mark = "*"
	}
	return fmt.Sprintf("%.2f×%s", r, mark)
}

// sample is one cold start.
type sample struct {
	ready time.Duration // emulator process start to its HTTP server answering
	cold  time.Duration // emulator process start to the first invoke's response
	warm  time.Duration // the second invoke alone
}

// measure starts one emulator, invokes it twice and stops it.
func measure(ctx context.Context, opts lambdart.Options, event []byte) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	e, err := lambdart.Start(ctx, opts)
	if err != nil {
		return sample{}, err
	}
	defer func() { _ = e.Close() }() // on the error paths; the success path checks Close
	var m sample
	m.ready = time.Since(e.Started())
	res, err := e.Invoke(ctx, event)
	m.cold = time.Since(e.Started())
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		return sample{}, fmt.Errorf("first invoke: %w\n%s", err, e.Output())
	}
	t := time.Now()
	res, err = e.Invoke(ctx, event)
	m.warm = time.Since(t)
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		return sample{}, fmt.Errorf("second invoke: %w\n%s", err, e.Output())
	}
	return m, e.Close()
}

// loadAverage is the 1-minute load average (Linux), so noisy figures can be told apart.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

func secretID(function string) string { return "anonuser/" + function + "-api-key" }

// cookieKeysSecret names the cookie keys' secret.
const cookieKeysSecret = "anonuser/cookie-keys"

// randomCookieKeys returns the JSON of one fresh cookie key, as the secret holds it.
func randomCookieKeys() (string, error) {
	secret := make([]byte, token.MinSecretLen)
	if _, err := rand.Read(secret); err != nil {
		return "", fmt.Errorf("cookie key: %w", err)
	}
	b, err := json.Marshal([]token.Key{{ID: "coldstart", Secret: secret}})
	if err != nil {
		return "", fmt.Errorf("cookie key: %w", err)
	}
	return string(b), nil
}

func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", path, err)
	}
	return fi.Size(), nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(d))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mb(n int64) float64 { return float64(n) / 1e6 }
