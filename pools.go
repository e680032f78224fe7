package llmgate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/llmgate/caddy-llmgate/cache"
	"github.com/llmgate/caddy-llmgate/cache/redisstore"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
	"github.com/llmgate/caddy-llmgate/limiter"
	ulule "github.com/ulule/limiter/v3"
	ululemem "github.com/ulule/limiter/v3/drivers/store/memory"
)

// What outlives a config reload. A reload provisions the new config before
// it cleans up the old one, so what both use (a cache store of the same
// size, a zone with the same rates, a Redis server) is found in a pool
// under its key and kept, and is destroyed when the last config that
// holds it lets go. Each module that takes from a pool remembers the key
// and gives it back in its Cleanup.
var (
	// memoryPool holds the memory state: cache stores, rate-limit zones,
	// concurrency tables.
	memoryPool = caddy.NewUsagePool()
	// redisPool holds one Redis client (and connection pool) per server,
	// cluster or Sentinel setup.
	redisPool = caddy.NewUsagePool()
)

// memoryCacheStore returns the memory cache store of the size, and its key.
func memoryCacheStore(size int64) (*cache.MemoryStore, string, error) {
	key := "llm_cache.memory." + strconv.FormatInt(size, 10)
	v, _, err := memoryPool.LoadOrNew(key, func() (caddy.Destructor, error) {
		s, err := cache.NewMemoryStore(size)
		return pooledCache{s}, err
	})
	if err != nil {
		return nil, "", err
	}
	return v.(pooledCache).MemoryStore, key, nil
}

type pooledCache struct{ *cache.MemoryStore }

func (p pooledCache) Destruct() error {
	p.Close()
	return nil
}

// localCacheTier returns the local tier of size in front of the cache
// entries in Redis, whose client is the pool's redisKey, and its key. Its
// copies and its subscription to purges outlive reloads with it.
func localCacheTier(redisKey string, c *redisclient.Client, size int64) (*pooledTier, string, error) {
	key := "llm_cache.local." + strconv.FormatInt(size, 10) + "." + redisKey
	v, _, err := memoryPool.LoadOrNew(key, func() (caddy.Destructor, error) {
		mem, err := cache.NewMemoryStore(size)
		if err != nil {
			return nil, fmt.Errorf("local: %v", err)
		}
		shared := redisstore.New(c.Universal, redisstore.Options{KeyPrefix: c.Prefix})
		p := &pooledTier{
			TieredStore: cache.NewTieredStore(mem, shared, shared.Publish),
			mem:         mem,
			done:        make(chan struct{}),
		}
		var ctx context.Context
		ctx, p.stop = context.WithCancel(context.Background())
		go func() {
			defer close(p.done)
			shared.Listen(ctx, p.TieredStore)
		}()
		return p, nil
	})
	if err != nil {
		return nil, "", err
	}
	return v.(*pooledTier), key, nil
}

// pooledTier is a local tier and the listener that keeps it in step with
// the purges of every instance.
type pooledTier struct {
	*cache.TieredStore
	mem  *cache.MemoryStore
	stop context.CancelFunc
	done chan struct{}
}

func (p *pooledTier) Destruct() error {
	p.stop()
	<-p.done
	p.mem.Close()
	return nil
}

// memoryZone is the memory state of one rate-limit zone.
type memoryZone struct {
	buckets *limiter.MemoryStore
	windows ulule.Store
}

func (z *memoryZone) Destruct() error { return z.buckets.Close() }

// memoryZoneState returns the state of the zone id, holding at most
// maxKeys keys (0: the default), and its key.
func memoryZoneState(id string, maxKeys int) (*memoryZone, string, error) {
	key := "llm_ratelimit.memory." + strconv.Itoa(maxKeys) + "." + id
	v, _, err := memoryPool.LoadOrNew(key, func() (caddy.Destructor, error) {
		return &memoryZone{
			buckets: limiter.NewMemoryStore(limiter.MemoryOptions{MaxKeys: maxKeys}),
			windows: ululemem.NewStore(),
		}, nil
	})
	if err != nil {
		return nil, "", err
	}
	return v.(*memoryZone), key, nil
}

// inFlightTable returns the table of requests in flight of the zone name,
// which requests still running under the previous config share, and its
// key.
func inFlightTable(name string) (*limiter.InFlight, string) {
	key := "llm_ratelimit.inflight." + name
	v, _, _ := memoryPool.LoadOrNew(key, func() (caddy.Destructor, error) {
		return pooledInFlight{limiter.NewInFlight()}, nil
	})
	return v.(pooledInFlight).InFlight, key
}

type pooledInFlight struct{ *limiter.InFlight }

func (pooledInFlight) Destruct() error { return nil }

// redisClient returns the client of Redis at url in mode, and its key.
func redisClient(mode redisclient.Mode, url string) (*redisclient.Client, string, error) {
	key := mode.String() + "." + url
	v, _, err := redisPool.LoadOrNew(key, func() (caddy.Destructor, error) {
		c, err := redisclient.Open(mode, url, redisclient.Options{})
		return pooledRedis{c}, err
	})
	if err != nil {
		return nil, "", err
	}
	return v.(pooledRedis).Client, key, nil
}

type pooledRedis struct{ *redisclient.Client }

func (p pooledRedis) Destruct() error { return p.Close() }

// release gives back what a module took from pool under keys.
func release(pool *caddy.UsagePool, keys ...string) error {
	var errs []error
	for _, k := range keys {
		if _, err := pool.Delete(k); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// What the loaded configs use, for the admin API and the metrics, which
// look across configs.
var (
	liveCaches   live[cache.Admin, cacheInfo]
	liveMemory   live[*cache.MemoryStore, *cache.MemoryStore]
	liveLimiters live[*limiter.Limiter, *limiter.Limiter]
)

// live holds what the loaded configs use. A value stays while some config
// holds it: a reload adds the new config's before it removes the old
// one's.
type live[K comparable, V any] struct {
	mu   sync.Mutex
	refs map[K]int
	vals map[K]V
}

func (l *live[K, V]) add(k K, v V) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refs == nil {
		l.refs, l.vals = map[K]int{}, map[K]V{}
	}
	l.refs[k]++
	l.vals[k] = v
}

func (l *live[K, V]) remove(k K) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refs[k]--; l.refs[k] <= 0 {
		delete(l.refs, k)
		delete(l.vals, k)
	}
}

// list returns the values held now.
func (l *live[K, V]) list() []V {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Collect(maps.Values(l.vals))
}
