package fatest

import (
	"encoding/json"
	"testing"
)

// TestPointerArrays pins RFC 6902's array rules of add (insert before the index, "-"
// appends, up to the length), replace (an existing index only) and remove.
func TestPointerArrays(t *testing.T) {
	doc := func() any { return map[string]any{"a": []any{"x", "y"}} }
	tests := []struct {
		name string
		do   func(root any) (any, error)
		want string // the document after, or "error"
	}{
		{"add inserts", func(r any) (any, error) { return pointerAdd(r, "/a/1", "n") }, `{"a":["x","n","y"]}`},
		{"add at the length appends", func(r any) (any, error) { return pointerAdd(r, "/a/2", "n") }, `{"a":["x","y","n"]}`},
		{"add - appends", func(r any) (any, error) { return pointerAdd(r, "/a/-", "n") }, `{"a":["x","y","n"]}`},
		{"add past the length", func(r any) (any, error) { return pointerAdd(r, "/a/3", "n") }, "error"},
		{"add a negative index", func(r any) (any, error) { return pointerAdd(r, "/a/-1", "n") }, "error"},
		{"add to an object", func(r any) (any, error) { return pointerAdd(r, "/b", "n") }, `{"a":["x","y"],"b":"n"}`},
		{"set replaces", func(r any) (any, error) { return pointerSet(r, "/a/1", "n") }, `{"a":["x","n"]}`},
		{"set at the length", func(r any) (any, error) { return pointerSet(r, "/a/2", "n") }, "error"},
		{"set -", func(r any) (any, error) { return pointerSet(r, "/a/-", "n") }, "error"},
		{"set the root", func(r any) (any, error) { return pointerSet(r, "", "n") }, `"n"`},
		{"remove", func(r any) (any, error) { root, _, err := pointerRemove(r, "/a/0"); return root, err }, `{"a":["y"]}`},
		{"remove at the length", func(r any) (any, error) { root, _, err := pointerRemove(r, "/a/2"); return root, err }, "error"},
		{"into a string", func(r any) (any, error) { return pointerAdd(r, "/a/0/z", "n") }, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := tt.do(doc())
			got := "error"
			if err == nil {
				b, _ := json.Marshal(root)
				got = string(b)
			}
			if got != tt.want {
				t.Errorf("got %s (err %v), want %s", got, err, tt.want)
			}
		})
	}
}
