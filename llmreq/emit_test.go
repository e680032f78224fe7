package llmreq

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// sortNames are member names, in canonical spelling, that sort next to one
// another or read alike: names that share eight bytes or differ in length
// around eight, zero bytes, bytes that are not UTF-8 (U+FFFD once read,
// three bytes each), lone surrogates and U+FFFD itself.
var sortNames = []string{
	"", "a", `a\u0000`, "abcdefgh", `abcdefgh\u0000`, "abcdefghi", "abcdefghj",
	"abcdefgh\xff", "\xf5", "\xf5\x87", `\ud800`, "\ufffd", "\xf5a", "\xf5b",
	"\xff\xff\xff", "\xff\xff\xffa", "\xff\xff\xff\xff", "\ufffd\ufffd\ufffd",
	"\xff\xff\xff" + `\ud800`, "é", "zz",
}

// TestSortMembers checks the order of object members, by both sorts
// (pdqsort for small objects, radix for large ones), against a stable sort
// of the names as encoding/json reads them.
func TestSortMembers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{20, radixMin, 3 * radixMin} {
		for range 20 {
			type member struct {
				name string // as encoding/json reads it
				text string // canonical
			}
			ms := make([]member, n)
			var body strings.Builder
			body.WriteByte('{')
			for i := range ms {
				name := sortNames[r.IntN(len(sortNames))]
				if r.IntN(4) == 0 { // a distinct name now and then
					name += fmt.Sprint(r.IntN(1000))
				}
				ms[i].text = fmt.Sprintf(`"%s":%d`, name, i)
				if err := json.Unmarshal([]byte(`"`+name+`"`), &ms[i].name); err != nil {
					t.Fatal(err)
				}
				if i > 0 {
					body.WriteByte(',')
				}
				body.WriteString(ms[i].text)
			}
			body.WriteByte('}')
			slices.SortStableFunc(ms, func(a, b member) int { return strings.Compare(a.name, b.name) })
			want := []byte("{")
			for i, m := range ms {
				if i > 0 {
					want = append(want, ',')
				}
				want = append(want, m.text...)
			}
			want = append(want, '}')
			q, err := Parse([]byte(body.String()))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(q.Canonical, want) {
				t.Fatalf("%d members: canonical\n%q\nwant\n%q", n, q.Canonical, want)
			}
		}
	}
}
