package anon

import (
	"bytes"
	"strings"
	"testing"
)

// TestRandomStringRejectsHighBytes feeds the generator chosen bytes: 248..255 (which
// a modulo of 62 would map onto the first eight characters a second time) must be
// skipped, and the bytes at the boundary must map exactly.
func TestRandomStringRejectsHighBytes(t *testing.T) {
	high := []byte{248, 249, 250, 251, 252, 253, 254, 255}
	cases := []struct {
		name string
		src  []byte
		n    int
		want string
	}{
		// n=1 reads one byte at a time: each high byte alone is skipped.
		{"each high byte skipped", append(append([]byte{}, high...), 5), 1, "F"},
		// n=4 reads 6 bytes at a time: a read of only high bytes yields nothing.
		{"boundaries", append(append([]byte{}, high...), 0, 61, 62, 247), 4, "A9A9"},
		{"first and last of each residue", []byte{0, 186, 61, 185, 123, 124}, 4, "AA99"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := randomString(bytes.NewReader(tc.src), tc.n)
			if err != nil || got != tc.want {
				t.Errorf("randomString(%v, %d)=%q, %v; want %q", tc.src, tc.n, got, err, tc.want)
			}
		})
	}
}

func TestRandomStringFailsWhenTheSourceDoes(t *testing.T) {
	if s, err := randomString(bytes.NewReader(bytes.Repeat([]byte{255}, 64)), 4); err == nil {
		t.Errorf("got %q from a source of only rejected bytes that ran dry, want an error", s)
	}
	if _, err := randomString(strings.NewReader("ab"), 4); err == nil {
		t.Error("a short source gave no error")
	}
}
