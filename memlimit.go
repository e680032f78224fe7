package llmgate

import (
	"os"
	"runtime/debug"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/llmgate/caddy-llmgate/cache"
	"go.uber.org/zap"
)

// The Go runtime lets its heap grow to twice what is live before it
// collects (GOGC=100), so a full 256MiB memory cache would have the
// process reach 600–700MB. Unless the operator chose a limit (GOMEMLIMIT),
// llmgate gives the runtime a soft memory limit of what the loaded memory
// stores may hold plus a third and 64MiB for the rest of the server: the
// runtime collects more often near it rather than doubling. It only ever
// lowers the limit Caddy set at start (from the cgroup or the machine),
// and gives that back when no memory store is loaded.
var softLimit struct {
	sync.Mutex
	base int64 // the limit before llmgate's
	set  int64 // the limit llmgate set last; 0: none
}

// holdMemory counts m among the memory stores the loaded configs use.
func holdMemory(m *cache.MemoryStore) {
	liveMemory.add(m, m)
	limitMemory()
}

// releaseMemory takes back a holdMemory.
func releaseMemory(m *cache.MemoryStore) {
	liveMemory.remove(m)
	limitMemory()
}

// limitMemory sets the soft memory limit for the memory stores loaded now.
func limitMemory() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	var held int64
	for _, m := range liveMemory.list() {
		held += m.MaxSize()
	}
	softLimit.Lock()
	defer softLimit.Unlock()
	now := debug.SetMemoryLimit(-1)
	if softLimit.set == 0 || now != softLimit.set {
		softLimit.base = now // Caddy's, or someone's since
	}
	want := softLimit.base
	if held > 0 {
		want = min(want, memoryLimitFor(held))
	}
	if want == now {
		return
	}
	debug.SetMemoryLimit(want)
	softLimit.set = want
	log := caddy.Log().Named("llm_cache")
	if held == 0 {
		log.Info("soft memory limit given back: no memory cache is loaded", zap.Int64("limit_bytes", want))
		return
	}
	log.Info("soft memory limit for the memory caches (set GOMEMLIMIT to choose it)",
		zap.Int64("limit_bytes", want), zap.Int64("max_size_bytes", held))
}

// memoryLimitFor is the soft memory limit for memory stores holding held
// bytes at most.
func memoryLimitFor(held int64) int64 { return held + held/3 + 64<<20 }
