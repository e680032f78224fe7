// Package redisstore keeps llmgate's response cache in Redis, so that
// every gateway instance using one Redis shares one cache.
//
// An entry is one Redis string under the prefix ("llmgate:cache:" by
// default) and the hex of its cache key, which is already a hash: no
// credential reaches Redis. Its value is the entry's byte form
// (cache.AppendEntry) and it expires with the entry. Purge, PurgeModel and Stats
// serve an admin API: they walk the prefix with SCAN (on each primary of a
// Redis Cluster) and drop entries one key a command, so they cost time in
// proportion to the entries held, never block the server, and never send
// a command whose keys span hash slots.
//
// Publish and Listen carry purges from instance to instance on a pub/sub
// channel under the prefix, for the local tiers (cache.TieredStore) in
// front of the store.
package redisstore
