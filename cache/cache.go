package cache

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/chain"
	"github.com/llmgate/caddy-llmgate/llmreq"
	"github.com/llmgate/caddy-llmgate/sse"
)

// Next is the rest of the handler chain. Errors it returns are passed back
// to the caller unchanged (Caddy handlers report failures that way); a
// caddyhttp.Handler is a Next as it is.
type Next = chain.Next

// Cache is a response cache for LLM API requests.
type Cache struct {
	ttl         time.Duration
	modelTTL    []modelTTL
	maxBody     int64
	maxResponse int64
	// maxEntry is what the store can hold of one entry (see Bounded); 0
	// when it does not say.
	maxEntry  int64
	ignore    []string
	paths     map[string]bool
	partition func(*http.Request) (string, error)
	store     Store
	ownStore  *MemoryStore
	onError   func(error)
	coalesce  bool
	flights   flights
	report    func(*http.Request, Result)
	memo      func(*http.Request) *llmreq.Memo
}

type modelTTL struct {
	pattern string
	ttl     time.Duration
}

// New returns a Cache configured by cfg, with defaults for zero values.
func New(cfg Config) (*Cache, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cache{
		ttl:         orDefault(time.Duration(cfg.TTL), DefaultTTL),
		maxBody:     orDefault(int64(cfg.MaxBody), DefaultMaxBody),
		maxResponse: orDefault(int64(cfg.MaxResponse), DefaultMaxResponse),
		ignore:      cfg.IgnoreFields,
		paths:       map[string]bool{},
		store:       cfg.Store,
		onError:     cfg.OnError,
		coalesce:    cfg.Coalesce == nil || *cfg.Coalesce,
		flights:     flights{m: map[Key]*flight{}},
		report:      cfg.Report,
		memo:        cfg.Memo,
	}
	for m, d := range cfg.ModelTTL {
		c.modelTTL = append(c.modelTTL, modelTTL{m, time.Duration(d)})
	}
	// The most specific (longest) pattern wins; a name without wildcards
	// is the pattern of itself.
	sort.Slice(c.modelTTL, func(i, j int) bool {
		a, b := c.modelTTL[i].pattern, c.modelTTL[j].pattern
		return len(a) > len(b) || len(a) == len(b) && a < b
	})
	paths := cfg.Paths
	if len(paths) == 0 {
		paths = DefaultPaths
	}
	for _, p := range paths {
		c.paths[p] = true
	}
	switch cfg.Scope {
	case "", ScopeKey:
		c.partition = byCredential
	case ScopeShared:
		c.partition = func(*http.Request) (string, error) { return "", nil }
	default:
		partition := cfg.Partition
		c.partition = func(r *http.Request) (string, error) { return partition(r), nil }
	}
	if c.onError == nil {
		c.onError = func(error) {}
	}
	if c.store == nil {
		m, err := NewMemoryStore(DefaultMaxSize)
		if err != nil {
			return nil, err
		}
		c.store, c.ownStore = m, m
	}
	if b, ok := c.store.(Bounded); ok {
		c.maxEntry = b.MaxEntry()
	}
	return c, nil
}

// errNoCredential is the partition error of a request without a
// credential under scope key.
var errNoCredential = errors.New("no credential")

// byCredential is the partition of scope key: the caller's credential
// (llmreq.Credential). A request without one is nobody's, so its answer
// is shared with nobody: it is not cached.
func byCredential(r *http.Request) (string, error) {
	cred, err := llmreq.Credential(r)
	if err == nil && cred == "" {
		err = errNoCredential
	}
	return cred, err
}

// Close releases the memory store New made when Config.Store was nil.
func (c *Cache) Close() {
	if c.ownStore != nil {
		c.ownStore.Close()
	}
}

// Middleware returns next wrapped by the cache, for plain net/http servers.
func (c *Cache) Middleware(next http.Handler) http.Handler {
	n := chain.Plain{Handler: next}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = c.Serve(w, r, n)
	})
}

