package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/cache"
)

// Purges go from instance to instance on a pub/sub channel under the key
// prefix (llmgate:cache:purge): "*" for every entry, "model:<name>" for
// the entries of one model.
const (
	purgeAll   = "*"
	purgeModel = "model:"
)

// How a listener knows it still hears the channel: with nothing to read
// for listenTick it pings the server, and without any answer for
// listenDeaf it takes itself for deaf and subscribes again.
const (
	listenTick = 250 * time.Millisecond
	listenDeaf = time.Second
)

// Listener is told of the purges published on the store's channel.
type Listener interface {
	// Invalidate is called with each purge published.
	Invalidate(cache.Invalidation)
	// Listening is called with true once the subscription holds, and with
	// false when it breaks: purges published meanwhile are lost.
	Listening(bool)
}

// Publish tells every instance listening on the store's channel of a purge.
func (s *Store) Publish(ctx context.Context, inv cache.Invalidation) error {
	msg := purgeAll
	if !inv.All {
		msg = purgeModel + inv.Model
	}
	if err := s.rdb.Publish(ctx, s.channel(), msg).Err(); err != nil {
		return fmt.Errorf("redis cache store: publish purge: %w", err)
	}
	return nil
}

// Listen tells l of the purges published on the store's channel until ctx
// ends, subscribing again whenever the subscription breaks.
func (s *Store) Listen(ctx context.Context, l Listener) {
	for ctx.Err() == nil {
		s.listen(ctx, l)
		// Not in a tight loop against a server that is down.
		select {
		case <-ctx.Done():
		case <-time.After(listenTick):
		}
	}
}

// listen follows one subscription until it breaks or ctx ends. l hears
// Listening(false) when it was listening.
func (s *Store) listen(ctx context.Context, l Listener) {
	ps := s.rdb.Subscribe(ctx, s.channel())
	defer ps.Close()
	// A read in progress ends only when the connection closes.
	defer context.AfterFunc(ctx, func() { _ = ps.Close() })()
	listening := false
	defer func() {
		if listening {
			l.Listening(false)
		}
	}()
	heard := time.Now()
	for ctx.Err() == nil {
		m, err := ps.ReceiveTimeout(ctx, listenTick)
		var ne net.Error
		switch {
		case err == nil:
			heard = time.Now()
		case errors.As(err, &ne) && ne.Timeout() && time.Since(heard) < listenDeaf:
			// Quiet: the pong proves the connection carries messages.
			if ps.Ping(ctx) != nil {
				return
			}
			continue
		default:
			return
		}
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && !listening {
				listening = true
				l.Listening(true)
			}
		case *redis.Message:
			if inv, ok := parsePurge(m.Payload); ok {
				l.Invalidate(inv)
			}
		}
	}
}

// parsePurge reads a message of the channel.
func parsePurge(msg string) (cache.Invalidation, bool) {
	if msg == purgeAll {
		return cache.Invalidation{All: true}, true
	}
	model, ok := strings.CutPrefix(msg, purgeModel)
	return cache.Invalidation{Model: model}, ok
}

// channel is the pub/sub channel of purges.
func (s *Store) channel() string { return s.prefix + "purge" }

// Interface guard
var _ Listener = (*cache.TieredStore)(nil)
