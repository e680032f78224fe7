package redact

import "bytes"

// scanner finds the built-in secrets of src, left to right, in one pass.
type scanner struct {
	src []byte
	pos int

	// A quoted header-value array being walked, as in Caddy's access log
	// `"X-Api-Key":["a","b"]`: pos is the start of the next value.
	inArray bool
	authz   bool
	quote   quoteMark

	// Where a secret just returned ended as a name with a value after it
	// ("Bearer X-Api-Key: v"): the value is looked at next.
	valueOf    int
	hasValueOf bool

	// Where strings are on JSON lines, to tell an opening quote from the
	// closing quote of the string a name stands in.
	js jsonState

	// The last run measured by keyRunEnd, and where the last "T3BlbkFJ" in
	// it starts (-1: none). A run ends at the same place whichever of its
	// bytes it is measured from, so inputs such as "xsk-xsk-xsk-…" cost
	// linear time.
	runFrom, runTo, runAnchor int
}

func newScanner(src []byte) scanner {
	return scanner{src: src, runFrom: 1} // runFrom > runTo: nothing measured yet
}

// next returns the next secret, or false when there is none left.
func (sc *scanner) next() (span, bool) {
	if sc.hasValueOf {
		sc.hasValueOf = false
		if sp, ok := sc.header(sc.valueOf, false, false); ok {
			if !sc.inArray {
				sc.pos = sp.end
			}
			return sp, true
		}
	}
	if sc.inArray {
		if sp, ok := sc.arrayValues(); ok {
			return sp, true
		}
	}
	src := sc.src
	for i := nextAnchor(src, sc.pos); i < len(src); i = nextAnchor(src, i+1) {
		var sp span
		var ok bool
		switch anchors[src[i]] {
		case anchorK:
			sp, ok = sc.atK(i)
		case anchorZ:
			sp, ok = sc.atZ(i)
		default:
			sp, ok = sc.atB(i)
		}
		if ok {
			if !sc.inArray {
				sc.pos = sp.end
			}
			return sp, true
		}
	}
	sc.pos = len(src)
	return span{}, false
}

// atK tries the rules anchored on a k: "sk-" and "gsk_" keys, the names
// api-key, api_key, apikey, subscription-key and key, and the names
// x-auth-token, access_token and the like, and token.
func (sc *scanner) atK(i int) (span, bool) {
	src := sc.src
	if i > 0 && src[i-1] == 's' && i+1 < len(src) {
		switch {
		case src[i+1] == '-':
			return sc.openAIKey(i - 1)
		case src[i+1] == '_' && i > 1 && src[i-2] == 'g':
			return sc.groqKey(i - 2)
		}
	}
	switch {
	case hasFold(src, i, "key"):
		switch {
		case hasNamePrefix(src, i, "api") || hasFold(src, i-3, "api") || hasNamePrefix(src, i, "subscription"):
			return sc.header(i+3, false, false)
		case i > 0 && src[i-1] == '_' || boundaryBefore(src, i, classWord):
			return sc.header(i+3, false, true)
		}
	case hasFold(src, i-2, "token"):
		i -= 2
		for _, p := range tokenNamePrefixes {
			if hasNamePrefix(src, i, p) {
				return sc.header(i+5, false, false)
			}
		}
		if i > 0 && src[i-1] == '_' || boundaryBefore(src, i, classWord) {
			return sc.header(i+5, false, true)
		}
	}
	return span{}, false
}

// tokenNamePrefixes make "token" a credential name whatever its value's
// form (x-auth-token, access_token, …); alone, "token" counts only in
// "token=", as a JSON field "token" is as often a word of a tokenizer.
var tokenNamePrefixes = []string{"auth", "access", "refresh", "id", "api", "private", "session"}

// hasNamePrefix reports whether the name part at i is preceded by word and
// a '-' or '_' ("api-" before "key").
func hasNamePrefix(src []byte, i int, word string) bool {
	return i > len(word) && (src[i-1] == '-' || src[i-1] == '_') && hasFold(src, i-1-len(word), word)
}

// atZ tries the rules anchored on a z: "AIza" keys and the authorization name.
func (sc *scanner) atZ(i int) (span, bool) {
	src := sc.src
	if i >= 2 && src[i-2] == 'A' && src[i-1] == 'I' && i+1 < len(src) && src[i+1] == 'a' {
		return sc.googleKey(i - 2)
	}
	if hasFold(src, i-7, "authorization") {
		return sc.header(i+6, true, false)
	}
	return span{}, false
}

