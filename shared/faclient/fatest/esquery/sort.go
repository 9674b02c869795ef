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
	sortDynamic                 // a data.* field, typed by its values: numbers, booleans (0/1), dates
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

// sortKindOf returns how field name sorts: a field FusionAuth lists as sortable, or a data.*
// field (numbers, booleans and dates as Elasticsearch's dynamic mapping types them, strings
// through their .keyword sub-field). FusionAuth's docs list only the former; see Sort.
func sortKindOf(name string) (sortKind, bool) {
	if kind, ok := sortableFields[name]; ok {
		return kind, true
	}
	if !strings.HasPrefix(name, "data.") {
		return 0, false
	}
	if strings.HasSuffix(name, ".keyword") {
		return sortKeyword, true
	}
	return sortDynamic, true
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
	text bool // a sortDynamic field held text
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
	case sortDynamic:
		c.offerDynamic(v)
	}
	return false // keep visiting every value
}

// offerDynamic offers a data.* value: numbers and booleans (as 0 and 1) as they are, strings
// that Elasticsearch's date detection maps as dates as epoch ms; other strings are text,
// which Elasticsearch cannot sort on (text is set).
func (c *collector) offerDynamic(v any) {
	switch t := v.(type) {
	case nil, map[string]any:
	case bool:
		c.offerNum(map[bool]float64{false: 0, true: 1}[t])
	case string:
		if ms, ok := parseISODate(t, true); ok {
			c.offerNum(float64(ms))
		} else {
			c.text = true
		}
	default:
		if f, ok := toFloat(v); ok {
			c.offerNum(f)
		}
	}
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
	if s.kind == sortNumber || s.kind == sortDynamic {
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
// those FusionAuth documents as sortable: birthDate, email, fullName, id, insertInstant,
// lastLoginInstant, login, tenantId, username, registrations.applicationId, registrations.id,
// registrations.insertInstant, registrations.lastLoginInstant and registrations.roles; and data.*
// fields holding numbers, booleans or dates (data.watchCount), or strings through data.x.keyword.
// FusionAuth does not document data.* sorts: they are what Elasticsearch does with the field
// FusionAuth would pass on, which a contract test on a real FusionAuth checks. A data.* field
// holding text is an error (Elasticsearch refuses to sort on text). Any other field, order or
// missing value is an *UnsupportedError. On error docs are unchanged.
func Sort(docs []map[string]any, fields []SortField) error {
	specs := make([]sortSpec, len(fields), len(fields)+1)
	for i, sf := range fields {
		kind, ok := sortKindOf(sf.Name)
		if !ok {
			return fmt.Errorf("sort field %d: %w", i, unsupported("sort field %q", sf.Name))
		}
		f, err := resolveField(sf.Name, "")
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
	idField, _ := resolveField("id", "")
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
			if c.text {
				return fmt.Errorf("sort field %d: %s holds text, which Elasticsearch cannot sort on (sort on %s.keyword)", j, fields[j].Name, fields[j].Name)
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
