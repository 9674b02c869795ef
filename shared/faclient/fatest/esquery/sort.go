package esquery

import (
	"fmt"
	"sort"
	"strings"
)

// SortField is one FusionAuth sortFields entry.
type SortField struct {
	// Name is the field to sort on; see Sort for the sortable fields.
	Name string
	// Order is "asc" (the default when empty) or "desc".
	Order string
	// Missing places documents without a value: "_first" or "_last" (the default when empty),
	// independently of Order.
	Missing string
}

type sortKind uint8

const (
	sortNumber  sortKind = iota // dates and numbers, as epoch ms
	sortKeyword                 // exact string
	sortLower                   // lower-cased string (exact_lower fields)
	sortText                    // analyzed text: the smallest (asc) or largest (desc) token
)

// sortableFields are the fields FusionAuth accepts in sortFields, with how Elasticsearch orders them.
var sortableFields = map[string]sortKind{
	"birthDate":                      sortNumber,
	"email":                          sortLower,
	"fullName":                       sortText,
	"id":                             sortKeyword,
	"insertInstant":                  sortNumber,
	"lastLoginInstant":               sortNumber,
	"login":                          sortLower,
	"tenantId":                       sortKeyword,
	"username":                       sortLower,
	"registrations.applicationId":    sortKeyword,
	"registrations.id":               sortKeyword,
	"registrations.insertInstant":    sortNumber,
	"registrations.lastLoginInstant": sortNumber,
	"registrations.roles":            sortKeyword,
}

type sortSpec struct {
	kind    sortKind
	path    fieldPath
	desc    bool
	missing bool // missing first
}

type sortValue struct {
	ok  bool
	num float64
	str string
}

// collector gathers the sort value of one document: the minimum for ascending order and the
// maximum for descending order, as Elasticsearch does for multi-valued fields.
type collector struct {
	spec *sortSpec
	val  sortValue
}

func (c *collector) leaf(v any) bool {
	switch c.spec.kind {
	case sortNumber:
		if ms, ok := dateValue(v); ok && v != nil {
			c.offerNum(float64(ms))
		}
	case sortKeyword, sortLower:
		s, ok := v.(string)
		if !ok {
			return false
		}
		if c.spec.kind == sortLower {
			s = strings.ToLower(s)
		}
		c.offerStr(s)
	case sortText:
		s, ok := v.(string)
		if !ok {
			return false
		}
		for _, tok := range analyze(s) {
			c.offerStr(tok)
		}
	}
	return false // keep visiting every value
}

func (c *collector) offerNum(f float64) {
	if !c.val.ok || (c.spec.desc && f > c.val.num) || (!c.spec.desc && f < c.val.num) {
		c.val = sortValue{ok: true, num: f}
	}
}

func (c *collector) offerStr(s string) {
	if !c.val.ok || (c.spec.desc && s > c.val.str) || (!c.spec.desc && s < c.val.str) {
		c.val = sortValue{ok: true, str: s}
	}
}

func (s *sortSpec) compare(a, b sortValue) int {
	switch {
	case !a.ok && !b.ok:
		return 0
	case !a.ok || !b.ok:
		if !a.ok == s.missing {
			return -1
		}
		return 1
	}
	var c int
	if s.kind == sortNumber {
		switch {
		case a.num < b.num:
			c = -1
		case a.num > b.num:
			c = 1
		}
	} else {
		c = strings.Compare(a.str, b.str)
	}
	if s.desc {
		c = -c
	}
	return c
}

// Sort orders docs in place by fields, then by id ascending; it is stable. The sortable fields are
// those FusionAuth accepts: birthDate, email, fullName, id, insertInstant, lastLoginInstant, login,
// tenantId, username, registrations.applicationId, registrations.id, registrations.insertInstant,
// registrations.lastLoginInstant and registrations.roles. Any other field, order or missing value
// is an *UnsupportedError and leaves docs unchanged.
func Sort(docs []map[string]any, fields []SortField) error {
	specs := make([]sortSpec, len(fields), len(fields)+1)
	for i, sf := range fields {
		kind, ok := sortableFields[sf.Name]
		if !ok {
			return fmt.Errorf("sort field %d: %w", i, unsupported("sort field %q", sf.Name))
		}
		f, err := resolveField(sf.Name)
		if err != nil {
			return fmt.Errorf("sort field %d: %w", i, err)
		}
		specs[i] = sortSpec{kind: kind, path: f.path}
		// Two options of two values each; empty is the first.
		for _, o := range []struct {
			name, value, off, on string
			set                  *bool
		}{
			{"order", sf.Order, "asc", "desc", &specs[i].desc},
			{"missing", sf.Missing, "_last", "_first", &specs[i].missing},
		} {
			switch o.value {
			case "", o.off:
			case o.on:
				*o.set = true
			default:
				return fmt.Errorf("sort field %d: %w", i, unsupported("sort %s %q", o.name, o.value))
			}
		}
	}
	idField, _ := resolveField("id")
	specs = append(specs, sortSpec{kind: sortKeyword, path: idField.path})

	type row struct {
		doc  map[string]any
		keys []sortValue
	}
	rows := make([]row, len(docs))
	keys := make([]sortValue, len(docs)*len(specs))
	for i, doc := range docs {
		rows[i] = row{doc: doc, keys: keys[i*len(specs) : (i+1)*len(specs)]}
		for j := range specs {
			c := collector{spec: &specs[j]}
			if doc != nil {
				specs[j].path.any(doc, &c)
			}
			rows[i].keys[j] = c.val
		}
	}
	sort.SliceStable(rows, func(a, b int) bool {
		for j := range specs {
			if c := specs[j].compare(rows[a].keys[j], rows[b].keys[j]); c != 0 {
				return c < 0
			}
		}
		return false
	})
	for i := range rows {
		docs[i] = rows[i].doc
	}
	return nil
}
