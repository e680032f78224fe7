package llmreq

import "bytes"

// Images counts the image parts of a request's messages, by the shape
// that prices them. Providers price an image by its size in pixels, not
// by the bytes of its encoding, so the data of the images counted here is
// left out of Fields.TextBytes.
//
// Only parts where the providers read images count, each shape in its own
// place: the objects of the "content" array of an object of the top-level
// "messages" or "input" array, and for Anthropic also of the "content" of
// such a part whose type is tool_result. A part counts by its "type" (the
// member given once: a part that names its type twice is read as text),
// and only its image's data is left out of the text: the url of its
// image_url object (OpenAI chat completions, type image_url), its
// image_url string (the Responses API, type input_image), or the data or
// url of its source, as the source's type says (Anthropic, type image:
// base64 or url). Anything else in a part, and any part elsewhere,
// counts as text, whatever it looks like.
type Images struct {
	// OpenAI is the number of image_url and input_image parts.
	OpenAI int64
	// Anthropic is the number of image blocks.
	Anthropic int64
}

// imageWord is in the decoded text of every type that makes an image
// part.
var imageWord = []byte("image")

// mayHoldImages reports whether body may have image parts: whether it
// holds the word image, as it is or with a letter escaped (each letter
// of it escapes as \u006X). It is two fast searches, to spare bodies of
// text the walk of walkImages.
func mayHoldImages(body []byte) bool {
	return bytes.Contains(body, imageWord) || bytes.Contains(body, []byte(`\u006`))
}

// walkImages reads the image parts of body, which is valid JSON, and the
// decoded bytes of their image data (see Images). It makes one pass over
// body, allocating nothing.
func walkImages(body []byte) (Images, int64) {
	var w imageWalker
	w.walk(body)
	return w.images, w.data
}

// role is what a container is to the image parts, by where it sits.
type role uint8

const (
	roleNone     role = iota // no image part is inside
	roleRoot                 // the top-level object
	roleList                 // its messages or input array
	roleMessage              // an object of that array
	roleParts                // a message's content array, or a tool result's
	rolePart                 // an object of a parts array
	roleImageURL             // a part's image_url object
	roleSource               // a part's source object
)

// Parts sit at depth 5 (messages[i].content[j]) and, inside a tool
// result, at depth 7 (messages[i].content[j].content[k]); their image
// objects one deeper. Deeper containers play no role.
const (
	partDepth    = 5
	subPartDepth = 7
	roleDepths   = subPartDepth + 2
)

// partType is what a part's type makes it.
type partType uint8

const (
	typeOther      partType = iota
	typeImageURL            // OpenAI chat completions
	typeInputImage          // the Responses API
	typeImage               // Anthropic
	typeToolResult          // Anthropic, whose content may hold images
)

// part is what has been read of one part.
type part struct {
	typ      partType
	typeSeen bool
	twice    bool // type given more than once: read as text
	// The decoded bytes of the image data of each shape, the last given.
	url, imageURL, data, sourceURL int64
	// sourceType is the type of the source: base64 or url give its data
	// or url, anything else neither.
	sourceType partType
	// images and imageData are those of a tool result's parts.
	images    Images
	imageData int64
}

// Source types, kept in a part's sourceType.
const (
	sourceOther partType = iota
	sourceBase64
	sourceURL
)

// imageWalker walks a valid JSON text once, keeping the roles of the
// containers open down to the depth of image parts.
type imageWalker struct {
	roles  [roleDepths]role
	parts  [2]part // the part open at partDepth, and at subPartDepth
	images Images
	data   int64
}

// walk reads b, valid JSON, as a sequence of tokens.
func (w *imageWalker) walk(b []byte) {
	depth := 0
	var key []byte // the name of the member whose value comes next
	for i := 0; i < len(b); {
		switch c := b[i]; c {
		case ' ', '\t', '\n', '\r', ',':
			i++
		case '{', '[':
			r := roleNone
			if depth < roleDepths-1 {
				r = w.child(depth, key, c == '{')
				w.roles[depth+1] = r
			}
			if r == rolePart {
				w.parts[(depth+1-partDepth)/2] = part{}
			}
			w.member(depth, key, nil, false)
			depth++
			key = nil
			i++
		case '}', ']':
			if depth < roleDepths && w.roles[depth] == rolePart {
				w.closePart(depth)
			}
			depth--
			key = nil
			i++
		case '"':
			end := stringEnd(b, i+1)
			s := b[i+1 : end]
			i = skipSpace(b, end+1)
			if i < len(b) && b[i] == ':' { // a member name
				key = s
				i++
				continue
			}
			w.member(depth, key, s, true)
			key = nil
		default: // a number or a literal
			for i < len(b) && !isDelimiter(b[i]) {
				i++
			}
			w.member(depth, key, nil, false)
			key = nil
		}
	}
}

