package redisclient

import (
	"context"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"
)

// reloadHook has a cluster client reload its map of the slots when a
// command fails for want of its node. go-redis reloads the map on a MOVED
// reply and once a minute; but a primary that died answers nothing, so
// without this its promoted replica would get no request for up to a
// minute. Reloads are asynchronous and coalesced by go-redis: a burst of
// failures costs one CLUSTER SLOTS, and no request waits on it.
type reloadHook struct{ c *redis.ClusterClient }

// DialHook implements redis.Hook.
func (h reloadHook) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (h reloadHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.check(ctx, err)
		return err
	}
}

// ProcessPipelineHook implements redis.Hook.
func (h reloadHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.check(ctx, err)
		return err
	}
}

// check reloads the map after err when it says a node is gone: an error
// of the connection (refused, reset, timed out) rather than a reply, or
// the CLUSTERDOWN reply of a node that sees slots unserved.
func (h reloadHook) check(ctx context.Context, err error) {
	if err == nil || errors.Is(err, ErrBudgetSpent) {
		return
	}
	var reply redis.Error
	if errors.As(err, &reply) && !strings.HasPrefix(err.Error(), "CLUSTERDOWN") {
		return
	}
	h.c.ReloadState(ctx)
}
