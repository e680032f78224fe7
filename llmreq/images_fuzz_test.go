package llmreq

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// ordered is a JSON value decoded with its members in order, repeated
// names kept: a string, an object, a list, or nil for anything else.
type ordered struct {
	str      *string
	members  []orderedMember
	isObject bool
	list     []ordered
	isList   bool
}

type orderedMember struct {
	name  string
	value ordered
}

// decodeOrdered reads one value from d.
func decodeOrdered(d *json.Decoder) (ordered, error) {
	tok, err := d.Token()
	if err != nil {
		return ordered{}, err
	}
	var v ordered
	switch tok := tok.(type) {
	case string:
		v.str = &tok
	case json.Delim:
		v.isObject, v.isList = tok == '{', tok == '['
		for d.More() {
			var name string
			if v.isObject {
				k, err := d.Token()
				if err != nil {
					return v, err
				}
				name = k.(string)
			}
			e, err := decodeOrdered(d)
			if err != nil {
				return v, err
			}
			if v.isObject {
				v.members = append(v.members, orderedMember{name, e})
			} else {
				v.list = append(v.list, e)
			}
		}
		if _, err := d.Token(); err != nil {
			return v, err
		}
	}
	return v, nil
}

// textBytes is the decoded bytes of v's strings, names left out.
func (v ordered) textBytes() (n int64) {
	if v.str != nil {
		return int64(len(*v.str))
	}
	for _, m := range v.members {
		n += m.value.textBytes()
	}
	for _, e := range v.list {
		n += e.textBytes()
	}
	return n
}

// last is the value of v's last member named name, and whether there is one.
func (v ordered) last(name string) (ordered, bool) {
	for i := len(v.members) - 1; i >= 0; i-- {
		if v.members[i].name == name {
			return v.members[i].value, true
		}
	}
	return ordered{}, false
}

// lenOf is the length of v when it is a string, else 0.
func (v ordered) lenOf() int64 {
	if v.str == nil {
		return 0
	}
	return int64(len(*v.str))
}

// referenceImages reads the image parts of root as Images documents them.
func referenceImages(root ordered) (images Images, data int64) {
	if !root.isObject {
		return
	}
	for _, m := range root.members {
		if (m.name != "messages" && m.name != "input") || !m.value.isList {
			continue
		}
		for _, msg := range m.value.list {
			for _, c := range msg.members {
				if c.name != "content" || !c.value.isList {
					continue
				}
				for _, p := range c.value.list {
					if !p.isObject {
						continue
					}
					i, n := referencePart(p, true)
					images.OpenAI += i.OpenAI
					images.Anthropic += i.Anthropic
					data += n
				}
			}
		}
	}
	return images, data
}

func referencePart(p ordered, top bool) (images Images, data int64) {
	types := 0
	for _, m := range p.members {
		if m.name == "type" {
			types++
		}
	}
	typ, _ := p.last("type")
	if types != 1 || typ.str == nil {
		return
	}
	switch *typ.str {
	case "image_url":
		if u, ok := p.last("image_url"); ok {
			url, _ := u.last("url")
			data = url.lenOf()
		}
		return Images{OpenAI: 1}, data
	case "input_image":
		u, _ := p.last("image_url")
		return Images{OpenAI: 1}, u.lenOf()
	case "image":
		src, _ := p.last("source")
		st, _ := src.last("type")
		switch {
		case st.str != nil && *st.str == "base64":
			d, _ := src.last("data")
			data = d.lenOf()
		case st.str != nil && *st.str == "url":
			u, _ := src.last("url")
			data = u.lenOf()
		}
		return Images{Anthropic: 1}, data
	case "tool_result":
		if !top {
			return
		}
		for _, c := range p.members {
			if c.name != "content" || !c.value.isList {
				continue
			}
			for _, sub := range c.value.list {
				if sub.isObject {
					i, n := referencePart(sub, false)
					images.OpenAI += i.OpenAI
					images.Anthropic += i.Anthropic
					data += n
				}
			}
		}
	}
	return images, data
}

// FuzzImages checks the image parts Scan and Parse read against a
// reading of the body decoded by encoding/json, members kept in order.
func FuzzImages(f *testing.F) {
	for _, s := range []string{
		`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"text","text":"hi"}]}]}`,
		`{"input":[{"content":[{"type":"input_image","image_url":"data:image/png;base64,\u0041\/"}]}]}`,
		`{"messages":[{"content":[{"type":"tool_result","content":[{"type":"image","source":{"type":"base64","data":"AAAA"}}]},` +
			`{"source":{"url":"x","type":"url"},"typ\u0065":"image"}]}]}`,
		`{"messages":[{"content":[{"type":"image","type":"text","source":{"type":"base64","data":"AAAA"}}]}]}`,
		`{"messages":[{"content":[{"image_url":{"url":"A","url":null},"type":"image_url","image_url":"B"}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkImages)
}

// checkImages checks what Scan and Parse read of body, and its images
// against encoding/json's reading of them.
func checkImages(t *testing.T, body []byte) {
	t.Helper()
	checkScan(t, body)
	// encoding/json decodes bytes that are not UTF-8 as U+FFFD, three
	// bytes where TextBytes counts one.
	if !json.Valid(body) || !utf8.Valid(body) {
		return
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber() // numbers beyond float64 are valid JSON
	root, err := decodeOrdered(d)
	if err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	images, data := referenceImages(root)
	f, err := Scan(body)
	if err != nil {
		t.Fatal(err)
	}
	if f.Images != images || f.TextBytes != root.textBytes()-data {
		t.Fatalf("Scan reads %+v and %d bytes of text in %q; encoding/json %+v and %d - %d", f.Images, f.TextBytes, body, images, root.textBytes(), data)
	}
}
