package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/limiter"
)

// TakeMany implements limiter.BatchStore: the takes go in one pipeline,
// one round trip (on a cluster, one to each node that holds some, at
// once), each its own script run on its own key.
func (s *Store) TakeMany(ctx context.Context, takes []limiter.BatchTake) error {
	cmds := s.pipelined(ctx, takeScript, len(takes), func(i int) (string, []any) {
		return s.redisKey(takes[i].Key), s.args(int64(takes[i].Cost), int64(takes[i].Limit), int64(takes[i].Slack))
	})
	var first error
	for i, cmd := range cmds {
		var err error
		if takes[i].Decision, err = decision(cmd); err != nil && first == nil {
			first = fmt.Errorf("redis rate-limit store: take: %w", err)
		}
	}
	return first
}

// AdjustMany implements limiter.BatchStore, in one pipeline as TakeMany.
func (s *Store) AdjustMany(ctx context.Context, adjusts []limiter.BatchAdjust) error {
	cmds := s.pipelined(ctx, adjustScript, len(adjusts), func(i int) (string, []any) {
		return s.redisKey(adjusts[i].Key), s.args(int64(adjusts[i].Delta))
	})
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return fmt.Errorf("redis rate-limit store: adjust: %w", err)
		}
	}
	return nil
}

// pipelined runs script n times in one pipeline, run i on the key and with
// the arguments call(i) gives, and returns the runs' commands. Runs go by
// the script's hash; those the server did not know it for (after a
// restart, or on a node new to it) did nothing, and go again with the
// script's text, which loads it: a second round trip, once a server.
func (s *Store) pipelined(ctx context.Context, script *redis.Script, n int, call func(i int) (string, []any)) []*redis.Cmd {
	cmds := make([]*redis.Cmd, n)
	// Each command carries its own error, the pipeline's included.
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range cmds {
			key, args := call(i)
			cmds[i] = script.EvalSha(ctx, p, []string{key}, args...)
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
				key, args := call(i)
				cmds[i] = script.Eval(ctx, p, []string{key}, args...)
			}
			return nil
		})
	}
	return cmds
}

// decision reads a run of takeScript.
func decision(cmd *redis.Cmd) (limiter.Decision, error) {
	res, err := cmd.Int64Slice()
	if err != nil {
		return limiter.Decision{}, err
	}
	if len(res) != 3 {
		return limiter.Decision{}, fmt.Errorf("script returned %d values, want 3", len(res))
	}
	return limiter.Decision{
		Allowed: res[0] == 1,
		Wait:    time.Duration(res[1]),
		Backlog: time.Duration(res[2]),
	}, nil
}

// Interface guard.
var _ limiter.BatchStore = (*Store)(nil)
