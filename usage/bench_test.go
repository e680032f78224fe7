package usage

import (
	"strings"
	"testing"
)

// answer4K is a chat completion of about 4 KiB whose usage comes last, as
// OpenAI sends it.
var answer4K = func() []byte {
	text := strings.Repeat(`The quick brown fox jumps over the lazy dog; \"usage\" is just a word here.\n`, 46)
	return []byte(`{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion","created":1741570283,"model":"gpt-4o-2024-08-06",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"` + text + `","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":1117,"completion_tokens":946,"total_tokens":2063,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},` +
		`"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},` +
		`"service_tier":"default","system_fingerprint":"fp_fc9f1d7035"}`)
}()

func BenchmarkFromJSON(b *testing.B) {
	b.SetBytes(int64(len(answer4K)))
	b.ReportAllocs()
	for b.Loop() {
		if u, ok := FromJSON(answer4K); !ok || u.Total != 2063 {
			b.Fatal(u, ok)
		}
	}
}

// BenchmarkStream feeds a stream of 200 events: 198 text deltas, the
// events that open and close the answer, and its usage.
func BenchmarkStream(b *testing.B) {
	type event struct {
		name string
		data []byte
	}
	streams := map[string][]event{}
	openai := []event{{"", []byte(chatRole.data)}}
	for range 197 {
		openai = append(openai, event{"", []byte(chatHello.data)})
	}
	streams["openai"] = append(openai, event{"", []byte(chatUsage.data)}, event{"", []byte(chatDone.data)})
	anthropic := []event{{antStart.name, []byte(antStart.data)}}
	for range 197 {
		anthropic = append(anthropic, event{antText1.name, []byte(antText1.data)})
	}
	streams["anthropic"] = append(anthropic, event{antDelta.name, []byte(antDelta.data)}, event{antEnd.name, []byte(antEnd.data)})
	for name, events := range streams {
		b.Run(name, func(b *testing.B) {
			size := 0
			for _, ev := range events {
				size += len(ev.data)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				s := Stream{Prompt: 100}
				for _, ev := range events {
					s.Event(ev.name, ev.data)
				}
				if _, exact := s.Usage(); !exact {
					b.Fatal("usage not found")
				}
			}
		})
	}
}

// BenchmarkAnswer reads the usage at the end of a 1 MiB answer fed in
// pieces of 32 KiB, as a proxy copies it.
func BenchmarkAnswer(b *testing.B) {
	answer := []byte(`{"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		strings.Repeat(`word \"quoted\" `, 1<<20/16) + `"}}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(answer)))
	for b.Loop() {
		a := NewAnswer(0)
		for p := answer; len(p) > 0; {
			k := min(32<<10, len(p))
			_, _ = a.Write(p[:k])
			p = p[k:]
		}
		if _, ok := a.Usage(); !ok {
			b.Fatal("no usage")
		}
	}
}
