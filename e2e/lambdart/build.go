package lambdart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

// Build compiles main packages into Lambda bootstraps the way a deployment builds them,
// for the host architecture so that they run here:
//
//	GOOS=linux GOARCH=<host> CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags "-s -w"
//
// Each package is a path relative to root (e.g. "./functions/video") and lands in
// dir/<name>/bootstrap, where name is the package path's last element. Build returns the
// bootstrap paths by name.
func Build(ctx context.Context, root, dir string, pkgs ...string) (map[string]string, error) {
	return BuildFor(ctx, runtime.GOARCH, root, dir, pkgs...)
}

// BuildFor is Build for goarch; the deployed functions are arm64. The caller's GOFLAGS are
// dropped so that `GOFLAGS=-race go test` cannot turn into a cgo-less race build, which
// would fail. One go command builds every package, so the shared packages compile once.
func BuildFor(ctx context.Context, goarch, root, dir string, pkgs ...string) (map[string]string, error) {
	if len(pkgs) == 0 {
		return nil, errors.New("build bootstraps: no packages")
	}
	names := make(map[string]string, len(pkgs))
	for _, p := range pkgs {
		name := path.Base(filepath.ToSlash(p))
		if prev, dup := names[name]; dup {
			return nil, fmt.Errorf("build bootstraps: %s and %s would both be named %q", prev, p, name)
		}
		names[name] = p
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("build bootstraps: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("build bootstraps: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return nil, fmt.Errorf("build bootstraps: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()

	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", tmp + string(filepath.Separator)}
	cmd := exec.CommandContext(ctx, goTool, append(args, pkgs...)...)
	cmd.Dir = root
	// Later entries win over the inherited ones.
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build bootstraps %s: %w\n%s", strings.Join(pkgs, " "), err, out.Bytes())
	}

	paths := make(map[string]string, len(names))
	for name := range names {
		dst := filepath.Join(dir, name, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, fmt.Errorf("build bootstraps: %w", err)
		}
		if err := os.Rename(filepath.Join(tmp, name), dst); err != nil {
			return nil, fmt.Errorf("build bootstraps: move %s: %w", name, err)
		}
		paths[name] = dst
	}
	return paths, nil
}
