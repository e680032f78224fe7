package limiter

import (
	"context"
	"sync"
	"time"
)

// MemoryOptions configures a MemoryStore.
type MemoryOptions struct {
	// MaxKeys bounds the number of keys held (each of the store's shards
	// holds its share); when full, a new key evicts the one closest to
	// draining among a few sampled. Default 2,000,000.
	MaxKeys int
	// SweepInterval is how often idle keys are removed; default 30s.
	SweepInterval time.Duration
	// Now is the clock; default time.Now. Only differences between its
	// readings are used, so a monotonic clock is best.
	Now func() time.Time
}

const (
	defaultMaxKeys       = 2_000_000
	defaultSweepInterval = 30 * time.Second
	// memShards spreads keys over independent locks.
	memShards = 256
	// evictSample is how many keys a full shard looks at to pick a victim.
	evictSample = 8
)

// MemoryStore is a BucketStore in process memory. It holds 16 bytes of key
// and 8 of state per key in sharded maps. A key whose bucket drained more
// than MaxSlack ago carries no information, so it is dropped by a periodic
// sweep; MaxKeys bounds the rest. Close stops the sweep.
type MemoryStore struct {
	shards  [memShards]memShard
	perMax  int
	now     func() time.Time
	base    time.Time
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// memShard is one lock and its map, padded to its own cache line.
type memShard struct {
	mu sync.Mutex
	// tats maps a key to its TAT in nanoseconds since the store's base.
	tats map[Key]int64
	// peak is the largest size since the map was last rebuilt: Go maps do
	// not shrink, so the sweep rebuilds one that has emptied out.
	peak int
	_    [40]byte
}

// NewMemoryStore returns a MemoryStore with its sweep running.
func NewMemoryStore(opts MemoryOptions) *MemoryStore {
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = defaultMaxKeys
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = defaultSweepInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &MemoryStore{
		perMax:  max(1, opts.MaxKeys/memShards),
		now:     opts.Now,
		base:    opts.Now(),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	for i := range s.shards {
		s.shards[i].tats = make(map[Key]int64)
	}
	go s.sweepEvery(opts.SweepInterval)
	return s
}

// Close stops the sweep and waits for it to end. The store stays usable.
func (s *MemoryStore) Close() error {
	s.once.Do(func() { close(s.stop) })
	<-s.stopped
	return nil
}

// Len returns the number of keys held.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.tats)
		sh.mu.Unlock()
	}
	return n
}

// clock returns the store's time in nanoseconds.
func (s *MemoryStore) clock() int64 { return int64(s.now().Sub(s.base)) }

func (s *MemoryStore) shard(k Key) *memShard { return &s.shards[k[0]] }

// lock locks the shard of key and returns it, the store's time, and the
// TAT of key, no earlier than now - slack: that floor stands for a bucket
// drained before it or a key the shard does not hold (which known tells).
// The caller unlocks the shard. The clock is read under the lock:
// decisions on one key then see time in the order they are made, as they
// would in one Redis script.
func (s *MemoryStore) lock(key Key, slack time.Duration) (sh *memShard, now, tat int64, known bool) {
	sh = s.shard(key)
	sh.mu.Lock()
	now = s.clock()
	floor := now - int64(slack)
	if tat, known = sh.tats[key]; !known || tat < floor {
		tat = floor
	}
	return sh, now, tat, known
}

// Take implements BucketStore.
func (s *MemoryStore) Take(_ context.Context, key Key, cost, limit, slack time.Duration) (Decision, error) {
	sh, now, tat, known := s.lock(key, slack)
	defer sh.mu.Unlock()
	d := Decision{Wait: time.Duration(max(tat-now, 0)), Backlog: time.Duration(tat - now + int64(cost))}
	if d.Backlog <= limit {
		d.Allowed = true
		if cost > 0 {
			sh.set(key, tat+int64(cost), now, known, s.perMax)
		}
	}
	return d, nil
}

// Adjust implements BucketStore.
func (s *MemoryStore) Adjust(_ context.Context, key Key, delta time.Duration) error {
	// A drained bucket has nothing to give back; debt counts from now.
	sh, now, tat, known := s.lock(key, 0)
	defer sh.mu.Unlock()
	// Debt saturates at the horizon rather than wrap around to an empty
	// bucket.
	if horizon := now + int64(maxHorizon); delta > 0 && tat > horizon-int64(delta) {
		tat, delta = horizon, 0
	}
	sh.set(key, tat+int64(delta), now, known, s.perMax)
	return nil
}

// Promise implements BucketStore.
func (s *MemoryStore) Promise(_ context.Context, key Key, after, cost, horizon time.Duration) (time.Duration, error) {
	sh, now, promised, known := s.lock(key, 0)
	defer sh.mu.Unlock()
	start := max(promised, now+int64(after))
	if start-now > int64(horizon) {
		return after, nil
	}
	sh.set(key, start+int64(cost), now, known, s.perMax)
	return time.Duration(start - now), nil
}

// set stores the TAT of key, which known says the shard holds already. A
// TAT not after now is a bucket emptied (by Adjust): the key is dropped
// instead, and reads as drained long ago.
func (sh *memShard) set(key Key, tat, now int64, known bool, perMax int) {
	if tat <= now {
		if known {
			delete(sh.tats, key)
		}
		return
	}
	if !known {
		sh.makeRoom(perMax, now)
	}
	sh.tats[key] = tat
	sh.peak = max(sh.peak, len(sh.tats))
}

// makeRoom evicts one key when the shard is full, preferring one it need
// not hold and otherwise the one with the least backlog among a random
// sample: that key loses the least by being forgotten.
func (sh *memShard) makeRoom(perMax int, now int64) {
	if len(sh.tats) < perMax {
		return
	}
	var victim Key
	least, seen := int64(0), 0
	for k, tat := range sh.tats { // map order is random: a fair sample
		if seen == 0 || tat < least {
			victim, least = k, tat
		}
		seen++
		if !held(least, now) || seen == evictSample {
			break
		}
	}
	delete(sh.tats, victim)
}

// held reports whether a key of TAT tat must be held at now: until
// MaxSlack after its TAT, a later charge's lateness credit counts from the
// TAT; after that, from now less the credit, as for a key not held.
func held(tat, now int64) bool { return tat > now-int64(MaxSlack) }

// sweepEvery runs sweep until Close.
func (s *MemoryStore) sweepEvery(interval time.Duration) {
	defer close(s.stopped)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			s.sweep()
		}
	}
}

// sweep drops the keys it need not hold, one shard at a time so requests
// on other shards never wait for it, and rebuilds maps that have shrunk to
// a quarter of their peak so their memory is returned.
func (s *MemoryStore) sweep() {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		now := s.clock()
		for k, tat := range sh.tats {
			if !held(tat, now) {
				delete(sh.tats, k)
			}
		}
		if n := len(sh.tats); sh.peak >= 1024 && n < sh.peak/4 {
			fresh := make(map[Key]int64, n)
			for k, tat := range sh.tats {
				fresh[k] = tat
			}
			sh.tats, sh.peak = fresh, n
		}
		sh.mu.Unlock()
	}
}
