package llmreq

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// chatBody returns an OpenAI chat completion request body of about size
// bytes: a system and a user message whose contents hold newlines, accented
// and CJK text and an escaped emoji, as SDKs send them.
func chatBody(size int) []byte {
	const line = `Résumé of the 第三 chapter, part \ud83d\ude00: keep it short and precise.\n`
	var content strings.Builder
	for content.Len() < size-330 {
		content.WriteString(line)
	}
	body := `{"model":"gpt-4o-mini","messages":[` +
		`{"role":"system","content":"You are a helpful assistant.\nAnswer in English.\nBe brief."},` +
		`{"role":"user","content":"` + content.String() + `"}` +
		`],"temperature":0.7,"max_tokens":512,"top_p":1,"n":1,"presence_penalty":0,"frequency_penalty":0,"user":"user-1234","stream":false}`
	if !json.Valid([]byte(body)) {
		panic("chatBody is not JSON")
	}
	return []byte(body)
}

var (
	body1K   = chatBody(1 << 10)
	body100K = chatBody(100 << 10)
)

func benchmarkParse(b *testing.B, body []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse1K(b *testing.B)   { benchmarkParse(b, body1K) }
func BenchmarkParse100K(b *testing.B) { benchmarkParse(b, body100K) }

func benchmarkHash(b *testing.B, body []byte, ignore []string) {
	q, err := Parse(body)
	if err != nil {
		b.Fatal(err)
	}
	h := sha256.New()
	var sum [sha256.Size]byte
	b.ReportAllocs()
	b.SetBytes(int64(len(q.Canonical)))
	for b.Loop() {
		h.Reset()
		if err := q.WriteCanonical(h, ignore); err != nil {
			b.Fatal(err)
		}
		h.Sum(sum[:0])
	}
}

func BenchmarkWriteCanonicalSHA256_1K(b *testing.B)   { benchmarkHash(b, body1K, nil) }
func BenchmarkWriteCanonicalSHA256_100K(b *testing.B) { benchmarkHash(b, body100K, nil) }
func BenchmarkWriteCanonicalSHA256Ignore_1K(b *testing.B) {
	benchmarkHash(b, body1K, []string{"user", "n"})
}

// BenchmarkParseHash is the cache's whole keying cost for a 1 KiB body.
func BenchmarkParseHash1K(b *testing.B) {
	h := sha256.New()
	var sum [sha256.Size]byte
	b.ReportAllocs()
	b.SetBytes(int64(len(body1K)))
	for b.Loop() {
		q, err := Parse(body1K)
		if err != nil {
			b.Fatal(err)
		}
		h.Reset()
		if err := q.WriteCanonical(h, []string{"user"}); err != nil {
			b.Fatal(err)
		}
		h.Sum(sum[:0])
	}
}

func BenchmarkRead1K(b *testing.B) {
	src := bytes.NewReader(body1K)
	body := io.NopCloser(src)
	r, err := http.NewRequest(http.MethodPost, "http://example.com/v1/chat/completions", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body1K)))
	for b.Loop() {
		src.Reset(body1K)
		r.Body, r.ContentLength = body, int64(len(body1K))
		if _, err := Read(r, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// bodyImages is a chat completion request with four base64 images of 256
// KiB each and a question, as a vision client sends them.
var bodyImages = func() []byte {
	img := `{"type":"image_url","image_url":{"url":"data:image/png;base64,` + strings.Repeat("iVBORw0KGgoAAAANSUhEUgAA", 256<<10/24) + `","detail":"high"}}`
	return []byte(`{"model":"gpt-4o","max_tokens":300,"messages":[{"role":"user","content":[` +
		img + `,` + img + `,` + img + `,` + img + `,{"type":"text","text":"What differs between these screenshots?"}]}]}`)
}()

func BenchmarkScanImages(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(bodyImages)))
	for b.Loop() {
		if f, err := Scan(bodyImages); err != nil || f.Images.OpenAI != 4 {
			b.Fatal(f, err)
		}
	}
}

func BenchmarkParseImages(b *testing.B) { benchmarkParse(b, bodyImages) }