// Serve answers r from the cache, or passes it to next and stores the
// answer when it may. Config.Report is told what it did.
func (c *Cache) Serve(w http.ResponseWriter, r *http.Request, next Next) error {
	rep := reporter{report: c.report, r: r}
	// Deferred, so that an answer next abandons by panicking is reported
	// too.
	defer rep.done()
	switch {
	case r.Method != http.MethodPost:
		return bypass(w, r, next, &rep, detailMethod)
	case !c.paths[r.URL.Path]:
		return bypass(w, r, next, &rep, detailPath)
	}
	ctl := parseControl(r.Header)
	if ctl.noStore {
		return bypass(w, r, next, &rep, detailNoStore)
	}
	partition, err := c.partition(r)
	switch {
	case errors.Is(err, errNoCredential):
		return bypass(w, r, next, &rep, detailNoCredential)
	case llmreq.WriteRefusal(w, r, err):
		return nil
	}
	q, err := llmreq.MemoOf(r, c.memo).Inspect(r, c.maxBody)
	switch {
	case errors.Is(err, llmreq.ErrTooLarge):
		return bypass(w, r, next, &rep, detailTooLarge)
	case errors.Is(err, llmreq.ErrNotJSON):
		return bypass(w, r, next, &rep, detailNotJSON)
	case err != nil:
		// The body replays what was read, then the same error: the next
		// handler meets the failure exactly as it would without the cache.
		return bypass(w, r, next, &rep, detailRead)
	}
	key := NewKey(r, partition, q, c.ignore)
	fwd := fwdRequest
	if !ctl.noCache {
		fwd = fwdMiss
		// An answer on its way is fresher than any stored one.
		if c.coalesce {
			if f, fo := c.flights.find(key); fo != nil {
				return c.follow(w, r, next, &rep, f, fo, key, q, fwd)
			}
		}
		now := time.Now()
		e, err := c.store.Get(r.Context(), key)
		if err != nil {
			c.onError(&StoreError{Op: "lookup", Err: err})
		}
		if e != nil && now.Before(e.Expires) {
			if ctl.maxAge < 0 || now.Sub(e.Stored) <= ctl.maxAge {
				rep.decide(Hit, "", e)
				replay(w, r, e, now)
				return nil
			}
			fwd = fwdStale
		}
	}
	if !c.coalesce {
		return c.lead(w, r, next, &rep, newFlight(c.maxResponse, false), key, q, fwd)
	}
	// A request with no-cache wants an answer that starts after it:
	// it never follows, though others may follow it.
	f, fo := c.flights.join(key, !ctl.noCache, c.maxResponse)
	if fo != nil {
		return c.follow(w, r, next, &rep, f, fo, key, q, fwd)
	}
	return c.lead(w, r, next, &rep, f, key, q, fwd)
}

// lead passes r on, sends the answer to its client and to the flight's
// followers as it comes, and stores a complete, storable answer.
//
// A stream is stored the moment its terminal event arrives, before that
// event reaches any client: clients (the OpenAI SDKs among them) stop
// reading at the terminal event, and the identical request they may send
// next must find the entry. Whatever follows (the upstream closing, or
// the client closing first and the call being given up) does not undo a
// complete stream.
func (c *Cache) lead(w http.ResponseWriter, r *http.Request, next Next, rep *reporter, f *flight, key Key, q *llmreq.Request, fwd string) error {
	rep.decide(Miss, "", nil)
	// A stored answer must suit every client, so ask for it unencoded;
	// Caddy's encode handler (or the transport) compresses per client.
	r.Header.Del("Accept-Encoding")
	// The answer is stored, and the call made for the followers, even
	// when the client leaves: both run in r's context without its end.
	detached := context.WithoutCancel(r.Context())
	cw := &f.leader
	*cw = capture{ResponseWriter: w, f: f, fwd: fwd, max: c.maxResponse, room: -1,
		cache: c, ctx: detached, entry: Entry{Key: key, Model: q.Model}}
	if c.maxEntry > 0 {
		cw.room = c.maxEntry
	}
	up := r
	if f.registered {
		// The upstream call serves the followers too: it must outlive the
		// leader's client, and end when nobody listens anymore.
		ctx, cancel := context.WithCancel(detached)
		defer cancel()
		f.mu.Lock()
		f.cancel = cancel
		f.mu.Unlock()
		defer context.AfterFunc(r.Context(), func() { f.leave(nil) })()
		up = r.WithContext(ctx)
		defer c.flights.remove(key, f)
	}
	finished := false
	defer func() {
		// Set here, not as the stream is stored, so that rep stays on
		// Serve's stack.
		rep.res.Stored = rep.res.Stored || cw.stored
		if !finished {
			// next panicked, as a reverse proxy does when an answer
			// breaks off: no follower may wait for more, and only a
			// stream past its terminal event is whole.
			f.finish(cw.ending == sse.Clean, nil)
		}
	}()
	err := next.ServeHTTP(cw, up)
	// A call given up for want of listeners may end without an error,
	// but not whole.
	f.finish(err == nil && up.Context().Err() == nil || cw.ending == sse.Clean, err)
	finished = true
	if err == nil && !cw.stream && cw.complete() {
		// An answer of the length it announced is whole; one without a
		// length is proven whole only by parsing (a handler may end early
		// without an error). Parsing costs more than the rest of a miss.
		if body := f.body(); cw.length >= 0 || json.Valid(body) {
			rep.res.Stored = c.put(detached, cw, body)
		}
	}
	return err
}

