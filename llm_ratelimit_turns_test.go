package llmgate_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness"
	"github.com/llmgate/caddy-llmgate/limiter"
	"github.com/openai/openai-go/v3/option"
)

// TestRateLimitSDKBurstTakesTurns: N clients of one key call at once
// against 2/s with a burst of 1, each with the SDK's default retries. Each
// refusal is told its own turn, so every client gets through on the
// retries it has, and the bucket never admits above its rate. (Told one
// moment for all, the waiting clients woke together and all but one were
// refused again: half of them failed.)
func TestRateLimitSDKBurstTakesTurns(t *testing.T) {
	for _, n := range []int{6, 20} {
		t.Run(fmt.Sprint(n, " clients"), func(t *testing.T) {
			site, up := limitSite(t, fmt.Sprintf("zone turns_%d { \n requests 2/s \n burst 1 \n }", harness.FreePort(t)))
			var (
				mu       sync.Mutex
				answered []time.Duration // when each 200 arrived, from the start
				refused  int
			)
			start := time.Now()
			record := option.WithMiddleware(func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
				resp, err := next(r)
				if err == nil {
					mu.Lock()
					switch resp.StatusCode {
					case http.StatusOK:
						answered = append(answered, time.Since(start))
					case http.StatusTooManyRequests:
						refused++
					}
					mu.Unlock()
				}
				return resp, err
			})
			c := sdk(site, "sk-test-turns-"+site, record)
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					if _, err := c.Chat.Completions.New(context.Background(), chat("gpt-4o-mini", fmt.Sprint("turn ", i))); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("a client failed: %v", err)
			}
			if up.Calls() != n {
				t.Errorf("upstream calls %d, want %d", up.Calls(), n)
			}
			// An answer at time t was admitted by then: at most the burst
			// and the rate's share of t and of the lateness credit.
			for i, at := range answered {
				if bound := 1 + int(2*(at+limiter.MaxSlack).Seconds()); i+1 > bound {
					t.Errorf("%d answers by %s: above the rate (at most %d)", i+1, at, bound)
				}
			}
			t.Logf("%d clients: %d refusals retried, last answer after %s", n, refused, answered[len(answered)-1])
		})
	}
}
