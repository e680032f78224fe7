package fakeai

// anthropicMessage is an Anthropic Messages API answer.
type anthropicMessage struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Role         string          `json:"role"`
	Model        string          `json:"model"`
	Content      []textBlock     `json:"content"`
	StopReason   *string         `json:"stop_reason"`
	StopSequence *string         `json:"stop_sequence"`
	Usage        *anthropicUsage `json:"usage,omitempty"`
}

type textBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type anthropicUsage struct {
	InputTokens              *int `json:"input_tokens,omitempty"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens,omitempty"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens,omitempty"`
	OutputTokens             int  `json:"output_tokens"`
}

// inputUsage is Anthropic's usage of the prompt: input_tokens apart from
// what the prompt cache wrote and read, given as Anthropic gives them.
func (u usage) inputUsage(output int) *anthropicUsage {
	return &anthropicUsage{InputTokens: ptr(u.prompt), CacheCreationInputTokens: ptr(u.cacheWrite), CacheReadInputTokens: ptr(u.cached), OutputTokens: output}
}

// anthropicEvent is one Messages stream event; fields a type does not use
// are omitted.
type anthropicEvent struct {
	Type         string            `json:"type"`
	Message      *anthropicMessage `json:"message,omitempty"`
	Index        *int              `json:"index,omitempty"`
	ContentBlock *textBlock        `json:"content_block,omitempty"`
	Delta        any               `json:"delta,omitempty"`
	Usage        *anthropicUsage   `json:"usage,omitempty"`
}

type textDelta struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type stopDelta struct {
	StopReason   string  `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
}

// messages answers Anthropic's /v1/messages. The stream is message_start
// (input tokens), content_block_start, ping, content_block_delta...,
// content_block_stop, message_delta (output tokens, cumulative) and
// message_stop; x-fake-no-usage drops the usage objects.
func (c *call) messages() {
	text, completion := c.answer(c.req.lastUserText())
	u := c.usageFor(completion)
	msg := anthropicMessage{ID: "msg_fake_" + c.num(), Type: "message", Role: "assistant", Model: c.req.Model}
	if !c.req.Stream {
		msg.Content = []textBlock{{Type: "text", Text: text}}
		msg.StopReason = ptr("end_turn")
		msg.Usage = u.inputUsage(u.completion)
		c.writeJSON(200, msg)
		return
	}
	var startUsage, endUsage *anthropicUsage
	if !c.k.noUsage {
		startUsage = u.inputUsage(1)
		endUsage = &anthropicUsage{OutputTokens: u.completion}
	}
	msg.Content = []textBlock{}
	msg.Usage = startUsage
	zero := ptr(0)
	evs := []anthropicEvent{
		{Type: "message_start", Message: &msg},
		{Type: "content_block_start", Index: zero, ContentBlock: &textBlock{Type: "text"}},
		{Type: "ping"},
	}
	for _, p := range split(text, c.k.chunks) {
		evs = append(evs, anthropicEvent{Type: "content_block_delta", Index: zero, Delta: textDelta{Type: "text_delta", Text: p}})
	}
	evs = append(evs,
		anthropicEvent{Type: "content_block_stop", Index: zero},
		anthropicEvent{Type: "message_delta", Delta: stopDelta{StopReason: "end_turn"}, Usage: endUsage},
		anthropicEvent{Type: "message_stop"},
	)
	events := make([]event, len(evs))
	for i, ev := range evs {
		events[i] = event{name: ev.Type, data: ev}
	}
	c.stream(events)
}
