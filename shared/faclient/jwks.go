package faclient

import "encoding/json"

// jsonRaw keeps a response body as it came.
type jsonRaw []byte

func (r *jsonRaw) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

func (j *JWKSResponse) decode() error {
	var keys struct {
		Keys []JSONWebKey `json:"keys"`
	}
	if err := json.Unmarshal(j.Raw, &keys); err != nil {
		return err
	}
	j.Keys = keys.Keys
	return nil
}
