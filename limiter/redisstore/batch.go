package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/limiter"
)

// AdjustMany implements limiter.BatchStore: the adjusts go in one
// pipeline, one round trip (on a cluster, one to each node that holds
// some, at once), each its own script run on its own key.
func (s *Store) AdjustMany(ctx context.Context, adjusts []limiter.BatchAdjust) error {
	cmds := s.pipelined(ctx, adjustScript, len(adjusts), func(i int) ([]string, []any) {
		return []string{s.redisKey(adjusts[i].Key)}, s.args(int64(adjusts[i].Delta))
	})
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return fmt.Errorf("redis rate-limit store: adjust: %w", err)
		}
	}
	return nil
}

// pipelined runs script n times in one pipeline, run i on the keys and with
// the arguments call(i) gives, and returns the runs' commands. Runs go by
// the script's hash; those the server did not know it for (after a
// restart, or on a node new to it) did nothing, and go again with the
// script's text, which loads it: a second round trip, once a server.
func (s *Store) pipelined(ctx context.Context, script *redis.Script, n int, call func(i int) ([]string, []any)) []*redis.Cmd {
	cmds := make([]*redis.Cmd, n)
	// Each command carries its own error, the pipeline's included.
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range cmds {
			keys, args := call(i)
			cmds[i] = script.EvalSha(ctx, p, keys, args...)
		}
		return nil
	})
	var missing []int
	for i, cmd := range cmds {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range missing {
				keys, args := call(i)
				cmds[i] = script.Eval(ctx, p, keys, args...)
			}
			return nil
		})
	}
	return cmds
}

// decisions reads a run of takeScript into the Decisions of takes, its
// keys' takes in order.
func decisions(cmd *redis.Cmd, takes []limiter.BatchTake) error {
	res, err := cmd.Int64Slice()
	if err != nil {
		return err
	}
	if len(res) != 3*len(takes) {
		return fmt.Errorf("script returned %d values for %d takes", len(res), len(takes))
	}
	for i := range takes {
		v := res[3*i:]
		takes[i].Decision = limiter.Decision{
			Allowed: v[0] == 1,
			Wait:    time.Duration(v[1]),
			Backlog: time.Duration(v[2]),
		}
	}
	return nil
}

// Interface guard.
var _ limiter.BatchStore = (*Store)(nil)
