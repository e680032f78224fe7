package llmreq

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/llmgate/caddy-llmgate/internal/intern"
	"github.com/llmgate/caddy-llmgate/jsonscan"
)

// Fields are what llmgate reads of a request body to route and limit it:
// a few top-level members and the amount of text. Parse and Scan read the
// same Fields from a JSON body; Scan does without the canonical form, so
// it reads bodies far larger than a cache keys on.
type Fields struct {
	// Model is the top-level "model" member when it is a JSON string (the
	// last one when the name repeats, as upstream parsers read it), else "".
	// It is the decoded string; bytes that are not UTF-8 are kept as they
	// came.
	Model string

	// ModelAmbiguous reports a body with a top-level member whose name is
	// "model" in another case ("Model"): parsers that match names
	// regardless of case (encoding/json) may read another model than
	// those that do not, so Model is empty.
	ModelAmbiguous bool

	// Stream reports whether the top-level "stream" member is true.
	Stream bool

	// StreamOptions reports whether there is a top-level "stream_options"
	// member, whatever its value.
	StreamOptions bool

	// StreamUsage reports whether stream_options asks for the stream's
	// usage: an object whose include_usage is true (the last one of each
	// name, as upstream parsers read them).
	StreamUsage bool

	// MaxOutputTokens is the largest of the top-level max_tokens,
	// max_completion_tokens and max_output_tokens members that are integers
	// >= 0 (0 when there is none). A value beyond int64 saturates at
	// math.MaxInt64, so callers that add to it must guard against overflow.
	MaxOutputTokens int64

	// TextBytes is the total number of decoded bytes of every string value
	// in the body (member names excluded) but the data of the images
	// counted in Images. At about 4 bytes a token it estimates the size in
	// tokens of the prompt's text. For a body that is not JSON, every byte
	// counts.
	TextBytes int64

	// Images are the image parts of the body's messages, which providers
	// price per image rather than per byte of their data.
	Images Images
}

// fieldNames are the top-level members Fields reads.
var fieldNames = []string{"model", "stream", "stream_options", "max_tokens", "max_completion_tokens", "max_output_tokens"}

// scanners are Scan's scanners, ready to scan (Reset): nothing of a
// Scanner outlives the Scan that used it.
var scanners = sync.Pool{New: func() any { return jsonscan.New(maxFieldValue, fieldNames...) }}

// maxFieldValue bounds the text of one member's value that Scan keeps.
// Longer values are read as what they cannot be ruled out to be: a model
// that cannot be read, a token cap beyond any bucket.
const maxFieldValue = 4 << 10

// Scan reads the Fields of body in one pass over it, in time linear in
// its length, keeping nothing but the members' values (each at most 4
// KiB of text): the way to read bodies too large to canonicalise. For the
// same body it reads what Parse reads. A body that is not exactly one
// valid JSON value (as Parse judges it) gives an error wrapping
// ErrNotJSON, with Fields whose TextBytes is the body's length.
func Scan(body []byte) (*Fields, error) {
	s := scanners.Get().(*jsonscan.Scanner)
	defer func() {
		s.Reset()
		scanners.Put(s)
	}()
	_, _ = s.Write(body)
	if !s.Valid() {
		return &Fields{TextBytes: int64(len(body))}, fmt.Errorf("%w: not one valid JSON value", ErrNotJSON)
	}
	var t topFields
	for _, m := range s.Members() {
		if m.Folded && m.Name == "model" {
			t.modelFolded = true
		}
		switch {
		case !m.Found:
		case m.TooLong:
			t.unreadable(m.Name)
		default:
			v, err := Parse(m.Value)
			if err != nil { // cannot be: the scanner checked the value
				return nil, err
			}
			t.set([]byte(m.Name), v.Canonical)
		}
	}
	f := t.fields(s.TextBytes())
	if mayHoldImages(body) {
		f.setImages(walkImages(body))
	}
	return &f, nil
}

// topFields collects the members Fields reads from their canonical
// values, the last of a name winning.
type topFields struct {
	model                                []byte // canonical string without quotes, nil when none
	modelFolded                          bool   // a member named "model" in another case
	stream, streamOptions, streamUsage   bool
	maxTokens, maxCompletion, maxOutputs int64
}

// set reads the member name with canonical value v. The name is bytes,
// which a switch on string(name) compares without copying: a body may
// have a great many long names.
func (t *topFields) set(name []byte, v []byte) {
	switch string(name) {
	case "model":
		t.model = nil
		if v[0] == '"' {
			t.model = v[1 : len(v)-1]
		}
	case "stream":
		t.stream = string(v) == "true"
	case "stream_options":
		t.streamOptions, t.streamUsage = true, includesUsage(v)
	case "max_tokens":
		t.maxTokens = tokenCount(v)
	case "max_completion_tokens":
		t.maxCompletion = tokenCount(v)
	case "max_output_tokens":
		t.maxOutputs = tokenCount(v)
	default:
		// Not "model" itself: the case above took it.
		t.modelFolded = t.modelFolded || jsonscan.EqualFoldASCII("model", name)
	}
}

// includesUsage reports whether v, the canonical value of stream_options,
// asks for the usage: an object whose include_usage member is true.
func includesUsage(v []byte) bool {
	if len(v) == 0 || v[0] != '{' {
		return false
	}
	q, err := Parse(v)
	if err != nil {
		return false
	}
	usage := false
	for _, m := range q.tops {
		if !m.esc && string(q.name(m)) == "include_usage" {
			usage = string(q.value(m)) == "true"
		}
	}
	return usage
}

// unreadable reads a member whose value is too long to keep: no model,
// and a token cap beyond any bucket.
func (t *topFields) unreadable(name string) {
	switch name {
	case "model":
		t.model = nil
	case "stream_options":
		t.streamOptions, t.streamUsage = true, false
	case "max_tokens", "max_completion_tokens", "max_output_tokens":
		t.set([]byte(name), []byte("1e999"))
	}
}

// setImages counts images, whose data, imageData bytes of it, is no text.
func (f *Fields) setImages(images Images, imageData int64) {
	f.Images = images
	f.TextBytes -= imageData
}

// fields returns the Fields read, with text bytes of text.
func (t *topFields) fields(text int64) Fields {
	model := t.model
	if t.modelFolded {
		model = nil
	}
	if bytes.IndexByte(model, '\\') >= 0 {
		model = appendDecoded(nil, model, false)
	}
	return Fields{
		Model:           intern.Bytes(model),
		ModelAmbiguous:  t.modelFolded,
		Stream:          t.stream,
		StreamOptions:   t.streamOptions,
		StreamUsage:     t.streamUsage,
		MaxOutputTokens: max(t.maxTokens, t.maxCompletion, t.maxOutputs),
		TextBytes:       text,
	}
}
