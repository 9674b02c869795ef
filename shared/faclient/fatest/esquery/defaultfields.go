package esquery

import "encoding/json"

// defaultFieldNames are the user fields a query-string term without a field is matched
// against, besides every value under data. Elasticsearch's query_string searches every
// indexed field when no default_field is set; which fields FusionAuth indexes, and whether
// it sets a default field, is not documented beyond "across all fields", so these are the
// string fields of FusionAuth's user index as this package maps them (see the package
// documentation). registrations and memberships (nested) are not searched by a bare term.
var defaultFieldNames = []string{
	"id", "tenantId", "email", "username", "parentEmail",
	"firstName", "middleName", "lastName", "fullName",
	"mobilePhone", "phoneNumber", "preferredLanguages", "timezone", "breachedPasswordStatus",
}

// defaultFieldsNode matches when any default field, or any value under data, accepts the
// term.
type defaultFieldsNode struct {
	fields []node      // one per default field name
	data   leafMatcher // for the values under data, typed dynamically
}

func (n *defaultFieldsNode) match(obj map[string]any) bool {
	for _, f := range n.fields {
		if f.match(obj) {
			return true
		}
	}
	return anyValue(obj["data"], n.data)
}

// defaultFields builds the node of a bare query-string term or phrase.
func (p *qsParser) defaultFields(value string, quoted bool) (node, error) {
	n := &defaultFieldsNode{}
	for _, name := range defaultFieldNames {
		f, err := resolveField(name, "")
		if err != nil {
			return nil, err
		}
		lm, err := p.valueLeaf(f.kind, name, value, quoted)
		if err != nil {
			return nil, err
		}
		n.fields = append(n.fields, leafNode(f, lm))
	}
	lm, err := p.valueLeaf(kindDynamic, "data", value, quoted)
	if err != nil {
		return nil, err
	}
	n.data = lm
	return n, nil
}

// anyValue reports whether lm accepts any scalar inside v, at any depth.
func anyValue(v any, lm leafMatcher) bool {
	switch t := v.(type) {
	case nil:
		return false
	case map[string]any:
		for _, e := range t {
			if anyValue(e, lm) {
				return true
			}
		}
		return false
	case []any:
		for _, e := range t {
			if anyValue(e, lm) {
				return true
			}
		}
		return false
	case string, bool, float64, int64, json.Number:
		return lm.leaf(v)
	}
	if isSlice, matched := eachElem(v, func(e any) bool { return anyValue(e, lm) }); isSlice {
		return matched
	}
	return lm.leaf(v)
}
