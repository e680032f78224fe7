package usage

import (
	"bytes"
	"encoding/json"

	"github.com/llmgate/caddy-llmgate/internal/intern"
)

// Usage is the tokens one answer spent.
type Usage struct {
	// Input is the prompt's tokens: prompt_tokens, or input_tokens plus
	// Anthropic's cache_creation_input_tokens and cache_read_input_tokens
	// (which its input_tokens leaves out, where OpenAI's counts include
	// cached tokens).
	Input int64
	// CachedInput is the part of Input OpenAI served from its prompt cache
	// (prompt_tokens_details.cached_tokens, or input_tokens_details of the
	// Responses API), priced lower.
	CachedInput int64
	// CacheWrite is the part of Input Anthropic wrote to its prompt cache
	// (cache_creation_input_tokens), priced higher.
	CacheWrite int64
	// CacheRead is the part of Input Anthropic read from its prompt cache
	// (cache_read_input_tokens), priced lower.
	CacheRead int64
	// Output is the tokens generated, reasoning included:
	// completion_tokens or output_tokens.
	Output int64
	// Total is what the answer cost in all: total_tokens when the answer
	// gives more than Input and Output add up to, else their sum.
	Total int64
	// Model is the model the answer says served it (its "model", or that
	// of the response or message an event carries), as the upstream
	// spelt it; "" when it does not say. Unlike the request's model, a
	// caller cannot make it up.
	Model string
}

// FromJSON reads the usage of a whole JSON answer: the top-level "usage"
// object of an OpenAI chat completion, completion, embedding or Responses
// API response, or of an Anthropic message. ok is false when the body is
// not one JSON object, has no usage, or has a count that is not a whole
// number >= 0; the caller then charges its estimate.
func FromJSON(body []byte) (u Usage, ok bool) {
	f, model, ok := scanAnswer(body, nil)
	if !ok || f.found&(1<<fieldInput|1<<fieldOutput|1<<fieldTotal) == 0 {
		return Usage{}, false
	}
	u = f.usage()
	u.Model = modelName(model)
	return u, true
}

// modelName decodes the contents of a JSON string, the model an answer
// names; "" when they are not a valid string.
func modelName(raw []byte) string {
	if !bytes.ContainsRune(raw, '\\') {
		return intern.Bytes(raw)
	}
	var s string
	_ = json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s)
	return s
}

// The counts of a usage object, by index in fields.
const (
	fieldInput = iota
	fieldOutput
	fieldTotal
	fieldCacheWrite
	fieldCacheRead
	fieldCached
	numFields
)

// fieldOf maps the member names of a usage object to the counts they give.
func fieldOf(name []byte) int {
	switch string(name) {
	case "prompt_tokens", "input_tokens":
		return fieldInput
	case "completion_tokens", "output_tokens":
		return fieldOutput
	case "total_tokens":
		return fieldTotal
	case "cache_creation_input_tokens":
		return fieldCacheWrite
	case "cache_read_input_tokens":
		return fieldCacheRead
	}
	return -1
}

// isDetails reports whether a member of a usage object of this name is
// the object of details that says how much of the prompt OpenAI's cache
// served: prompt_tokens_details (chat completions) or
// input_tokens_details (the Responses API).
func isDetails(name []byte) bool {
	return string(name) == "prompt_tokens_details" || string(name) == "input_tokens_details"
}

// fields are the counts read from usage objects.
type fields struct {
	n [numFields]int64
	// found has bit i set when n[i] was read.
	found uint8
	// nested is set when the usage sat in a top-level "message" member,
	// as in Anthropic's message_start, whose output count is not final.
	nested bool
}

// input reports the prompt's tokens, when any part of them was read.
func (f *fields) input() (int64, bool) {
	return f.n[fieldInput] + f.n[fieldCacheWrite] + f.n[fieldCacheRead],
		f.found&(1<<fieldInput|1<<fieldCacheWrite|1<<fieldCacheRead) != 0
}

func (f *fields) has(i int) bool { return f.found&(1<<i) != 0 }

// merge takes the counts other read, replacing those f had.
func (f *fields) merge(other *fields) {
	for i := range other.n {
		if other.has(i) {
			f.n[i] = other.n[i]
		}
	}
	f.found |= other.found
}

// usage is the Usage of counts read. The cached parts of the input never
// add up to more than the input: Anthropic's cache counts are part of
// Input by construction, and OpenAI's cached tokens are cut to what is
// left of it, so an answer that claims more cached tokens than prompt
// tokens cannot make its prompt look cheaper than it was.
func (f *fields) usage() Usage {
	in, _ := f.input()
	u := Usage{
		Input:      in,
		CacheWrite: f.n[fieldCacheWrite],
		CacheRead:  f.n[fieldCacheRead],
		Output:     f.n[fieldOutput],
	}
	u.CachedInput = min(f.n[fieldCached], in-u.CacheWrite-u.CacheRead)
	u.Total = max(u.Input+u.Output, f.n[fieldTotal])
	return u
}

// maxDigits bounds a count so that sums of counts cannot overflow.
const maxDigits = 18

