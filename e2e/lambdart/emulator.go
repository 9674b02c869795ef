package lambdart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// InvokePath is the emulator's invoke endpoint: the Lambda Invoke API path for the one
// function it runs.
const InvokePath = "/2015-03-31/functions/function/invocations"

// maxPayload bounds a response payload: Lambda's own limit for a synchronous invoke is 6 MB.
const maxPayload = 7 << 20

// FindRIE returns the path of aws-lambda-rie: from PATH, else from GOBIN or GOPATH/bin, where
// `go install` (scripts/tools.sh) puts it. The emulator runs on Linux only.
func FindRIE() (string, error) {
	if runtime.GOOS != "linux" {
		return "", fmt.Errorf("aws-lambda-rie runs on linux only, this is %s", runtime.GOOS)
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("find aws-lambda-rie: not on PATH, and go env failed: %w", err)
	}
	// One line each, GOBIN first; an unset GOBIN is an empty line.
	lines := strings.Split(string(out), "\n")
	if len(lines) < 2 {
		return "", fmt.Errorf("find aws-lambda-rie: unexpected go env output %q", out)
	}
	var dirs, tried []string
	if gobin := strings.TrimSpace(lines[0]); gobin != "" {
		dirs = append(dirs, gobin)
	}
	if gopath := strings.TrimSpace(lines[1]); gopath != "" {
		dirs = append(dirs, filepath.Join(filepath.SplitList(gopath)[0], "bin"))
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, "aws-lambda-rie")
		if _, err := exec.LookPath(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("find aws-lambda-rie: not on PATH nor at %s; run scripts/tools.sh", strings.Join(tried, ", "))
}

// Options configure an emulator.
type Options struct {
	// RIE is the path of aws-lambda-rie (see FindRIE).
	RIE string
	// Bootstrap is the path of the function's bootstrap binary.
	Bootstrap string
	// Env is the whole environment ("NAME=value") of the emulator, which passes it on to the
	// function. Nothing is inherited from this process, so no developer credentials or
	// AWS profile leak in. AWS_LAMBDA_FUNCTION_TIMEOUT sets the invocation deadline.
	Env []string
	// Output, when set, also receives everything the emulator and the function write.
	Output io.Writer
	// StartAttempts is how often Start tries new ports when the emulator exits before it
	// answers (another process took a port between picking and binding); default 3.
	StartAttempts int
}

// Emulator is one running aws-lambda-rie with its function. Invocations through one
// Emulator are serialised.
type Emulator struct {
	// URL is the emulator's base URL, e.g. "http://127.0.0.1:41234".
	URL string

	cmd     *exec.Cmd
	started time.Time
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed
	out     *syncBuffer
	client  *http.Client

	invokeMu  sync.Mutex // the emulator crashes on overlapping invokes
	closeOnce sync.Once
}

// Start runs the emulator for opts.Bootstrap on two free 127.0.0.1 ports (the invoke API and
// the Runtime API; without them it would listen on 0.0.0.0:8080 and 9001) and returns once its
// invoke API answers HTTP. The function process itself starts with the first invoke. Close
// stops the emulator and the function.
func Start(ctx context.Context, opts Options) (*Emulator, error) {
	if opts.RIE == "" || opts.Bootstrap == "" {
		return nil, errors.New("start emulator: RIE and Bootstrap are required")
	}
	attempts := opts.StartAttempts
	if attempts <= 0 {
		attempts = 3
	}
	var err error
	for range attempts {
		var e *Emulator
		if e, err = launch(opts); err != nil {
			return nil, err
		}
		if err = e.waitReady(ctx); err == nil {
			return e, nil
		}
		_ = e.Close()
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("start emulator for %s: %w", opts.Bootstrap, err)
}

// launch starts the emulator process without waiting for it.
func launch(opts Options) (*Emulator, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, fmt.Errorf("start emulator: %w", err)
	}
	invokeAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	runtimeAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	e := &Emulator{
		URL:  "http://" + invokeAddr,
		done: make(chan struct{}),
		out:  &syncBuffer{tee: opts.Output},
		// No client timeout: the caller's context bounds each invoke.
		client: &http.Client{Transport: &http.Transport{DisableCompression: true}},
	}
	// Not CommandContext: the emulator's lifetime is Close's business, not a start context's.
	e.cmd = exec.Command(opts.RIE,
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", runtimeAddr,
		"--log-level", "error",
		opts.Bootstrap)
	e.cmd.Env = append([]string{}, opts.Env...)
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	// If the emulator dies while the function still holds the output pipe, Wait must not hang.
	e.cmd.WaitDelay = 2 * time.Second
	setProcessGroup(e.cmd)
	e.started = time.Now()
	if err := e.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start emulator: %w", err)
	}
	go func() {
		e.waitErr = e.cmd.Wait()
		close(e.done)
	}()
	return e, nil
}

