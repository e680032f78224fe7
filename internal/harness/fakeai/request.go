package fakeai

import (
	"encoding/json"
	"net/http"
	"strings"
)

// request holds the request fields the fake looks at; the rest of the body
// is ignored.
type request struct {
	Model         string          `json:"model"`
	Stream        bool            `json:"stream"`
	StreamOptions *streamOptions  `json:"stream_options"`
	Messages      []message       `json:"messages"` // chat, Anthropic
	Prompt        json.RawMessage `json:"prompt"`   // completions
	Input         json.RawMessage `json:"input"`    // embeddings, Responses
	Dimensions    int             `json:"dimensions"`
	Encoding      string          `json:"encoding_format"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// parse decodes the body into c.req, answering 400 in the provider's shape
// when it is not a JSON object with a model; it reports whether to go on.
func (c *call) parse() bool {
	if !json.Valid(c.body) {
		msg := "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)"
		if c.anthropic {
			msg = "There was an error parsing the body of your request: the body is not valid JSON."
		}
		c.fail(http.StatusBadRequest, msg)
		return false
	}
	if err := json.Unmarshal(c.body, &c.req); err != nil {
		c.fail(http.StatusBadRequest, "Invalid request body: "+err.Error())
		return false
	}
	if c.req.Model == "" {
		msg := "you must provide a model parameter"
		if c.anthropic {
			msg = "model: Field required"
		}
		c.fail(http.StatusBadRequest, msg)
		return false
	}
	if c.k.model != "" {
		c.req.Model = c.k.model
	}
	return true
}

// includeUsage reports whether an OpenAI stream should end with a usage
// chunk.
func (c *call) includeUsage() bool {
	return c.req.StreamOptions != nil && c.req.StreamOptions.IncludeUsage && !c.k.noUsage
}

// lastUserText is the text of the last user message (chat, Anthropic).
func (r *request) lastUserText() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return contentText(r.Messages[i].Content)
		}
	}
	return ""
}

// promptText is the last prompt of a completions request.
func (r *request) promptText() string {
	if texts := stringOrStrings(r.Prompt); len(texts) > 0 {
		return texts[len(texts)-1]
	}
	return ""
}

// responsesInputText is the text of a Responses API input: the string, or
// the last user item of an item list.
func (r *request) responsesInputText() string {
	var s string
	if json.Unmarshal(r.Input, &s) == nil {
		return s
	}
	var items []message
	if json.Unmarshal(r.Input, &items) != nil {
		return ""
	}
	for i := len(items) - 1; i >= 0; i-- {
		if items[i].Role == "user" {
			return contentText(items[i].Content)
		}
	}
	return ""
}

// embeddingInputs lists an embeddings input: one string, several strings,
// or token arrays (which count as one input each, with no text).
func (r *request) embeddingInputs() []string {
	if texts := stringOrStrings(r.Input); texts != nil {
		return texts
	}
	var many []json.RawMessage
	if json.Unmarshal(r.Input, &many) == nil && len(many) > 0 {
		return make([]string, len(many))
	}
	return []string{""}
}

// contentText is the text of a message content: a string, or the text
// parts ("text", "input_text") of a part list, joined.
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

// stringOrStrings decodes a JSON string or array of strings; nil if it is
// neither.
func stringOrStrings(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var ss []string
	if json.Unmarshal(raw, &ss) == nil && len(ss) > 0 {
		return ss
	}
	return nil
}