// put stores the answer cw captured, whose bytes are body, and reports
// whether it did. ctx must not end with the client that asked for it: the
// answer is stored all the same.
func (c *Cache) put(ctx context.Context, cw *capture, body []byte) bool {
	if body == nil {
		return false // bytes were dropped: not whole
	}
	now := time.Now()
	e := &cw.entry
	e.Body, e.Stored, e.Expires = body, now, now.Add(c.ttlFor(e.Model))
	err := c.store.Set(ctx, e.Key, e)
	if err != nil && !errors.Is(err, ErrNotKept) {
		c.onError(&StoreError{Op: "store", Err: err})
	}
	return err == nil
}

// follow answers r from a flight it joined, or, when the flight cannot give
// it the whole answer, from an upstream call of its own.
func (c *Cache) follow(w http.ResponseWriter, r *http.Request, next Next, rep *reporter, f *flight, fo *follower, key Key, q *llmreq.Request, fwd string) error {
	rep.decide(Coalesced, "", nil)
	retry, err := f.serve(w, r, fo, fwd)
	if retry {
		return c.lead(w, r, next, rep, newFlight(c.maxResponse, false), key, q, fwd)
	}
	return err
}

func (c *Cache) ttlFor(model string) time.Duration {
	for _, m := range c.modelTTL {
		if llmreq.MatchModel(m.pattern, model) {
			return m.ttl
		}
	}
	return c.ttl
}

// replay writes a stored answer. It carries a request id of its own
// (x-request-id, and Anthropic's request-id on Anthropic requests), so
// that a replay can be told from the call that made the answer and from
// other replays.
func replay(w http.ResponseWriter, r *http.Request, e *Entry, now time.Time) {
	h := w.Header()
	// The values that vary are written into one string, and the five
	// share one backing array, as net/http does for the headers it reads:
	// two allocations instead of six.
	var buf [128]byte
	b := strconv.AppendInt(buf[:0], int64(len(e.Body)), 10)
	length := len(b)
	b = strconv.AppendInt(b, int64(now.Sub(e.Stored)/time.Second), 10)
	age := len(b)
	b = appendHitStatus(b, int64(e.Expires.Sub(now)/time.Second), e.Local)
	status := len(b)
	b = appendRequestID(b)
	varying := string(b)
	vals := [...]string{e.ContentType, varying[:length], varying[length:age], varying[age:status], varying[status:]}
	all := vals[:]
	h["Content-Type"], h["Content-Length"], h["Age"], h[statusHeader] = all[0:1:1], all[1:2:2], all[2:3:3], all[3:4:4]
	h["X-Request-Id"] = all[4:5:5]
	if llmreq.DialectOf(r) == llmreq.Anthropic {
		h["Request-Id"] = all[4:5:5]
	}
	for i, v := range e.Header {
		if len(v) > 0 {
			h[Described[i]] = v // the hit's own: each Get reads its entry anew
		}
	}
	w.WriteHeader(http.StatusOK)
	// A client that left cannot be answered; there is nothing to report.
	_, _ = w.Write(e.Body)
}

// appendRequestID appends a new id for a replayed answer: unique, not
// secret.
func appendRequestID(b []byte) []byte {
	b = append(b, "llmgate-"...)
	return strconv.AppendUint(b, rand.Uint64()|1<<63, 16)
}

func bypass(w http.ResponseWriter, r *http.Request, next Next, rep *reporter, detail string) error {
	rep.decide(Bypass, detail, nil)
	w.Header().Set(statusHeader, bypassStatus(detail))
	return next.ServeHTTP(w, r)
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
