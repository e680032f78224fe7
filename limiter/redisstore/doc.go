// Package redisstore keeps llmgate's rate-limit state in Redis, so that
// every gateway instance using one Redis enforces one limit: a Store of
// token and leaky buckets (GCRA, one Lua script a decision) and, through
// NewWindowStore, the fixed-window counters of github.com/ulule/limiter/v3.
//
// Keys are the already hashed limiter.Key in hex under a prefix
// ("llmgate:rl:" by default): no credential or address reaches Redis. A
// bucket's key expires when its bucket has drained, so idle keys cost no
// memory. Decisions read the Redis server's clock, so gateway instances
// need not agree on the time. Every script touches one key, so it runs on
// a Redis Cluster too, on the node of the key's hash slot. They are exact to the nanosecond for
// backlogs up to 104 days (the integers a Lua double holds). Redis 5 or
// later is needed (scripts that read the clock and then write).
package redisstore
