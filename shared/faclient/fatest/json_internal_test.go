package fatest

import (
	"math"
	"reflect"
	"testing"
	"time"
)

// TestNormalizeNumbers pins the two number types the server stores: Go's integer types
// become int64 (float64 past int64's range), float32 becomes float64, and a named type
// goes through JSON as any other Go value.
func TestNormalizeNumbers(t *testing.T) {
	type count int
	tests := []struct {
		v, want any
	}{
		{int8(-3), int64(-3)},
		{int(7), int64(7)},
		{int32(1 << 30), int64(1 << 30)},
		{uint16(9), int64(9)},
		{uint64(math.MaxInt64), int64(math.MaxInt64)},
		{uint64(1 << 63), float64(1 << 63)},
		{float32(0.5), float64(0.5)},
		{count(4), int64(4)}, // through JSON
		{time.UnixMilli(1234), int64(1234)},
		{[]any{int16(2), "x"}, []any{int64(2), "x"}},
	}
	for _, tt := range tests {
		if got := normalize(tt.v); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("normalize(%T %v) = %T %v, want %T %v", tt.v, tt.v, got, got, tt.want, tt.want)
		}
	}
}