// atB tries "Bearer <token>": the word in any case, blanks, and a token68
// that looks like a credential rather than a word.
func (sc *scanner) atB(i int) (span, bool) {
	src := sc.src
	if !hasFold(src, i, "bearer") {
		return span{}, false
	}
	start := skipBlanks(src, i+6)
	if start == i+6 {
		return span{}, false
	}
	end := runEnd(src, start, classToken68)
	for end < len(src) && src[end] == '=' {
		end++
	}
	if !credentialLike(src[start:end]) || redacted(src, start, end) {
		return span{}, false
	}
	end = sc.nameEnd(start, end)
	return span{start: start, end: end, keep: keepLen(src[start:end])}, true
}

// keyRunEnd returns the end of the run of key bytes that starts at i.
func (sc *scanner) keyRunEnd(i int) int {
	if i < sc.runFrom || i > sc.runTo {
		sc.runFrom, sc.runTo = i, runEnd(sc.src, i, classKey)
		sc.runAnchor = bytes.LastIndex(sc.src[i:sc.runTo], []byte(openAIAnchor))
		if sc.runAnchor >= 0 {
			sc.runAnchor += i
		}
	}
	return sc.runTo
}

// openAIAnchor is "OpenAI" in base64; OpenAI's keys carry it.
const openAIAnchor = "T3BlbkFJ"

// openAIKey reads "sk-" and 20 or more key bytes at s. The key must not be
// glued to other key bytes ("task-…", "risk-…", base64url "…-sk-…") unless
// its shape is unmistakable: a specific prefix such as sk-proj-, or
// openAIAnchor.
func (sc *scanner) openAIKey(s int) (span, bool) {
	end := sc.keyRunEnd(s + 3)
	if end-(s+3) < 20 {
		return span{}, false
	}
	key := sc.src[s:end]
	if !boundaryBefore(sc.src, s, classKey) && prefixLen(key) <= len("sk-") && sc.runAnchor < s+3 {
		return span{}, false
	}
	return span{start: s, end: end, keep: keepLen(key)}, true
}

// groqKey reads "gsk_" and 40 or more key bytes at s, not glued to other
// key bytes.
func (sc *scanner) groqKey(s int) (span, bool) {
	end := sc.keyRunEnd(s + 4)
	if end-(s+4) < 40 || !boundaryBefore(sc.src, s, classKey) {
		return span{}, false
	}
	return span{start: s, end: end, keep: 4}, true
}

// googleKey reads "AIza" and 35 or more key bytes at s, not glued to other
// key bytes.
func (sc *scanner) googleKey(s int) (span, bool) {
	end := sc.keyRunEnd(s + 4)
	if end-(s+4) < 35 || !boundaryBefore(sc.src, s, classKey) {
		return span{}, false
	}
	return span{start: s, end: end, keep: 4}, true
}

// header reads the value after a credential name that ends at j, in the
// forms logs give it:
//
//	"X-Api-Key":["v1","v2"]      Caddy's JSON access log
//	\"x-api-key\":\"v\"          the same inside an escaped JSON string
//	x-api-key: v                 text, HTTP dumps
//	map[X-Api-Key:[v]]           Go's %v of an http.Header
//	?key=v&  api_key=v           query strings, forms, environment
//
// A quoted value is replaced whatever it holds; an unquoted one only when it
// looks like a credential, as prose says "authorization: required" too.
// authz keeps an auth scheme ("Bearer ") visible; bare (the name "key")
// accepts only "key=".
func (sc *scanner) header(j int, authz, bare bool) (span, bool) {
	src := sc.src
	k, nameQuote := skipQuote(src, j)
	k = skipBlanks(src, k)
	if k >= len(src) || src[k] != ':' && src[k] != '=' {
		return span{}, false
	}
	if bare && (src[k] != '=' || k != j) {
		return span{}, false
	}
	k = skipBlanks(src, k+1)
	if bytes.HasPrefix(src[k:], []byte(marker)) { // "key=[REDACTED:…]" is no array
		return span{}, false
	}
	array := k < len(src) && src[k] == '['
	if array {
		k = skipBlanks(src, k+1)
	}
	v, q := skipQuote(src, k)
	switch {
	case q.char == 0 && nameQuote.char != 0:
		// A quoted name with an unquoted value: a JSON number, literal or
		// object, not a string; replacing it would break the document.
		return span{}, false
	case q.char == 0:
		return sc.unquoted(v, authz)
	case !sc.opens(v-1, q, nameQuote):
		return span{}, false
	case array:
		sc.inArray, sc.pos, sc.quote, sc.authz = true, v, q, authz
		return sc.arrayValues()
	}
	return sc.quoted(v, quotedEnd(src, v), authz, bare)
}

