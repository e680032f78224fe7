package redisstore

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
	ulule "github.com/ulule/limiter/v3"
	ululeredis "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/llmgate/caddy-llmgate/internal/redisclient"
)

// NewWindowStore returns a store of fixed-window counters in Redis for
// limiter zones of the fixed_window algorithm, keyed under the prefix and
// "rl:win:". ulule's Redis store loads its scripts when it is made, which
// would need Redis up; this one makes it at its first use instead, and
// again after a failure, so a gateway starts while Redis is away.
func NewWindowStore(rdb redis.UniversalClient, opts Options) ulule.Store {
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = redisclient.DefaultKeyPrefix
	}
	// ulule puts a colon between its prefix and the key.
	return &windowStore{rdb: rdb, prefix: opts.KeyPrefix + "rl:win"}
}

// windowStore makes ulule's Redis store on demand.
type windowStore struct {
	rdb    redis.UniversalClient
	prefix string
	// store holds ulule's store once made; mu serialises making it.
	store atomic.Value
	mu    sync.Mutex
}

// get returns ulule's store, made now if not yet.
func (w *windowStore) get() (ulule.Store, error) {
	if st, ok := w.store.Load().(ulule.Store); ok {
		return st, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if st, ok := w.store.Load().(ulule.Store); ok {
		return st, nil
	}
	st, err := ululeredis.NewStoreWithOptions(w.rdb, ulule.StoreOptions{Prefix: w.prefix})
	if err != nil {
		return nil, fmt.Errorf("redis window store: %w", err)
	}
	w.store.Store(st)
	return st, nil
}

// Get implements ulule.Store.
func (w *windowStore) Get(ctx context.Context, key string, rate ulule.Rate) (ulule.Context, error) {
	st, err := w.get()
	if err != nil {
		return ulule.Context{}, err
	}
	return st.Get(ctx, key, rate)
}

// Peek implements ulule.Store.
func (w *windowStore) Peek(ctx context.Context, key string, rate ulule.Rate) (ulule.Context, error) {
	st, err := w.get()
	if err != nil {
		return ulule.Context{}, err
	}
	return st.Peek(ctx, key, rate)
}

// Reset implements ulule.Store.
func (w *windowStore) Reset(ctx context.Context, key string, rate ulule.Rate) (ulule.Context, error) {
	st, err := w.get()
	if err != nil {
		return ulule.Context{}, err
	}
	return st.Reset(ctx, key, rate)
}

// Increment implements ulule.Store.
func (w *windowStore) Increment(ctx context.Context, key string, count int64, rate ulule.Rate) (ulule.Context, error) {
	st, err := w.get()
	if err != nil {
		return ulule.Context{}, err
	}
	return st.Increment(ctx, key, count, rate)
}