// child is the role of a container opened as the value of member key
// (nil in an array) of the container at depth.
func (w *imageWalker) child(depth int, key []byte, object bool) role {
	if depth == 0 {
		if object {
			return roleRoot
		}
		return roleNone
	}
	switch w.roles[depth] {
	case roleRoot:
		if !object && (decodesTo(key, "messages") || decodesTo(key, "input")) {
			return roleList
		}
	case roleList:
		if object {
			return roleMessage
		}
	case roleMessage:
		if !object && decodesTo(key, "content") {
			return roleParts
		}
	case roleParts:
		if object {
			return rolePart
		}
	case rolePart:
		switch {
		case object && decodesTo(key, "image_url"):
			return roleImageURL
		case object && decodesTo(key, "source"):
			return roleSource
		case !object && depth == partDepth && decodesTo(key, "content"):
			return roleParts
		}
	}
	return roleNone
}

// member reads the value of member key of the container at depth: s, the
// contents of a string as written, when isString; nothing of other values
// but that they are not strings.
func (w *imageWalker) member(depth int, key, s []byte, isString bool) {
	if key == nil || depth >= roleDepths {
		return
	}
	switch w.roles[depth] {
	case rolePart:
		p := &w.parts[(depth-partDepth)/2]
		switch {
		case decodesTo(key, "type"):
			p.twice = p.twice || p.typeSeen
			p.typeSeen, p.typ = true, typeOther
			if isString {
				p.typ = typeOf(s)
			}
		case decodesTo(key, "image_url"):
			p.url, p.imageURL = 0, 0
			if isString {
				p.imageURL = decodedLen(s)
			}
		case decodesTo(key, "source"):
			p.data, p.sourceURL, p.sourceType = 0, 0, sourceOther
		}
	case roleImageURL:
		if decodesTo(key, "url") {
			w.parts[(depth-1-partDepth)/2].url = stringLen(s, isString)
		}
	case roleSource:
		p := &w.parts[(depth-1-partDepth)/2]
		switch {
		case decodesTo(key, "type"):
			p.sourceType = sourceOther
			if isString && decodesTo(s, "base64") {
				p.sourceType = sourceBase64
			} else if isString && decodesTo(s, "url") {
				p.sourceType = sourceURL
			}
		case decodesTo(key, "data"):
			p.data = stringLen(s, isString)
		case decodesTo(key, "url"):
			p.sourceURL = stringLen(s, isString)
		}
	}
}

// closePart counts the part closing at depth: in the totals, or for a
// part of a tool result, in that tool result's, which count once it is
// known to be one.
func (w *imageWalker) closePart(depth int) {
	p := &w.parts[(depth-partDepth)/2]
	if p.twice {
		return
	}
	var images Images
	var data int64
	switch p.typ {
	case typeImageURL:
		images.OpenAI, data = 1, p.url
	case typeInputImage:
		images.OpenAI, data = 1, p.imageURL
	case typeImage:
		images.Anthropic = 1
		switch p.sourceType {
		case sourceBase64:
			data = p.data
		case sourceURL:
			data = p.sourceURL
		}
	case typeToolResult:
		if depth == partDepth {
			images, data = p.images, p.imageData
		}
	}
	to, toData := &w.images, &w.data
	if depth == subPartDepth {
		parent := &w.parts[0]
		to, toData = &parent.images, &parent.imageData
	}
	to.OpenAI += images.OpenAI
	to.Anthropic += images.Anthropic
	*toData += data
}

// typeOf reads the type of a part.
func typeOf(s []byte) partType {
	switch {
	case decodesTo(s, "image_url"):
		return typeImageURL
	case decodesTo(s, "input_image"):
		return typeInputImage
	case decodesTo(s, "image"):
		return typeImage
	case decodesTo(s, "tool_result"):
		return typeToolResult
	}
	return typeOther
}

// stringLen is the decoded length of s when it is a string, else 0.
func stringLen(s []byte, isString bool) int64 {
	if !isString {
		return 0
	}
	return decodedLen(s)
}
