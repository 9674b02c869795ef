// Package kickstart finds the repository's FusionAuth Kickstart file
// (kickstart/kickstart.json) and reads its fixed variables. The local stack, the
// FusionAuth stand-in, the end-to-end tests and the tools all configure from that file,
// as a real FusionAuth started with `docker compose up` does; this package holds no
// FusionAuth behaviour, so anything may import it.
package kickstart

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ModuleRoot returns the directory holding go.mod, found by walking up from the working
// directory (under go test, the package's directory). Tests and tools use it to find the
// repository's files (kickstart/kickstart.json, testdata, artifacts).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Path returns the repository's kickstart file: kickstart/kickstart.json under the
// module root.
func Path() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "kickstart", "kickstart.json"), nil
}

// Variables reads the fixed variables of the kickstart file at path (ids and dev keys),
// which a FusionAuth configured from that file shares: the string values, without those
// the file computes (#{…}), which differ from one FusionAuth to the next.
func Variables(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kickstart: %w", err)
	}
	defer f.Close()
	var ks struct {
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&ks); err != nil {
		return nil, fmt.Errorf("kickstart %s: %w", path, err)
	}
	vars := map[string]string{}
	for k, v := range ks.Variables {
		if s, ok := v.(string); ok && !strings.Contains(s, "#{") {
			vars[k] = s
		}
	}
	return vars, nil
}

// RepoVariables returns the fixed variables of the repository's kickstart file
// (Variables of Path).
func RepoVariables() (map[string]string, error) {
	path, err := Path()
	if err != nil {
		return nil, err
	}
	return Variables(path)
}
