package cache

import "strconv"

// Cache-Status values (RFC 9211) that llmgate sends. The cache names
// itself "llmgate".
const (
	statusHeader = "Cache-Status"
	statusPrefix = "llmgate; "
)

// Reasons for a bypass, sent as the Cache-Status detail.
const (
	detailMethod   = "method"
	detailPath     = "path"
	detailNoStore  = "no-store"
	detailTooLarge = "too-large"
	detailNotJSON  = "not-json"
	detailRead     = "read-error"
	// A request without a credential under scope key is nobody's: its
	// answer may not be shared.
	detailNoCredential = "no-credential"
)

// Reasons for forwarding a request the cache handles (RFC 9211 fwd).
const (
	fwdMiss    = "miss"
	fwdRequest = "request" // the request asked for a fresh answer (no-cache)
	fwdStale   = "stale"   // the entry was older than the request's max-age
)

// appendHitStatus appends the Cache-Status of a hit with ttl seconds left;
// a hit on a TieredStore's copy in memory adds "; detail=local".
func appendHitStatus(b []byte, ttl int64, local bool) []byte {
	b = append(b, statusPrefix+"hit; ttl="...)
	b = strconv.AppendInt(b, ttl, 10)
	if local {
		b = append(b, "; detail=local"...)
	}
	return b
}

func bypassStatus(detail string) string {
	return statusPrefix + "fwd=bypass; detail=" + detail
}

// forwardStatus is the Cache-Status of a request the cache forwarded. It
// says nothing of storing: it leaves before the answer is known whole and
// stored (RFC 9211's "stored" would be a promise the store may not keep);
// Config.Report tells that. A request that shared another's upstream call
// adds "; collapsed".
func forwardStatus(fwd string, status int) string {
	if status == 200 {
		// The common values are constants: a miss allocates nothing here.
		switch fwd {
		case fwdMiss:
			return statusPrefix + "fwd=" + fwdMiss
		case fwdRequest:
			return statusPrefix + "fwd=" + fwdRequest
		case fwdStale:
			return statusPrefix + "fwd=" + fwdStale
		}
	}
	s := statusPrefix + "fwd=" + fwd
	if status != 200 {
		s += "; fwd-status=" + strconv.Itoa(status)
	}
	return s
}
