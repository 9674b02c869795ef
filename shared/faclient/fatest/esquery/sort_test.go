package esquery

import (
	"errors"
	"slices"
	"testing"
)

func TestSort(t *testing.T) {
	tests := []struct {
		name   string
		fields []SortField
		want   []string
	}{
		{"no fields sorts by id", nil, ids("a1", "a2", "u1", "u2")},
		{"email asc missing last", []SortField{{Name: "email"}}, ids("u2", "u1", "a1", "a2")},
		{"email desc missing last", []SortField{{Name: "email", Order: "desc"}}, ids("u1", "u2", "a1", "a2")},
		{"email asc missing first", []SortField{{Name: "email", Order: "asc", Missing: "_first"}}, ids("a1", "a2", "u2", "u1")},
		{"email desc missing first", []SortField{{Name: "email", Order: "desc", Missing: "_first"}}, ids("a1", "a2", "u1", "u2")},
		{"insertInstant asc", []SortField{{Name: "insertInstant"}}, ids("u1", "u2", "a1", "a2")},
		{"insertInstant desc", []SortField{{Name: "insertInstant", Order: "desc"}}, ids("a2", "a1", "u2", "u1")},
		{"lastLoginInstant null is missing", []SortField{{Name: "lastLoginInstant", Missing: "_first"}}, ids("a1", "a2", "u2", "u1")},
		{"birthDate string dates", []SortField{{Name: "birthDate", Order: "desc"}}, ids("u1", "u2", "a1", "a2")},
		{"username case-insensitive", []SortField{{Name: "username"}}, ids("u2", "u1", "a1", "a2")},
		{"login", []SortField{{Name: "login", Order: "desc"}}, ids("u1", "u2", "a1", "a2")},
		// fullName is analyzed text: ascending uses the smallest token ("doe" < "jane").
		{"fullName by token", []SortField{{Name: "fullName"}}, ids("u1", "u2", "a1", "a2")},
		{"tenantId ties broken by id", []SortField{{Name: "tenantId", Order: "desc"}}, ids("u2", "a1", "a2", "u1")},
		{"multi-valued desc uses max", []SortField{{Name: "registrations.applicationId", Order: "desc"}}, ids("u1", "a1", "a2", "u2")},
		{"multi-valued asc uses min", []SortField{{Name: "registrations.insertInstant"}}, ids("u1", "a1", "a2", "u2")},
		{"second field", []SortField{{Name: "tenantId"}, {Name: "insertInstant", Order: "desc"}}, ids("a2", "a1", "u1", "u2")},
		// data.* fields sort as Elasticsearch's dynamic mapping types them (not in FusionAuth's list).
		{"data number desc", []SortField{{Name: "data.count", Order: "desc"}}, ids("u1", "a1", "a2", "u2")},
		{"data boolean asc is false first", []SortField{{Name: "data.anonymousUser"}}, ids("u1", "a1", "a2", "u2")},
		{"data boolean desc", []SortField{{Name: "data.anonymousUser", Order: "desc"}}, ids("a1", "a2", "u1", "u2")},
		{"data date", []SortField{{Name: "data.signup", Missing: "_first"}}, ids("a1", "a2", "u2", "u1")},
		{"data keyword sub-field", []SortField{{Name: "data.visitorId.keyword", Order: "desc"}}, ids("a1", "a2", "u1", "u2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := testDocs(t)
			slices.Reverse(docs) // start from a different order than the expected one
			if err := Sort(docs, tt.fields); err != nil {
				t.Fatalf("Sort error = %v, want nil", err)
			}
			if got := idsOf(docs); !slices.Equal(got, tt.want) {
				t.Errorf("order = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSortStable(t *testing.T) {
	// Same id (so every key ties): the input order must be kept.
	docs := []map[string]any{
		{"id": "x", "n": 1}, {"id": "x", "n": 2}, {"id": "x", "n": 3},
	}
	if err := Sort(docs, []SortField{{Name: "email"}}); err != nil {
		t.Fatalf("Sort error = %v", err)
	}
	for i, d := range docs {
		if got, want := d["n"], i+1; got != want {
			t.Errorf("docs[%d].n = %v, want %v", i, got, want)
		}
	}
}

func TestSortErrors(t *testing.T) {
	tests := []struct {
		name   string
		fields []SortField
	}{
		{"unsortable field", []SortField{{Name: "lastUpdateInstant"}}},
		{"field outside data and the list", []SortField{{Name: "passwordLastUpdateInstant"}}},
		{"registrations data", []SortField{{Name: "registrations.data.x"}}},
		{"empty name", []SortField{{Name: ""}}},
		{"bad order", []SortField{{Name: "email", Order: "up"}}},
		{"order case", []SortField{{Name: "email", Order: "DESC"}}},
		{"bad missing", []SortField{{Name: "email", Missing: "_middle"}}},
		{"second field bad", []SortField{{Name: "email"}, {Name: "nope"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := testDocs(t)
			slices.Reverse(docs)
			before := idsOf(docs)
			err := Sort(docs, tt.fields)
			var ue *UnsupportedError
			if !errors.As(err, &ue) {
				t.Fatalf("Sort error = %v, want *UnsupportedError", err)
			}
			if got := idsOf(docs); !slices.Equal(got, before) {
				t.Errorf("docs reordered to %v on error, want %v", got, before)
			}
		})
	}
}

// TestSortText: Elasticsearch cannot sort on a text field (a data.* string): an error, not
// an *UnsupportedError, and docs keep their order.
func TestSortText(t *testing.T) {
	docs := testDocs(t)
	before := idsOf(docs)
	err := Sort(docs, []SortField{{Name: "data.nickname"}})
	var ue *UnsupportedError
	if err == nil || errors.As(err, &ue) {
		t.Fatalf("Sort error = %v, want a plain error", err)
	}
	if got := idsOf(docs); !slices.Equal(got, before) {
		t.Errorf("docs reordered to %v on error, want %v", got, before)
	}
}
