package fakeai

import (
	"strings"
	"unicode/utf8"
)

// echoLimit bounds how much of the prompt an answer repeats.
const echoLimit = 200

// filler pads answers up to x-fake-size.
const filler = " The quick brown fox jumps over the lazy dog."

// answer is the call's assistant text, "echo: <prompt> #n", padded to about
// x-fake-size bytes, and its completion token count. The count ignores the
// " #n" marker so that it does not change from call to call.
func (c *call) answer(prompt string) (text string, completionTokens int) {
	suffix := " #" + c.num()
	var b strings.Builder
	b.WriteString("echo: ")
	b.WriteString(truncate(prompt, echoLimit))
	if pad := c.k.size - b.Len() - len(suffix); pad > 0 {
		b.Grow(pad + len(suffix))
		for pad > 0 {
			n := min(pad, len(filler))
			b.WriteString(filler[:n])
			pad -= n
		}
	}
	completionTokens = tokens(b.Len())
	b.WriteString(suffix)
	return b.String(), completionTokens
}

// tokens estimates tokens for n bytes the usual way: ceil(n/4), at least 1.
func tokens(n int) int { return max(1, (n+3)/4) }

// truncate cuts s to at most limit bytes without splitting a UTF-8 rune.
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	for limit > 0 && !utf8.RuneStart(s[limit]) {
		limit--
	}
	return s[:limit]
}

// split cuts s into n pieces of nearly equal rune counts, never splitting a
// rune; pieces are empty when s has fewer than n runes.
func split(s string, n int) []string {
	parts := make([]string, n)
	runes := utf8.RuneCountInString(s)
	start, seen := 0, 0
	for i := range parts {
		want := (i + 1) * runes / n
		end := start
		for seen < want {
			_, size := utf8.DecodeRuneInString(s[end:])
			end += size
			seen++
		}
		parts[i] = s[start:end]
		start = end
	}
	return parts
}
