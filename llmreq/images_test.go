package llmreq

import (
	"strings"
	"testing"
)

// png is base64 image data: 1 MiB of it, as a large screenshot sends.
var png = strings.Repeat("iVBORw0KGgoAAAANSUhEUgAA", 1<<20/24)

func TestImages(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Images
		text int64 // TextBytes
	}{
		{"openai chat data url",
			`{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},` +
				`{"type":"image_url","image_url":{"url":"data:image/png;base64,` + png + `","detail":"high"}}]}]}`,
			Images{OpenAI: 1}, int64(len("gpt-4o" + "user" + "text" + "What is this?" + "image_url" + "high"))},
		{"openai chat https url",
			`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}`,
			Images{OpenAI: 1}, int64(len("user" + "image_url"))},
		{"openai chat members in any order",
			`{"messages":[{"content":[{"image_url":{"detail":"low","url":"https://example.com/cat.png"},"type":"image_url"}],"role":"user"}]}`,
			Images{OpenAI: 1}, int64(len("low" + "image_url" + "user"))},
		{"responses api",
			`{"model":"gpt-4.1","input":[{"role":"user","content":[{"type":"input_text","text":"Describe"},` +
				`{"type":"input_image","image_url":"data:image/jpeg;base64,` + png + `","detail":"auto"}]}]}`,
			Images{OpenAI: 1}, int64(len("gpt-4.1" + "user" + "input_text" + "Describe" + "input_image" + "auto"))},
		{"anthropic base64",
			`{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":[` +
				`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + png + `"}},{"type":"text","text":"Hi"}]}]}`,
			Images{Anthropic: 1}, int64(len("claude-sonnet-4-5" + "user" + "image" + "base64" + "image/png" + "text" + "Hi"))},
		{"anthropic url",
			`{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://example.com/a.jpg"}}]}]}`,
			Images{Anthropic: 1}, int64(len("user" + "image" + "url"))},
		{"anthropic file counts without data",
			`{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"file_01"}}]}]}`,
			Images{Anthropic: 1}, int64(len("user" + "image" + "file" + "file_01"))},
		{"anthropic tool result screenshot",
			`{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[` +
				`{"type":"text","text":"done"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + png + `"}}]}]}]}`,
			Images{Anthropic: 1}, int64(len("user" + "tool_result" + "toolu_1" + "text" + "done" + "image" + "base64" + "image/png"))},
		{"many images",
			`{"messages":[{"role":"user","content":[` + strings.Repeat(`{"type":"image_url","image_url":{"url":"data:,x"}},`, 99) +
				`{"type":"image_url","image_url":{"url":"data:,x"}}]}]}`,
			Images{OpenAI: 100}, int64(len("user") + 100*len("image_url"))},
		{"escaped data counts decoded",
			`{"messages":[{"content":[{"type":"image_url","image_url":{"url":"data:image\/png;base64,\u0041\ud83d\ude00\ud800"}}]}]}`,
			Images{OpenAI: 1}, int64(len("image_url"))},
		{"names and type escaped",
			`{"m\u0065ssages":[{"content":[{"typ\u0065":"im\u0061ge_url","image_url":{"url":"` + png + `"}}]}]}`,
			Images{OpenAI: 1}, int64(len("image_url"))},

		// Only real image parts leave their data out.
		{"data url in a text part",
			`{"messages":[{"role":"user","content":[{"type":"text","text":"data:image/png;base64,AAAA"}]}]}`,
			Images{}, int64(len("user" + "text" + "data:image/png;base64,AAAA"))},
		{"text part that says image",
			`{"messages":[{"content":[{"type":"image","text":"AAAA","source":{"type":"base64","data":"BBBB"}}]}]}`,
			Images{Anthropic: 1}, int64(len("image" + "AAAA" + "base64"))},
		{"type given twice",
			`{"messages":[{"content":[{"type":"image_url","type":"text","image_url":{"url":"AAAA"}}]}]}`,
			Images{}, int64(len("image_url" + "text" + "AAAA"))},
		{"type given twice, image last",
			`{"messages":[{"content":[{"type":"text","type":"image_url","image_url":{"url":"AAAA"}}]}]}`,
			Images{}, int64(len("text" + "image_url" + "AAAA"))},
		{"type not a string",
			`{"messages":[{"content":[{"type":["image_url"],"image_url":{"url":"AAAA"}}]}]}`,
			Images{}, int64(len("image_url" + "AAAA"))},
		{"shape of another type",
			`{"messages":[{"content":[{"type":"image","image_url":{"url":"AAAA"}},{"type":"image_url","image_url":"BBBB"},{"type":"input_image","source":{"type":"base64","data":"CCCC"}}]}]}`,
			Images{OpenAI: 2, Anthropic: 1}, int64(len("image" + "AAAA" + "image_url" + "BBBB" + "input_image" + "base64" + "CCCC"))},
		{"source of another type",
			`{"messages":[{"content":[{"type":"image","source":{"type":"text","data":"AAAA","url":"BBBB"}}]}]}`,
			Images{Anthropic: 1}, int64(len("image" + "text" + "AAAA" + "BBBB"))},
		{"document source is text",
			`{"messages":[{"content":[{"type":"document","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]}]}`,
			Images{}, int64(len("document" + "base64" + "image/png" + "AAAA"))},
		{"image_url not in a content part",
			`{"image_url":{"url":"AAAA"},"type":"image_url","messages":[{"type":"image_url","image_url":{"url":"BBBB"}}]}`,
			Images{}, int64(len("AAAA" + "image_url" + "image_url" + "BBBB"))},
		{"content not a list",
			`{"messages":[{"content":{"type":"image_url","image_url":{"url":"AAAA"}}}]}`,
			Images{}, int64(len("image_url" + "AAAA"))},
		{"parts too deep",
			`{"messages":[{"content":[{"type":"text","content":[{"type":"image_url","image_url":{"url":"AAAA"}}]}]}],` +
				`"x":{"messages":[{"content":[{"type":"image_url","image_url":{"url":"BBBB"}}]}]},` +
				`"input":[[{"content":[{"type":"image_url","image_url":{"url":"CCCC"}}]}]]}`,
			Images{}, int64(len("text" + "image_url" + "AAAA" + "image_url" + "BBBB" + "image_url" + "CCCC"))},
		{"tool result in a tool result",
			`{"messages":[{"content":[{"type":"tool_result","content":[{"type":"tool_result","content":[{"type":"image","source":{"type":"base64","data":"AAAA"}}]}]}]}]}`,
			Images{}, int64(len("tool_result" + "tool_result" + "image" + "base64" + "AAAA"))},
		{"image parts in a part that is no tool result",
			`{"messages":[{"content":[{"type":"text","text":"x","content":[{"type":"image","source":{"type":"base64","data":"AAAA"}}]}]}]}`,
			Images{}, int64(len("text" + "x" + "image" + "base64" + "AAAA"))},
		{"data in a list", `{"messages":[{"content":[{"type":"image_url","image_url":{"url":["AAAA"]}}]}]}`,
			Images{OpenAI: 1}, int64(len("image_url" + "AAAA"))},
		{"url given again as null",
			`{"messages":[{"content":[{"type":"image_url","image_url":{"url":"AAAA","url":null}}]}]}`,
			Images{OpenAI: 1}, int64(len("image_url" + "AAAA"))},
		{"image_url given again",
			`{"messages":[{"content":[{"type":"image_url","image_url":{"url":"AAAA"},"image_url":{"detail":"low"}}]}]}`,
			Images{OpenAI: 1}, int64(len("image_url" + "AAAA" + "low"))},
		{"no messages", `{"model":"x","prompt":"image"}`, Images{}, int64(len("x" + "image"))},
		{"top-level list", `[{"type":"image_url","image_url":{"url":"AAAA"}}]`, Images{}, int64(len("image_url" + "AAAA"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			checkImages(t, body)
			f, err := Scan(body)
			if err != nil {
				t.Fatal(err)
			}
			if f.Images != tt.want || f.TextBytes != tt.text {
				t.Fatalf("Images %+v, TextBytes %d; want %+v, %d", f.Images, f.TextBytes, tt.want, tt.text)
			}
		})
	}
}

// TestImagesDeep: nesting far deeper than image parts sit is walked past.
func TestImagesDeep(t *testing.T) {
	deep := strings.Repeat(`[`, 9000) + `"image"` + strings.Repeat(`]`, 9000)
	body := `{"messages":[{"content":[{"type":"image_url","image_url":{"url":"AAAA","x":` + deep + `}}]}]}`
	checkImages(t, []byte(body))
	if f, err := Scan([]byte(body)); err != nil || f.Images != (Images{OpenAI: 1}) || f.TextBytes != int64(len("image_url"+"image")) {
		t.Fatalf("%+v, %v", f, err)
	}
}
