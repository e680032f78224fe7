package usage

import (
	"bytes"
	"encoding/json"
	"testing"
)

// referenceUsage reads the usage of a valid JSON body with encoding/json,
// by FromJSON's rules, for bodies without escapes (which encoding/json
// decodes in member names and FromJSON does not).
func referenceUsage(body []byte) (Usage, bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil || top == nil {
		return Usage{}, false
	}
	// The last usage object in the text counts: the top-level one, or the
	// one of "response" or "message", whichever comes later.
	var raw json.RawMessage
	last := -1
	if u, ok := top["usage"]; ok && len(u) > 0 && u[0] == '{' {
		raw, last = u, bytes.LastIndex(body, u)
	}
	for _, name := range []string{"response", "message"} {
		var inner map[string]json.RawMessage
		if json.Unmarshal(top[name], &inner) != nil || inner == nil {
			continue
		}
		if u, ok := inner["usage"]; ok && len(u) > 0 && u[0] == '{' {
			if at := bytes.LastIndex(body, u); at > last {
				raw, last = u, at
			}
		}
	}
	if raw == nil {
		return Usage{}, false
	}
	var counts map[string]json.RawMessage
	if json.Unmarshal(raw, &counts) != nil {
		return Usage{}, false
	}
	var f fields
	for name, v := range counts {
		if isDetails([]byte(name)) {
			f.n[fieldCached], f.found = referenceCached(v), f.found|1<<fieldCached
			continue
		}
		i := fieldOf([]byte(name))
		if i < 0 || v[0] == '{' || v[0] == '[' {
			continue
		}
		n, isNull, ok := count(v)
		if !ok {
			return Usage{}, false
		}
		if !isNull {
			f.n[i], f.found = n, f.found|1<<i
		}
	}
	if f.found&(1<<fieldInput|1<<fieldOutput|1<<fieldTotal) == 0 {
		return Usage{}, false
	}
	return f.usage(), true
}

// referenceCached reads the cached tokens of a details object v, 0 when
// v is not an object or its cached_tokens is not a count.
func referenceCached(v json.RawMessage) int64 {
	var details map[string]json.RawMessage
	if v[0] != '{' || json.Unmarshal(v, &details) != nil {
		return 0
	}
	n, _, ok := count(details["cached_tokens"])
	if !ok {
		return 0
	}
	return n
}

func FuzzFromJSON(f *testing.F) {
	for _, seed := range []string{
		chatAnswer, embeddingAnswer, responsesAnswer, anthropicAnswer, respDoneAll.data, antStart.data, antDelta.data,
		`{"usage":{"prompt_tokens":1}}`, `{"usage":null}`, `{"a":{"usage":{"prompt_tokens":1}}}`,
		`{"usage":{"prompt_tokens":-1}}`, `{"usage":{"x":{"prompt_tokens":2},"total_tokens":3}}`, `[]`, `"usage"`,
		chatCachedAnswer, responsesCachedAnswer, anthropicCachedAnswer, chatCachedUsage.data, antCachedStart.data,
		`{"usage":{"prompt_tokens":1,"prompt_tokens_details":{"cached_tokens":5}}}`,
		`{"usage":{"prompt_tokens":9,"prompt_tokens_details":{"cached_tokens":5},"prompt_tokens_details":null}}`,
		`{"usage":{"input_tokens":1,"cache_read_input_tokens":3,"input_tokens_details":{"cached_tokens":9}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := FromJSON(body)
		checkCacheWithinInput(t, body, got)
		var s Stream
		s.Event("", body) // must not panic either
		checkCacheWithinInput(t, body, func() Usage { u, _ := s.Usage(); return u }())
		if !json.Valid(body) {
			if ok {
				t.Fatalf("usage %+v read from invalid JSON %q", got, body)
			}
			return
		}
		if bytes.IndexByte(body, '\\') >= 0 {
			return
		}
		// Duplicate member names make "the last usage object" ambiguous
		// for a map; keep to bodies where the reference is sure.
		if bytes.Count(body, []byte(`"usage"`)) > 1 {
			return
		}
		// So do the details of both APIs in one usage object, whose last
		// one counts.
		if bytes.Contains(body, []byte(`"prompt_tokens_details"`)) && bytes.Contains(body, []byte(`"input_tokens_details"`)) {
			return
		}
		want, wantOK := referenceUsage(body)
		// The reference reads the counts; TestFromJSON pins the model.
		got.Model = ""
		if got != want || ok != wantOK {
			t.Fatalf("FromJSON(%q) = %+v, %v; encoding/json reads %+v, %v", body, got, ok, want, wantOK)
		}
	})
}

// checkCacheWithinInput fails unless the cached parts of u's input are
// counts within it.
func checkCacheWithinInput(t *testing.T, body []byte, u Usage) {
	t.Helper()
	if u.CachedInput < 0 || u.CacheWrite < 0 || u.CacheRead < 0 || u.CachedInput+u.CacheWrite+u.CacheRead > u.Input ||
		u.Input < 0 || u.Output < 0 || u.Total < u.Input+u.Output {
		t.Fatalf("usage %+v of %q: cached parts beyond the input, or counts out of order", u, body)
	}
}