// count parses a token count: digits only, or null for none.
func count(atom []byte) (n int64, isNull, ok bool) {
	if string(atom) == "null" {
		return 0, true, true
	}
	if len(atom) == 0 || len(atom) > maxDigits {
		return 0, false, false
	}
	for _, c := range atom {
		if c < '0' || c > '9' {
			return 0, false, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, false, true
}

// scanAnswer reads the usage objects of one JSON object: its "usage"
// member, and the "usage" member of its "response" or "message" member,
// with the cached_tokens of the usage object's details (see isDetails).
// When text is not nil it adds the decoded bytes of the strings that
// carry generated text (see isTextMember). model is the raw contents of
// the last model member that names the answer's model (see isModel). ok
// is false when b is not one valid JSON object (nesting at most maxDepth
// deep) or a usage count is malformed.
func scanAnswer(b []byte, text *int64) (f fields, model []byte, ok bool) {
	s := scanner{b: b}
	if s.next() != tokOpen {
		return f, nil, false
	}
	// top and second are the names of the members being read at depths
	// 1 and 2; key is the name of the member whose value comes next.
	var top, second, key []byte
	// inUsage is the depth of the usage object being read, inDetails that
	// of its details object; 0 when none.
	inUsage, inDetails := 0, 0
	for s.depth > 0 {
		tok := s.next()
		switch tok {
		case tokKey:
			key = s.text
			switch s.depth {
			case 1:
				top = key
			case 2:
				second = key
			}
			continue
		case tokOpen, tokList:
			if inUsage > 0 && s.depth == inUsage+1 {
				// A count given again as an object or array: the last
				// member of a name is the one that counts, and it is none.
				f.unset(fieldOf(key))
			}
			if isCachedMember(key, s.depth-1, inUsage, inDetails) {
				// Details or a cached count that are not what they
				// should be say nothing of the cache.
				f.unset(fieldCached)
				if tok == tokOpen && s.depth-1 == inUsage {
					inDetails = s.depth
				}
			}
			if tok == tokOpen && inUsage == 0 && isUsage(s.depth, top, second) {
				// The last usage object of a text is the one that counts.
				inUsage = s.depth
				f = fields{nested: s.depth == 3 && string(top) == "message"}
			}
			if s.depth == 2 {
				second = nil
			}
		case tokClose:
			if s.depth < inDetails {
				inDetails = 0
			}
			if s.depth < inUsage {
				inUsage = 0
			}
		case tokString:
			if s.depth == inUsage && fieldOf(key) >= 0 {
				return f, nil, false // a count given as a string
			}
			if isCachedMember(key, s.depth, inUsage, inDetails) {
				f.unset(fieldCached)
			}
			if isModel(s.depth, top, key) {
				model = s.text
			}
			if text != nil && isTextMember(key) {
				*text += decodedLen(s.text)
			}
		case tokAtom:
			if s.depth == inUsage && !f.set(fieldOf(key), s.text) {
				return f, nil, false
			}
			if isCachedMember(key, s.depth, inUsage, inDetails) {
				f.setCached(s.depth == inDetails, s.text)
			}
		default:
			return f, nil, false
		}
		key = nil
	}
	return f, model, s.next() == tokEnd
}

// set reads atom as the count of field i (none when i < 0); false when it
// is not a count.
func (f *fields) set(i int, atom []byte) bool {
	if i < 0 {
		return true
	}
	n, isNull, ok := count(atom)
	switch {
	case ok && isNull:
		f.unset(i) // the last member of a name counts
	case ok:
		f.n[i] = n
		f.found |= 1 << i
	}
	return ok
}

// setCached reads atom as the cached tokens when it is the cached_tokens
// member of a details object (isCount), and forgets them otherwise. A
// cached count that is not a whole number >= 0 is no count, but it leaves
// the answer's other counts good: it is taken as no tokens cached, which
// prices the prompt in full.
func (f *fields) setCached(isCount bool, atom []byte) {
	n, isNull, ok := count(atom)
	if !isCount || !ok || isNull {
		f.unset(fieldCached)
		return
	}
	f.n[fieldCached] = n
	f.found |= 1 << fieldCached
}

// isCachedMember reports whether a member named key of the object at
// depth says what OpenAI's cache served: the details of the usage object
// being read (at depth inUsage), or the cached_tokens of those details
// (at depth inDetails). Members at any other depth are passed over.
func isCachedMember(key []byte, depth, inUsage, inDetails int) bool {
	return inUsage > 0 && depth == inUsage && isDetails(key) ||
		inDetails > 0 && depth == inDetails && string(key) == "cached_tokens"
}

// unset forgets field i (none when i < 0).
func (f *fields) unset(i int) {
	if i >= 0 {
		f.n[i] = 0
		f.found &^= 1 << i
	}
}

// isUsage reports whether an object opened at depth, inside the members
// named top and second, is a usage object that counts: the answer's own
// ("usage"), or that of the response or message an event carries.
func isUsage(depth int, top, second []byte) bool {
	switch depth {
	case 2:
		return string(top) == "usage"
	case 3:
		return string(second) == "usage" && (string(top) == "response" || string(top) == "message")
	}
	return false
}

// isModel reports whether a string member named key at depth, inside the
// member named top, names the answer's model: the answer's own "model"
// (OpenAI's answers and chunks), or that of the response or message an
// event carries (the Responses API's, Anthropic's message_start).
func isModel(depth int, top, key []byte) bool {
	if string(key) != "model" {
		return false
	}
	return depth == 1 || depth == 2 && (string(top) == "response" || string(top) == "message")
}
