package fakeai

import "encoding/json"

// chatUsage is the usage object of chat and legacy completions.
type chatUsage struct {
	PromptTokens        int            `json:"prompt_tokens"`
	CompletionTokens    int            `json:"completion_tokens"`
	TotalTokens         int            `json:"total_tokens"`
	PromptTokensDetails map[string]int `json:"prompt_tokens_details,omitempty"`
}

func (u usage) chat() *chatUsage {
	c := &chatUsage{PromptTokens: u.prompt, CompletionTokens: u.completion, TotalTokens: u.prompt + u.completion}
	if u.cached > 0 {
		c.PromptTokensDetails = map[string]int{"cached_tokens": u.cached, "audio_tokens": 0}
	}
	return c
}

// completionHead is how every OpenAI completion, chunk and legacy text
// completion begins.
type completionHead struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
}

type chatCompletion struct {
	completionHead
	Choices           []chatChoice `json:"choices"`
	Usage             *chatUsage   `json:"usage"`
	ServiceTier       string       `json:"service_tier"`
	SystemFingerprint string       `json:"system_fingerprint"`
}

type chatChoice struct {
	Index        int         `json:"index"`
	Message      chatMessage `json:"message"`
	Logprobs     *struct{}   `json:"logprobs"`
	FinishReason string      `json:"finish_reason"`
}

type chatMessage struct {
	Role        string  `json:"role"`
	Content     string  `json:"content"`
	Refusal     *string `json:"refusal"`
	Annotations []any   `json:"annotations"`
}

// chatChunk is one chat stream event. Usage is omitted unless the client
// asked for usage, in which case it is null on every chunk but the last,
// as the API does.
type chatChunk struct {
	completionHead
	ServiceTier       string        `json:"service_tier"`
	SystemFingerprint string        `json:"system_fingerprint"`
	Choices           []chunkChoice `json:"choices"`
	Usage             any           `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int        `json:"index"`
	Delta        chunkDelta `json:"delta"`
	Logprobs     *struct{}  `json:"logprobs"`
	FinishReason *string    `json:"finish_reason"`
}

type chunkDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

// jsonNull is an explicit JSON null for fields that must be present.
var jsonNull = json.RawMessage("null")

// chat answers /v1/chat/completions.
func (c *call) chat() {
	text, completion := c.answer(c.req.lastUserText())
	u := c.usageFor(completion)
	id := "chatcmpl-fake-" + c.num()
	if !c.req.Stream {
		c.writeJSON(200, chatCompletion{
			completionHead: completionHead{id, "chat.completion", created, c.req.Model},
			Choices: []chatChoice{{
				Message:      chatMessage{Role: "assistant", Content: text, Annotations: []any{}},
				FinishReason: "stop",
			}},
			Usage:       u.chat(),
			ServiceTier: "default", SystemFingerprint: "fp_fake",
		})
		return
	}
	withUsage := c.includeUsage()
	chunk := func(choices []chunkChoice, u any) event {
		return event{data: chatChunk{
			completionHead: completionHead{id, "chat.completion.chunk", created, c.req.Model},
			ServiceTier:    "default", SystemFingerprint: "fp_fake", Choices: choices, Usage: u,
		}}
	}
	var noUsage any // omitted
	if withUsage {
		noUsage = jsonNull
	}
	parts := split(text, c.k.chunks)
	events := make([]event, 0, len(parts)+4)
	events = append(events, chunk([]chunkChoice{{Delta: chunkDelta{Role: "assistant", Content: ptr("")}}}, noUsage))
	for _, p := range parts {
		events = append(events, chunk([]chunkChoice{{Delta: chunkDelta{Content: ptr(p)}}}, noUsage))
	}
	events = append(events, chunk([]chunkChoice{{FinishReason: ptr("stop")}}, noUsage))
	if withUsage {
		events = append(events, chunk([]chunkChoice{}, u.chat()))
	}
	c.stream(append(events, done))
}

type textCompletion struct {
	completionHead
	SystemFingerprint string       `json:"system_fingerprint"`
	Choices           []textChoice `json:"choices"`
	Usage             *chatUsage   `json:"usage,omitempty"`
}

type textChoice struct {
	Text         string    `json:"text"`
	Index        int       `json:"index"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

// completion answers the legacy /v1/completions.
func (c *call) completion() {
	text, completion := c.answer(c.req.promptText())
	u := c.usageFor(completion)
	base := textCompletion{completionHead: completionHead{"cmpl-fake-" + c.num(), "text_completion", created, c.req.Model}, SystemFingerprint: "fp_fake"}
	if !c.req.Stream {
		base.Choices = []textChoice{{Text: text, FinishReason: ptr("stop")}}
		base.Usage = u.chat()
		c.writeJSON(200, base)
		return
	}
	parts := split(text, c.k.chunks)
	events := make([]event, 0, len(parts)+3)
	for _, p := range parts {
		ev := base
		ev.Choices = []textChoice{{Text: p}}
		events = append(events, event{data: ev})
	}
	last := base
	last.Choices = []textChoice{{FinishReason: ptr("stop")}}
	events = append(events, event{data: last})
	if c.includeUsage() {
		ev := base
		ev.Choices = []textChoice{}
		ev.Usage = u.chat()
		events = append(events, event{data: ev})
	}
	c.stream(append(events, done))
}