// freePorts returns n distinct free TCP ports on 127.0.0.1. They are free when picked; Start
// retries if one is taken before the emulator binds it.
func freePorts(n int) ([]int, error) {
	// Hold every listener until all are picked, so the ports differ.
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitReady polls the emulator's HTTP server (GET /, which does not invoke) until it answers.
func (e *Emulator) waitReady(ctx context.Context) error {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+"/", nil)
		if err != nil {
			return fmt.Errorf("readiness request: %w", err)
		}
		if res, err := e.client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			return nil
		}
		select {
		case <-e.done:
			return fmt.Errorf("emulator exited before answering (%v); output:\n%s", e.waitErr, e.Output())
		case <-ctx.Done():
			return fmt.Errorf("emulator not answering: %w; output:\n%s", ctx.Err(), e.Output())
		case <-tick.C:
		}
	}
}

// Started returns when the emulator process was started: the zero point of a cold start.
func (e *Emulator) Started() time.Time { return e.started }

// Output returns everything the emulator and the function have written so far: the
// function's logs, and the emulator's error lines (such as "Init failed").
func (e *Emulator) Output() string { return e.out.String() }

// WaitOutput waits until the output contains substr. The emulator writes some lines, such
// as "Init failed", after it has answered the invoke, so a caller that checks them right
// after Invoke must wait for them. It fails when ctx ends or the emulator exits first.
func (e *Emulator) WaitOutput(ctx context.Context, substr string) error {
	for {
		found, changed := e.out.contains(substr)
		if found {
			return nil
		}
		select {
		case <-changed:
		case <-e.done:
			if found, _ := e.out.contains(substr); found {
				return nil
			}
			return fmt.Errorf("emulator exited (%v) without writing %q", e.waitErr, substr)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %q in the output: %w", substr, ctx.Err())
		}
	}
}

// Result is the emulator's answer to one invoke.
type Result struct {
	// StatusCode is the emulator's HTTP status: 200 for a function result and for a
	// function error alike, 502 with an empty payload when the function's init failed
	// (the process exited before asking for its first event).
	StatusCode int
	// Payload is the response body: the handler's JSON result, or {"errorMessage",
	// "errorType"} when the handler returned an error.
	Payload []byte
}

// FunctionError is a function's error result, as the runtime reports it.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// Error implements error.
func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// ErrTimedOut means the invocation ran past AWS_LAMBDA_FUNCTION_TIMEOUT. The emulator
// answers 200 with the plain text "Task timed out after N seconds" as the payload.
var ErrTimedOut = errors.New("function timed out")

// Err returns nil for a successful invocation, a *FunctionError when the payload is the
// runtime's error object, ErrTimedOut (wrapped) for a timeout, and an error naming the
// status otherwise. The emulator sends no header that marks a function error, so a result
// object that itself has an "errorType" string reads as one.
func (r Result) Err() error {
	if r.StatusCode != http.StatusOK {
		return fmt.Errorf("emulator answered %d: %q", r.StatusCode, r.Payload)
	}
	if bytes.HasPrefix(r.Payload, []byte("Task timed out after ")) {
		return fmt.Errorf("%w: %s", ErrTimedOut, r.Payload)
	}
	var fe FunctionError
	if bytes.HasPrefix(bytes.TrimSpace(r.Payload), []byte("{")) && json.Unmarshal(r.Payload, &fe) == nil && fe.Type != "" {
		return &fe
	}
	return nil
}

// Invoke sends event to the function and returns the emulator's answer. It waits for any
// other Invoke on e to finish first. An error means no answer arrived.
func (e *Emulator) Invoke(ctx context.Context, event []byte) (Result, error) {
	e.invokeMu.Lock()
	defer e.invokeMu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL+InvokePath, bytes.NewReader(event))
	if err != nil {
		return Result{}, fmt.Errorf("invoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := e.client.Do(req)
	if err != nil {
		select {
		case <-e.done:
			return Result{}, fmt.Errorf("invoke: emulator exited (%v): %w", e.waitErr, err)
		default:
			return Result{}, fmt.Errorf("invoke: %w", err)
		}
	}
	defer func() { _ = res.Body.Close() }()
	payload, err := io.ReadAll(io.LimitReader(res.Body, maxPayload))
	if err != nil {
		return Result{}, fmt.Errorf("invoke: read response: %w", err)
	}
	return Result{StatusCode: res.StatusCode, Payload: payload}, nil
}

// Close kills the emulator and its function (their whole process group) and waits for
// them to exit. It is safe to call more than once.
func (e *Emulator) Close() error {
	var err error
	e.closeOnce.Do(func() {
		e.client.CloseIdleConnections()
		// Even when the emulator exited on its own, its function may still run.
		if kerr := killProcessGroup(e.cmd); kerr != nil {
			err = fmt.Errorf("stop emulator: %w", kerr)
		}
		select {
		case <-e.done:
		case <-time.After(10 * time.Second):
			err = errors.Join(err, errors.New("stop emulator: process did not exit within 10s"))
		}
	})
	return err
}

// syncBuffer collects process output for Output; the emulator and the function write to it
// from the copying goroutines while a test reads it.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	tee     io.Writer
	changed chan struct{} // closed and replaced by every Write
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tee != nil {
		_, _ = b.tee.Write(p) // a failing tee must not break the process's output pipe
	}
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.buf.Write(p)
}

// contains reports whether the output holds substr, and returns a channel closed by the
// next Write.
func (b *syncBuffer) contains(substr string) (bool, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	return strings.Contains(b.buf.String(), substr), b.changed
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
