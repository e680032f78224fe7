package fakeai

// response is a Responses API response object.
type response struct {
	ID                 string         `json:"id"`
	Object             string         `json:"object"`
	CreatedAt          int64          `json:"created_at"`
	Status             string         `json:"status"`
	Error              *struct{}      `json:"error"`
	IncompleteDetails  *struct{}      `json:"incomplete_details"`
	Instructions       *string        `json:"instructions"`
	MaxOutputTokens    *int           `json:"max_output_tokens"`
	Model              string         `json:"model"`
	Output             []outputItem   `json:"output"`
	ParallelToolCalls  bool           `json:"parallel_tool_calls"`
	PreviousResponseID *string        `json:"previous_response_id"`
	Temperature        float64        `json:"temperature"`
	ToolChoice         string         `json:"tool_choice"`
	Tools              []any          `json:"tools"`
	TopP               float64        `json:"top_p"`
	Usage              *responseUsage `json:"usage"`
	Metadata           struct{}       `json:"metadata"`
}

type outputItem struct {
	ID      string        `json:"id"`
	Type    string        `json:"type"`
	Status  string        `json:"status"`
	Role    string        `json:"role"`
	Content []outputsPart `json:"content"`
}

type outputsPart struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
}

type responseUsage struct {
	InputTokens         int            `json:"input_tokens"`
	InputTokensDetails  map[string]int `json:"input_tokens_details"`
	OutputTokens        int            `json:"output_tokens"`
	OutputTokensDetails map[string]int `json:"output_tokens_details"`
	TotalTokens         int            `json:"total_tokens"`
}

// responseEvent is one Responses stream event; fields a type does not use
// are omitted.
type responseEvent struct {
	Type           string       `json:"type"`
	SequenceNumber int          `json:"sequence_number"`
	Response       *response    `json:"response,omitempty"`
	OutputIndex    *int         `json:"output_index,omitempty"`
	ItemID         string       `json:"item_id,omitempty"`
	ContentIndex   *int         `json:"content_index,omitempty"`
	Item           *outputItem  `json:"item,omitempty"`
	Part           *outputsPart `json:"part,omitempty"`
	Delta          *string      `json:"delta,omitempty"`
	Text           *string      `json:"text,omitempty"`
	Logprobs       []any        `json:"logprobs,omitempty"`
}

// responses answers /v1/responses, as JSON or as a stream of named events
// ending with response.completed (no [DONE], like the API).
func (c *call) responses() {
	text, completion := c.answer(c.req.responsesInputText())
	u := c.usageFor(completion)
	itemID := "msg_fake_" + c.num()
	item := func(status, text string) outputItem {
		return outputItem{ID: itemID, Type: "message", Status: status, Role: "assistant", Content: []outputsPart{{Type: "output_text", Text: text, Annotations: []any{}}}}
	}
	resp := func(status string, output []outputItem, u *responseUsage) *response {
		return &response{
			ID: "resp_fake_" + c.num(), Object: "response", CreatedAt: created, Status: status,
			Model: c.req.Model, Output: output, ParallelToolCalls: true, Temperature: 1,
			ToolChoice: "auto", Tools: []any{}, TopP: 1, Usage: u,
		}
	}
	full := &responseUsage{
		InputTokens: u.prompt, InputTokensDetails: map[string]int{"cached_tokens": u.cached},
		OutputTokens: u.completion, OutputTokensDetails: map[string]int{"reasoning_tokens": 0},
		TotalTokens: u.prompt + u.completion,
	}
	if !c.req.Stream {
		c.writeJSON(200, resp("completed", []outputItem{item("completed", text)}, full))
		return
	}
	if c.k.noUsage {
		full = nil
	}
	zero := ptr(0)
	emptyItem := item("in_progress", "")
	emptyItem.Content = []outputsPart{}
	doneItem := item("completed", text)
	evs := []responseEvent{
		{Type: "response.created", Response: resp("in_progress", []outputItem{}, nil)},
		{Type: "response.in_progress", Response: resp("in_progress", []outputItem{}, nil)},
		{Type: "response.output_item.added", OutputIndex: zero, Item: &emptyItem},
		{Type: "response.content_part.added", ItemID: itemID, OutputIndex: zero, ContentIndex: zero, Part: &outputsPart{Type: "output_text", Annotations: []any{}}},
	}
	for _, p := range split(text, c.k.chunks) {
		evs = append(evs, responseEvent{Type: "response.output_text.delta", ItemID: itemID, OutputIndex: zero, ContentIndex: zero, Delta: ptr(p)})
	}
	evs = append(evs,
		responseEvent{Type: "response.output_text.done", ItemID: itemID, OutputIndex: zero, ContentIndex: zero, Text: ptr(text)},
		responseEvent{Type: "response.content_part.done", ItemID: itemID, OutputIndex: zero, ContentIndex: zero, Part: &doneItem.Content[0]},
		responseEvent{Type: "response.output_item.done", OutputIndex: zero, Item: &doneItem},
		responseEvent{Type: "response.completed", Response: resp("completed", []outputItem{doneItem}, full)},
	)
	events := make([]event, len(evs))
	for i, ev := range evs {
		ev.SequenceNumber = i
		events[i] = event{name: ev.Type, data: ev}
	}
	c.stream(events)
}
