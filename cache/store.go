package cache

import (
	"context"
	"errors"
	"time"
)

// Entry is one stored answer.
type Entry struct {
	// Key is the key the entry was stored under; a lookup checks it, so a
	// store-level hash collision can never serve another request's answer.
	Key Key
	// ContentType of the answer, e.g. application/json.
	ContentType string
	// Header holds the upstream's headers that describe the answer and
	// stay true when it is replayed.
	Header Header
	// Body of the answer, complete and not content-encoded.
	Body []byte
	// Model is the request's model, kept as a label (TTL, metrics, purge).
	Model string
	// Stored is when the answer was stored; Expires is when it stops being served.
	Stored, Expires time.Time
	// Local is set on the copy a TieredStore keeps in the instance's
	// memory: a hit on it says so in its Cache-Status (detail=local).
	Local bool
}

// Header holds the values of the headers of Described an answer had, in
// Described's order: nil where it had none. An array, which an Entry
// holds without an allocation of its own.
type Header [len(shared) - numHow][]string

// Store holds entries. Implementations must be safe for concurrent use.
type Store interface {
	// Get returns the entry stored under k, or nil when there is none.
	// Each call returns an Entry of its own: the caller may change its
	// Header; its Body is read-only.
	Get(ctx context.Context, k Key) (*Entry, error)
	// Set stores e under k until e.Expires. When Set returns nil, a Get
	// of the same key finds the entry; when the store chose not to keep
	// it, Set returns ErrNotKept. Set keeps nothing of e once it returns
	// (it copies what it stores): the caller may reuse e and its Body.
	Set(ctx context.Context, k Key, e *Entry) error
}

// ErrNotKept is what Store.Set returns for an entry the store chose not
// to keep, such as one already expired or one larger than a memory store
// takes: not a failure, but the answer is not stored.
var ErrNotKept = errors.New("entry not kept")

// Stats is what a store holds.
type Stats struct {
	// Entries is the number of entries.
	Entries int64 `json:"entries"`
	// Bytes is their size.
	Bytes int64 `json:"bytes"`
}

// Admin is implemented by stores that can report and drop what they
// hold, for an admin API.
type Admin interface {
	Stats(ctx context.Context) (Stats, error)
	// Purge drops every entry.
	Purge(ctx context.Context) error
	// PurgeModel drops the entries of one model.
	PurgeModel(ctx context.Context, model string) error
}

// Bounded is implemented by stores that cannot hold an entry over a size,
// such as a memory store smaller than an answer. The cache does not keep
// a larger answer: it passes it on, as one over max_response.
type Bounded interface {
	// MaxEntry returns the most bytes one entry may take in its byte
	// form, as EntryLen counts them.
	MaxEntry() int64
}

// StoreError is a failure of the store during Serve.
type StoreError struct {
	// Op is what failed: "lookup" or "store".
	Op  string
	Err error
}

func (e *StoreError) Error() string { return "cache " + e.Op + ": " + e.Err.Error() }

func (e *StoreError) Unwrap() error { return e.Err }
