package esquery

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestParseDateMath(t *testing.T) {
	ms := func(s string) int64 {
		t.Helper()
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("time.Parse(%q): %v", s, err)
		}
		return tm.UnixMilli()
	}
	// testNow is 2025-06-15T12:00:00Z, a Sunday.
	tests := []struct {
		expr    string
		roundUp bool
		want    int64
	}{
		{"now", false, ms("2025-06-15T12:00:00Z")},
		{"now-30d", false, ms("2025-05-16T12:00:00Z")},
		{"now-1h", false, ms("2025-06-15T11:00:00Z")},
		{"now+90m", false, ms("2025-06-15T13:30:00Z")},
		{"now-1M", false, ms("2025-05-15T12:00:00Z")},
		{"now-1y+2w", false, ms("2024-06-29T12:00:00Z")},
		{"now-2H-30s", false, ms("2025-06-15T09:59:30Z")},
		{"now/d", false, ms("2025-06-15T00:00:00Z")},
		{"now/d", true, ms("2025-06-15T23:59:59.999Z")},
		{"now-1d/d", false, ms("2025-06-14T00:00:00Z")},
		{"now/M", false, ms("2025-06-01T00:00:00Z")},
		{"now/y", true, ms("2025-12-31T23:59:59.999Z")},
		{"now/w", false, ms("2025-06-09T00:00:00Z")},
		{"now/h", false, ms("2025-06-15T12:00:00Z")},
		{"2024-01-31||+1M", false, ms("2024-03-02T00:00:00Z")},
		{"2024-02-10||/M", true, ms("2024-02-29T23:59:59.999Z")},
		{"2024-01-02", false, ms("2024-01-02T00:00:00Z")},
		{"2024-01-02T03:04:05.678+02:00", false, ms("2024-01-02T01:04:05.678Z")},
		{"2024-01-02T03:04:05-0130", false, ms("2024-01-02T04:34:05Z")},
		{"2024-01", false, ms("2024-01-01T00:00:00Z")},
		{"1700000000000", false, 1700000000000},
		{"1700000000000||+1s", false, 1700000001000},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := parseDateMath(tt.expr, testNow, tt.roundUp)
			if err != nil {
				t.Fatalf("parseDateMath(%q) error = %v", tt.expr, err)
			}
			if got != tt.want {
				t.Errorf("parseDateMath(%q, roundUp=%v) = %v, want %v", tt.expr, tt.roundUp,
					time.UnixMilli(got).UTC(), time.UnixMilli(tt.want).UTC())
			}
		})
	}
	for _, bad := range []string{"", "yesterday", "now-", "now-3q", "now/", "now*2", "2024-13-01", "2024-02-30", "2024-01-02T25:00", "x||+1d"} {
		t.Run("bad "+bad, func(t *testing.T) {
			if got, err := parseDateMath(bad, testNow, false); err == nil {
				t.Errorf("parseDateMath(%q) = %v, nil; want an error", bad, got)
			}
		})
	}
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"John Doe", []string{"john", "doe"}},
		{"john.doe@Example.com", []string{"john.doe", "example.com"}},
		{"v-123", []string{"v", "123"}},
		{"it's 3.14, 1,000 foo_bar", []string{"it's", "3.14", "1,000", "foo_bar"}},
		{"Élodie ÇA", []string{"élodie", "ça"}},
		{" -- ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := analyze(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("analyze(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestToFloat pins which values count as numbers: JSON's (float64, json.Number) and Go's
// built-in numeric types of a hand-built document, not strings, named types or nil.
func TestToFloat(t *testing.T) {
	type count int
	tests := []struct {
		v    any
		want float64
		ok   bool
	}{
		{1.5, 1.5, true},
		{json.Number("42"), 42, true},
		{json.Number("x"), 0, false},
		{int8(-3), -3, true},
		{int(7), 7, true},
		{int64(1 << 40), 1 << 40, true},
		{uint8(200), 200, true},
		{uint64(1 << 63), 1 << 63, true},
		{float32(0.5), 0.5, true},
		{"3", 0, false},
		{count(3), 0, false},
		{uintptr(3), 0, false},
		{nil, 0, false},
		{true, 0, false},
	}
	for _, tt := range tests {
		got, ok := toFloat(tt.v)
		if got != tt.want || ok != tt.ok {
			t.Errorf("toFloat(%T %v) = %v, %v; want %v, %v", tt.v, tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

// TestParseISODate pins strict_date_optional_time: every optional part, the zone forms,
// and what is refused.
func TestParseISODate(t *testing.T) {
	at := func(y, mo, d, h, mi, s, ns int, zone int) int64 {
		return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC).UnixMilli() - int64(zone)*1000
	}
	tests := []struct {
		in      string
		needDay bool
		want    int64
		ok      bool
	}{
		{"2025", false, at(2025, 1, 1, 0, 0, 0, 0, 0), true},
		{"2025", true, 0, false},
		{"2025-06", false, at(2025, 6, 1, 0, 0, 0, 0, 0), true},
		{"2025-06", true, 0, false},
		{"2025-06-15", true, at(2025, 6, 15, 0, 0, 0, 0, 0), true},
		{"2025T10", false, at(2025, 1, 1, 10, 0, 0, 0, 0), true},
		{"2025-06T10:20", false, at(2025, 6, 1, 10, 20, 0, 0, 0), true},
		{"2025-06-15T12", true, at(2025, 6, 15, 12, 0, 0, 0, 0), true},
		{"2025-06-15T12:30", true, at(2025, 6, 15, 12, 30, 0, 0, 0), true},
		{"2025-06-15T12:30:45", true, at(2025, 6, 15, 12, 30, 45, 0, 0), true},
		{"2025-06-15T12:30:45.123Z", true, at(2025, 6, 15, 12, 30, 45, 123e6, 0), true},
		{"2025-06-15T12:30:45,5+02:00", true, at(2025, 6, 15, 12, 30, 45, 5e8, 7200), true},
		{"2025-06-15T12:30:45+0530", true, at(2025, 6, 15, 12, 30, 45, 0, 5*3600+30*60), true},
		{"2025-06-15T12:30-01", true, at(2025, 6, 15, 12, 30, 0, 0, -3600), true},
		{"2025-06-15T12Z", true, at(2025, 6, 15, 12, 0, 0, 0, 0), true},
		{"2025-06-15T12:30:45.123456789Z", true, at(2025, 6, 15, 12, 30, 45, 123456789, 0), true},
		{"2025-06-15T12:30:45.1234567891Z", true, 0, false},
		{"2025-06-15T12:30:45.Z", true, 0, false},
		{"2025-06-15T12:30:45-19:00", true, 0, false},
		{"2025-06-15T12:30:45+02:60", true, 0, false},
		{"2025-06-15T24:00", true, 0, false},
		{"2025-06-15T12:3", true, 0, false},
		{"2025-06-15T12:30:4", true, 0, false},
		{"2025-06-1", false, 0, false},
		{"2025-6-15", false, 0, false},
		{"2025-02-30", true, 0, false},
		{"2024-02-29", true, at(2024, 2, 29, 0, 0, 0, 0, 0), true},
		{"2025-13-01", true, 0, false},
		{"2025-06-15X", true, 0, false},
		{"2025-06-15T", true, 0, false},
		{"25-06-15", false, 0, false},
	}
	for _, tt := range tests {
		got, ok := parseISODate(tt.in, tt.needDay)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseISODate(%q, %v) = %d, %v; want %d, %v", tt.in, tt.needDay, got, ok, tt.want, tt.ok)
		}
	}
}
