package kickstart_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/changebank/anonuser/shared/kickstart"
)

func TestPathIsTheRepositorysKickstart(t *testing.T) {
	path, err := kickstart.Path()
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := filepath.Abs("../../kickstart/kickstart.json"); path != want {
		t.Errorf("Path() = %s, want %s", path, want)
	}
	vars, err := kickstart.RepoVariables()
	if err != nil {
		t.Fatal(err)
	}
	if vars["apiKey"] == "" {
		t.Errorf("Variables: no apiKey in %v", vars)
	}
}

func TestVariablesKeepsOnlyFixedStrings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kickstart.json")
	doc := `{"variables": {"id": "3c219e58-ed0e-4b18-ad48-f4f92793ae32", "fresh": "#{UUID()}", "port": 9011}, "requests": []}`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	vars, err := kickstart.Variables(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(vars) != 1 || vars["id"] != "3c219e58-ed0e-4b18-ad48-f4f92793ae32" {
		t.Errorf("Variables = %v, want only id", vars)
	}
	if _, err := kickstart.Variables(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("Variables(missing file): nil error")
	}
}
