// Package redisstore keeps llmgate's response cache in Redis, so that
// every gateway instance using one Redis shares one cache.
//
// An entry is one Redis string under the prefix ("llmgate:cache:" by
// default) and the hex of its cache key, which is already a hash: no
// credential reaches Redis. Its value is a compact binary encoding of the
// cache.Entry and it expires with the entry. Purge, PurgeModel and Stats
// serve an admin API: they walk the prefix with SCAN, so they cost time in
// proportion to the entries held and never block the server.
package redisstore
