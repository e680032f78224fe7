package llmreq

// MatchModel reports whether model matches the glob pattern, ignoring
// ASCII case: '*' matches any run of bytes, '/' included (model names such
// as "meta-llama/Llama-3.1-8B" contain it), '?' any one byte, and every
// other byte itself. It allocates nothing.
func MatchModel(pattern, model string) bool {
	// Greedy matching with a single backtrack point: on a mismatch, the
	// last '*' takes one more byte. Linear in practice, and never worse
	// than len(pattern)·len(model).
	p, m := 0, 0
	star, next := -1, 0
	for m < len(model) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, next = p, m
			p++
		case p < len(pattern) && (pattern[p] == '?' || lower(pattern[p]) == lower(model[m])):
			p++
			m++
		case star >= 0:
			next++
			p, m = star+1, next
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