// opens reports whether the value quote q, ending at index i and following a
// name closed by nameQuote, opens a string rather than closing the string
// the name stands in (`"… api_key: "}`), which would put the value outside
// any string. A single quote and an escaped double quote (after an odd run
// of backslashes) change no JSON structure; a double quote after a name
// closed by the same quote does open a string, as in `"X-Api-Key":"v"`.
// Otherwise, on a JSON line, it opens one only when outside any string.
func (sc *scanner) opens(i int, q, nameQuote quoteMark) bool {
	if q.char == '\'' || q.level%2 == 1 || q == nameQuote {
		return true
	}
	json, inString := sc.js.at(sc.src, i-q.level)
	return !json || !inString
}

// quotedEnd returns where a quoted value starting at i ends: at a quote, a
// backslash (an escape, possibly of the closing quote) or a control byte.
func quotedEnd(src []byte, i int) int {
	for i < len(src) {
		c := src[i]
		if c == '"' || c == '\'' || c == '\\' || c < ' ' || c == 0x7f {
			break
		}
		i++
	}
	return i
}

// quoted returns the secret of the quoted value src[v:end].
func (sc *scanner) quoted(v, end int, authz, strict bool) (span, bool) {
	src := sc.src
	if authz {
		v += schemeLen(src[v:end])
	}
	if v == end || strict && !credentialLike(src[v:end]) || redacted(src, v, end) {
		return span{}, false
	}
	return span{start: v, end: end, keep: keepLen(src[v:end])}, true
}

// schemeLen returns the length of the auth scheme and blanks that start an
// Authorization value ("Bearer ", "Basic "), or 0 when it has none. A scheme
// is letters only, so no key is mistaken for one.
func schemeLen(v []byte) int {
	n := runEnd(v, 0, classLetter)
	if n == 0 || n > 20 {
		return 0
	}
	m := skipBlanks(v, n)
	if m == n || m == len(v) {
		return 0
	}
	return m
}

// unquoted returns the secret of the unquoted value starting at v: one token,
// after an auth scheme when authz.
func (sc *scanner) unquoted(v int, authz bool) (span, bool) {
	src := sc.src
	end := stopEnd(src, v, classStop)
	if authz {
		if n := runEnd(src, v, classLetter); n > v && n == end && n-v <= 20 {
			if t := skipBlanks(src, end); t > end {
				v, end = t, stopEnd(src, t, classStop)
			}
		}
	}
	// A known key shape ends with its run of key bytes, so that "key=AIza…:"
	// gives the key the same fingerprint as everywhere else.
	if n := prefixLen(src[v:end]); n > 0 {
		end = runEnd(src[:end], v+n, classKey)
	}
	if !credentialLike(src[v:end]) || redacted(src, v, end) {
		return span{}, false
	}
	end = sc.nameEnd(v, end)
	return span{start: v, end: end, keep: keepLen(src[v:end])}, true
}

// nameEnd looks at the token src[start:end], a secret, for a name: when
// it is followed by, or ends with, ':' or '=' and then a value
// ("Bearer X-Api-Key: v", "key= X-Auth-Token: v"), the value may be a
// secret too, and would be passed over with the token: next looks at it
// before going on, and nameEnd returns where the name ends. Else (an '='
// that pads a token, or nothing after it) it returns end.
func (sc *scanner) nameEnd(start, end int) int {
	src := sc.src
	name := end
	for name > start+1 && (src[name-1] == ':' || src[name-1] == '=') {
		name--
	}
	k := skipBlanks(src, name)
	switch {
	case k == len(src):
		return end
	case src[k] == ':':
		k = skipBlanks(src, k+1)
	case src[k] == '=':
		k++ // "name=value"; "token= x" is padding then other text
	default:
		return end
	}
	if k == len(src) || src[k] == '=' || is(src[k], classStop) && src[k] != '"' && src[k] != '\'' && src[k] != '[' && src[k] != '\\' {
		return end
	}
	sc.valueOf, sc.hasValueOf = name, true
	return name
}

// arrayValues walks the quoted values of a header-value array from sc.pos
// and returns the next secret among them.
func (sc *scanner) arrayValues() (span, bool) {
	src := sc.src
	for sc.inArray {
		v := sc.pos
		end := quotedEnd(src, v)
		sp, ok := sc.quoted(v, end, sc.authz, false)
		sc.inArray, sc.pos = false, end
		// Continue at `","` (or `\",\"`) with the next value.
		if k, q := skipQuote(src, end); q == sc.quote {
			if k = skipBlanks(src, k); k < len(src) && src[k] == ',' {
				if n, q := skipQuote(src, skipBlanks(src, k+1)); q == sc.quote {
					sc.inArray, sc.pos = true, n
				}
			}
		}
		if ok {
			return sp, true
		}
	}
	return span{}, false
}
