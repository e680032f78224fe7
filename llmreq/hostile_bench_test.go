package llmreq

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// hostileSize is the size of each hostile body: the default max_body.
const hostileSize = 1 << 20

// repeatTo repeats unit between head and tail until the body is about
// hostileSize bytes; sep goes between repetitions.
func repeatTo(head, unit, sep, tail string) []byte {
	var b strings.Builder
	b.WriteString(head)
	for i := 0; b.Len()+len(unit)+len(tail) < hostileSize; i++ {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(unit)
	}
	b.WriteString(tail)
	return []byte(b.String())
}

// keysTo builds an object of distinct members, named by name(i) and given
// in descending order so that every object must be sorted.
func keysTo(name func(i int) string) []byte {
	n := 0
	for size := 2; size < hostileSize; n++ {
		size += len(name(n)) + 5
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := n - 1; i >= 0; i-- {
		if i < n-1 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + name(i) + `":1`)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// nested repeats a value nested depth deep until the body is full.
func nested(open, close string, depth int) []byte {
	unit := strings.Repeat(open, depth) + "1" + strings.Repeat(close, depth)
	return repeatTo("[", unit, ",", "]")
}

// hostileBodies are the most expensive bodies of about 1 MiB found by
// reading scan.go, emit.go, number.go and strings.go: every part of the
// parse that is not a plain copy, pushed to its limit.
var hostileBodies = []struct {
	name string
	body []byte
}{
	{"HugeExponent", repeatTo(`{"model":"m","x":1e`, "9", "", "}")},
	{"HugeNegativeExponentAdjusted", repeatTo(`{"model":"m","x":100e-1`, "0", "", "}")},
	{"LongInteger", repeatTo(`{"x":1`, "0", "", "}")},
	{"LongFraction", repeatTo(`{"x":0.`, "0", "", "1}")},
	{"ManyNumbers", repeatTo(`[`, "1.5e-7", ",", "]")},
	{"ManyLongExponents", repeatTo(`[`, "1e1000000000000000000000000", ",", "]")},
	{"DeepArrays", nested("[", "]", maxDepth-1)},
	{"DeepUnsortedObjects", nested(`{"b":1,"a":`, "}", maxDepth-1)},
	{"ManySmallUnsortedObjects", repeatTo(`[`, `{"b":1,"a":2}`, ",", "]")},
	{"ManyKeys", keysTo(func(i int) string { return fmt.Sprintf("k%d", i) })},
	{"ManyKeysLongPrefix", keysTo(func(i int) string { return strings.Repeat("p", 1000) + fmt.Sprint(i) })},
	{"ManyKeysLongEscapedPrefix", keysTo(func(i int) string { return strings.Repeat("\u00e9", 300) + fmt.Sprint(i) })},
	{"ManyKeysNotUTF8", keysTo(func(i int) string { return strings.Repeat("\xff", 200) + fmt.Sprint(i) })},
	{"ManyDuplicateNames", repeatTo(`{`, `"a":1`, ",", "}")},
	{"ManyKeysSharedPrefix", keysTo(func(i int) string { return "pppppppp" + fmt.Sprint(i) })},
	{"ManyKeysShortNotUTF8", keysTo(func(i int) string { return "\xf5" + fmt.Sprint(i) })},
	{"DuplicateNamesNotUTF8", repeatTo(`{`, "\"\xf5\x87\":1", ",", "}")},
	{"AlikeNamesNotUTF8", repeatTo(`{`, "\"\xf5\x87\":1,\"\xf5\x88\":1", ",", "}")},
	{"NamesDifferingAfterNotUTF8", repeatTo(`{`, "\"\xf5b\":1,\"\xf5a\":1", ",", "}")},
	{"DuplicateLongNamesNotUTF8", repeatTo(`{`, `"`+strings.Repeat("\xff", 200)+`":1`, ",", "}")},
	{"LongNamesDifferingAfterNotUTF8", repeatTo(`{`, `"`+strings.Repeat("\xff", 200)+`b":1,"`+strings.Repeat("\xff", 200)+`a":1`, ",", "}")},
	{"LongEscapes", repeatTo(`{"x":"`, `\u00e9`, "", `"}`)},
	{"SurrogatePairs", repeatTo(`{"x":"`, `\ud83d\ude00`, "", `"}`)},
	{"LoneSurrogates", repeatTo(`{"x":"`, `\ud800`, "", `"}`)},
	{"ControlEscapes", repeatTo(`{"x":"`, `\u0001`, "", `"}`)},
	{"ShortStrings", repeatTo(`[`, `""`, ",", "]")},
	{"Whitespace", repeatTo(`[`, " \n\t\r", "", "1]")},
	{"Literals", repeatTo(`[`, "true,false,null", ",", "]")},
	{"ChatText", chatBody(hostileSize)},
	// Image parts, walked once more to leave their data out of the text.
	{"ManyImageParts", repeatTo(`{"messages":[{"content":[`, `{"type":"image_url","image_url":{"url":"x"}}`, ",", "]}]}")},
	{"ManyEscapedImageParts", repeatTo(`{"messages":[{"content":[`,
		`{"typ\u0065":"im\u0061ge","sourc\u0065":{"typ\u0065":"b\u0061se64","d\u0061ta":"x"}}`, ",", "]}]}")},
	{"ManyToolResultImages", repeatTo(`{"messages":[{"content":[{"type":"tool_result","content":[`,
		`{"type":"image","source":{"type":"url","url":"x"}}`, ",", "]}]}]}")},
}

func TestHostileBodiesAreJSON(t *testing.T) {
	for _, h := range hostileBodies {
		if !json.Valid(h.body) {
			t.Errorf("%s is not JSON", h.name)
		}
		if _, err := Parse(h.body); err != nil {
			t.Errorf("%s: %v", h.name, err)
		}
	}
}

// BenchmarkParseHostile parses each hostile body; the limit is 50 ms per
// MiB (a throughput of at least 20 MB/s).
func BenchmarkParseHostile(b *testing.B) {
	for _, h := range hostileBodies {
		b.Run(h.name, func(b *testing.B) { benchmarkParse(b, h.body) })
	}
}
