package redisstore

import (
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/llmgate/caddy-llmgate/limiter"
)

// The scripts below keep one value a key: the bucket's theoretical arrival
// time (TAT) on the Redis clock, as "<microseconds>.<nanoseconds>" (Lua
// numbers are doubles, too narrow for Unix time in nanoseconds, while the
// backlog, TAT minus now, fits in nanoseconds). A key whose TAT has passed
// by limiter.MaxSlack holds nothing, so it lives until then and no longer:
// until then a charge's lateness credit counts from the TAT.
//
// Arguments are nanoseconds; ARGV's last, optional value replaces the
// Redis clock (microseconds), so tests can move time by hand; keys then
// do not expire.

// takeScript: KEYS the buckets, one or more, the same key possibly more
// than once; ARGV cost, limit, slack for each key in turn [, now]. Takes
// from each in turn, as BucketStore.Take; returns {allowed (1 or 0),
// wait, backlog} for each, in one list.
var takeScript = redis.NewScript(commonLua + `
local n = #KEYS
local now = clock(ARGV[3 * n + 1])
local out = {}
for i = 1, n do
	local cost, limit, slack = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
	local start = backlog(KEYS[i], now, slack)
	local after = start + cost
	local allowed = 1
	if after > limit then
		allowed = 0
	elseif cost > 0 then
		store(KEYS[i], now, after)
	end
	out[3 * i - 2], out[3 * i - 1], out[3 * i] = allowed, math.max(start, 0), after
end
return out
`)

// adjustScript: KEYS[1] the bucket; ARGV delta [, now]. Moves the TAT by
// delta, counting from now when the bucket has drained.
var adjustScript = redis.NewScript(commonLua + `
local delta = tonumber(ARGV[1])
local now = clock(ARGV[2])
store(KEYS[1], now, backlog(KEYS[1], now, 0) + delta)
return 0
`)

// promiseScript: KEYS[1] the promises of a bucket; ARGV after, cost,
// horizon [, now]. Returns the wait, as BucketStore.Promise.
var promiseScript = redis.NewScript(commonLua + `
local after, cost, horizon = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now = clock(ARGV[4])
local start = backlog(KEYS[1], now, 0)
if start < after then start = after end
if start > horizon then return after end
store(KEYS[1], now, start + cost)
return start
`)

// commonLua defines the scripts' helpers:
//   - clock(override): the Redis clock in µs, unless override is given;
//     a test's clock is not the one Redis expires keys by, so keys then
//     get no expiry (the lateness credit of a bucket only milliseconds
//     deep would otherwise depend on how fast the test runs);
//   - backlog(key, now, slack): the key's TAT minus now in ns, at least
//     -slack (a missing key: -slack);
//   - store(key, now, ns): sets the TAT to now + ns, to expire
//     limiter.MaxSlack after it, or drops the key when that is not after
//     now; debt saturates at about 126 years, so that any number of
//     adjustments keeps the values within int64.
var commonLua = `
local keep = ` + strconv.FormatInt(int64(limiter.MaxSlack), 10) + `

local frozen = false

local function clock(override)
	if override then
		frozen = true
		return tonumber(override)
	end
	local t = redis.call('TIME')
	return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local function backlog(key, now, slack)
	local v = redis.call('GET', key)
	if not v then return -slack end
	local dot = string.find(v, '.', 1, true)
	local ns = (tonumber(string.sub(v, 1, dot - 1)) - now) * 1000 + tonumber(string.sub(v, dot + 1))
	if ns < -slack then return -slack end
	return ns
end

local function store(key, now, ns)
	if ns <= 0 then
		redis.call('DEL', key)
		return
	end
	if ns > 4e18 then ns = 4e18 end
	local us = math.floor(ns / 1000)
	local tat = string.format('%.0f.%03d', now + us, ns - us * 1000)
	if frozen then
		redis.call('SET', key, tat)
	else
		redis.call('SET', key, tat, 'PX', math.ceil((ns + keep) / 1000000))
	end
end
`
