package anon

import (
	"crypto/rand"
	"fmt"
	"io"
)

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// RandomString returns n characters drawn uniformly from [A-Za-z0-9] with crypto/rand:
// about 5.95 bits each, so 64 of them are unguessable as a username or password.
func RandomString(n int) (string, error) {
	return randomString(rand.Reader, n)
}

// randomString draws n characters from the bytes of src.
func randomString(src io.Reader, n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2)
	for len(out) < n {
		if _, err := io.ReadFull(src, buf); err != nil {
			return "", fmt.Errorf("random string: %w", err)
		}
		for _, b := range buf {
			// 248 = 4*62: rejecting larger bytes keeps every character equally likely.
			if b < 248 && len(out) < n {
				out = append(out, alphabet[b%62])
			}
		}
	}
	return string(out), nil
}
