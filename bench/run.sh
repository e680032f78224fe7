#!/usr/bin/env bash
# llmgate side by side with what users would run instead, in one run on one
# machine: Caddy's own respond and reverse_proxy, nginx proxy_cache and
# limit_req, memory and Redis storage. Contenders take turns (the order
# rotates every round) and each figure is the median of the rounds, so a
# busy machine slows every contender alike.
#
#   bench/run.sh            # about 10 minutes on 2 cores; writes bench/RESULTS.md
#   ROUNDS=1 DURATION=1s LIMIT_SECS=1 STREAM_N=3 GO_BENCHTIME=1x MISS_FILL=0 \
#     RESULTS=/tmp/results.md bench/run.sh   # a check that it all runs
#
# Knobs (environment): ROUNDS (3), MISS_ROUNDS (rounds of the miss path, 5),
# MISS_FILL (MB each llm_cache contender of the miss path stores, unrecorded,
# before its rounds: 256, its store's size; 0 for none),
# PROFILE_SECS (the miss path's CPU profile, 5),
# DURATION (wrk -d, 5s), THREADS (wrk -t, 2),
# CONNS (wrk -c, 32), LIMIT_SECS (10), STREAM_N (50), GO_BENCHTIME (300ms),
# RESULTS (output file).
# Needs go, curl and Debian's apt-get for wrk, hey, nginx and redis-server
# when they are missing.
#
# This script starts the servers and the load; bench/cmd/report parses what
# the tools print, takes the medians and ratios, checks the targets and
# writes the report.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
ROUNDS=${ROUNDS:-3}
MISS_ROUNDS=${MISS_ROUNDS:-5}
MISS_FILL=${MISS_FILL:-256}
PROFILE_SECS=${PROFILE_SECS:-5}
DURATION=${DURATION:-5s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
LIMIT_RATE=500
LIMIT_SECS=${LIMIT_SECS:-10}
STREAM_N=${STREAM_N:-50}
STREAM_CHUNKS=50
STREAM_DELAY=2ms
RESULTS=${RESULTS:-$BENCH_DIR/RESULTS.md}
AUTH="Authorization: Bearer sk-bench-0123456789abcdef0123456789abcdef"
SIZE_HDR="x-fake-size: 1024"
CHAT_PATH=/v1/chat/completions

STARTED=$(date +%s)
log() { printf '%s bench: %s\n' "$(date +%T)" "$*" >&2; }
die() {
	printf 'bench: error: %s\n' "$*" >&2
	exit 1
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/llmgate-bench.XXXXXX")
mkdir -p "$WORK/logs"
PIDS=()
DONE=0
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [[ $DONE == 1 ]]; then
		rm -rf "$WORK"
	else
		echo "bench: failed; logs and configs kept in $WORK" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- tools ------------------------------------------------------------------

SUDO=()
[[ $(id -u) -eq 0 ]] || SUDO=(sudo)
APT_UPDATED=0

# need_tool NAME PACKAGE: NAME on PATH (or in /usr/sbin), else apt-get PACKAGE.
need_tool() {
	local name=$1 pkg=$2
	if command -v "$name" >/dev/null || [[ -x /usr/sbin/$name ]]; then return; fi
	command -v apt-get >/dev/null || die "$name is missing and there is no apt-get: install $pkg yourself"
	log "installing $pkg"
	if [[ $APT_UPDATED == 0 ]]; then
		"${SUDO[@]}" apt-get update -qq >"$WORK/logs/apt.log" 2>&1 || die "apt-get update failed: see $WORK/logs/apt.log"
		APT_UPDATED=1
	fi
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >>"$WORK/logs/apt.log" 2>&1 ||
		die "apt-get install $pkg failed: see $WORK/logs/apt.log"
	command -v "$name" >/dev/null || [[ -x /usr/sbin/$name ]] || die "$name still missing after installing $pkg"
}

tool_path() { command -v "$1" || echo "/usr/sbin/$1"; }

command -v go >/dev/null || die "go is not on PATH"
command -v curl >/dev/null || need_tool curl curl
need_tool wrk wrk
need_tool hey hey
need_tool nginx nginx
need_tool redis-server redis-server
need_tool redis-cli redis-tools
NGINX=$(tool_path nginx)

log "building caddy (with llmgate), fakeai, ttfb and report into $WORK/bin"
(cd "$REPO" && go build -o "$WORK/bin/caddy" ./cmd/caddy) || die "go build ./cmd/caddy failed"
(cd "$REPO" && go build -o "$WORK/bin/fakeai" ./internal/harness/fakeai/cmd/fakeai) || die "go build ./internal/harness/fakeai/cmd/fakeai failed"
(cd "$REPO" && go build -o "$WORK/bin/ttfb" ./bench/cmd/ttfb) || die "go build ./bench/cmd/ttfb failed"
(cd "$REPO" && go build -o "$WORK/bin/report" ./bench/cmd/report) || die "go build ./bench/cmd/report failed"
CADDY=$WORK/bin/caddy
REPORT=$WORK/bin/report

# ---- processes and ports ----------------------------------------------------

USED_PORTS=" "
# free_port VAR: a port nobody listens on, never handed out twice in a run,
# and below the kernel's range of ephemeral ports: the outgoing connections
# of the load and of the servers (to the upstream, to Redis) take theirs
# from that range, and one could hold a port between its choice here and
# the server's bind.
EPHEMERAL_FROM=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
free_port() {
	local p
	for _ in $(seq 500); do
		p=$((10000 + RANDOM % (EPHEMERAL_FROM - 10000)))
		[[ $USED_PORTS == *" $p "* ]] && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			USED_PORTS+="$p "
			printf -v "$1" '%s' "$p"
			return
		fi
	done
	die "found no free port"
}

# start_bg NAME CMD...: run CMD in the background, output in logs/NAME.log.
start_bg() {
	local name=$1
	shift
	echo "$*" >>"$WORK/commands.txt"
	"$@" >"$WORK/logs/$name.log" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

stop_pid() {
	local pid=$1 p keep=()
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# wait_http NAME PID URL: until URL answers anything over HTTP.
wait_http() {
	local name=$1 pid=$2 url=$3
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || die "$name exited during start-up: $(tail -n 20 "$WORK/logs/$name.log")"
		curl -s -o /dev/null -m 2 "$url" && return
		sleep 0.1
	done
	die "$name did not answer on $url within 10 s"
}

declare -A PID_OF URL_OF

CADDY_GLOBAL='{
	admin off
	auto_https off
	persist_config off
	log {
		level ERROR
	}
}'

# start_caddy NAME SITE: one Caddy process serving SITE (directives) on its
# own port, with its data and config directories inside the work directory;
# with ADMIN=host:port, its admin endpoint (and pprof) listens there.
start_caddy() {
	local name=$1 site=$2 port dir=$WORK/caddy/$1 global=$CADDY_GLOBAL
	free_port port
	mkdir -p "$dir"
	[[ -z ${ADMIN:-} ]] || global=${global/admin off/admin $ADMIN}
	printf '%s\n\nhttp://:%s {\n\tbind 127.0.0.1\n%s\n}\n' "$global" "$port" "$site" >"$dir/Caddyfile"
	"$CADDY" adapt --config "$dir/Caddyfile" --adapter caddyfile >/dev/null 2>"$dir/adapt.log" ||
		die "caddy $name: bad Caddyfile $dir/Caddyfile: $(grep -v '^$' "$dir/adapt.log" | tail -n 3)"
	start_bg "caddy-$name" env XDG_DATA_HOME="$dir/data" XDG_CONFIG_HOME="$dir/config" \
		"$CADDY" run --config "$dir/Caddyfile" --adapter caddyfile
	PID_OF[$name]=$LAST_PID
	URL_OF[$name]=http://127.0.0.1:$port$CHAT_PATH
	wait_http "caddy-$name" "$LAST_PID" "http://127.0.0.1:$port/"
}

# start_nginx NAME SERVER: one nginx (master and 2 workers, in the
# foreground, as the current user) with one server block, proxying to fakeai.
start_nginx() {
	local name=$1 server=$2 port dir=$WORK/nginx/$1 user=""
	free_port port
	mkdir -p "$dir/tmp" "$dir/cache"
	[[ $(id -u) -ne 0 ]] || user="user $(id -un) $(id -gn);"
	cat >"$dir/nginx.conf" <<EOF
$user
daemon off;
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log error;
events {
	worker_connections 1024;
}
http {
	access_log off;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	# \$request_body exists only while the body sits in one memory buffer.
	client_body_buffer_size 64k;
	client_max_body_size 1m;
	upstream fakeai {
		server 127.0.0.1:$FAKE_PORT;
		keepalive 64;
	}
	proxy_cache_path $dir/cache levels=1:2 keys_zone=llm:16m max_size=256m inactive=1h use_temp_path=off;
	map \$host \$bench_static {
		default static;
	}
	limit_req_zone \$bench_static zone=static:1m rate=${LIMIT_RATE}r/s;
	server {
		listen 127.0.0.1:$port;
		location / {
			proxy_pass http://fakeai;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
$server
		}
	}
}
EOF
	"$NGINX" -t -q -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/test.log" 2>&1 ||
		die "nginx $name: bad config $dir/nginx.conf: $(tail -n 3 "$dir/test.log")"
	start_bg "nginx-$name" "$NGINX" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log"
	PID_OF[$name]=$LAST_PID
	URL_OF[$name]=http://127.0.0.1:$port$CHAT_PATH
	wait_http "nginx-$name" "$LAST_PID" "http://127.0.0.1:$port/"
}

# ---- requests ---------------------------------------------------------------

CHAT_BODY=$WORK/chat.json
STREAM_BODY=$WORK/stream.json
printf '%s' '{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"system","content":"You are a concise assistant."},{"role":"user","content":"What is the capital of France? {{nonce}}"}]}' >"$CHAT_BODY"
printf '%s' '{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Count from one to fifty. {{nonce}}"}]}' >"$STREAM_BODY"

# post URL OUT [curl args...]: POST the fixed chat body; headers to OUT.hdr,
# body to OUT.body; fails unless the answer is 200.
post() {
	local url=$1 out=$2 code
	shift 2
	code=$(curl -s -m 10 -o "$out.body" -D "$out.hdr" -w '%{http_code}' -H "$AUTH" -H "$SIZE_HDR" \
		-H 'Content-Type: application/json' --data-binary "@$CHAT_BODY" "$@" "$url") || die "POST $url failed"
	[[ $code == 200 ]] || die "POST $url answered $code: $(head -c 300 "$out.body")"
}

# expect_header OUT PATTERN WHAT: the saved headers carry PATTERN.
expect_header() {
	grep -qiE "$2" "$1.hdr" || die "$3: no '$2' in the answer headers: $(tr -d '\r' <"$1.hdr" | tr '\n' ' ')"
}

# WRK_HEADERS: more "Name: value" headers for every wrk request.
WRK_HEADERS=()

# wrk_run SCEN NAME MODE ROUND [DURATION]: one wrk run against NAME; ROUND 0
# is an unrecorded warm-up. The record carries the CPU time NAME's server
# (with its workers, for nginx) used during the run.
wrk_run() {
	local scen=$1 name=$2 mode=$3 round=$4 dur=${5:-$DURATION} out ticks_before ticks_after
	out=$WORK/logs/wrk-$scen-$name-$round.txt
	local cmd=(wrk "-t$THREADS" "-c$CONNS" "-d$dur" --latency -s "$BENCH_DIR/lua/chat.lua" "${URL_OF[$name]}"
		-- "$mode" "$CHAT_BODY" "$scen-$name-$round-$RANDOM$RANDOM" "$AUTH" "$SIZE_HDR" "${WRK_HEADERS[@]}")
	[[ $round == 0 ]] || echo "${cmd[*]}" >>"$WORK/commands.txt"
	ticks_before=$("$REPORT" cpu "${PID_OF[$name]}") || die "no CPU time of $name"
	"${cmd[@]}" >"$out" 2>&1 || die "wrk against $name failed: $(tail -n 5 "$out")"
	ticks_after=$("$REPORT" cpu "${PID_OF[$name]}") || die "no CPU time of $name"
	[[ $round == 0 ]] && return
	"$REPORT" wrk -scenario "$scen" -name "$name" -cpu-ticks "$((ticks_after - ticks_before))" "$out" >>"$WORK/wrk.jsonl" ||
		die "wrk against $name printed no result: $(tail -n 5 "$out")"
}

# rounds SCEN MODE NAME...: a warm-up for each, then N_ROUNDS (default
# ROUNDS) rounds taking the contenders in turn, the first one moving to the
# back every round.
rounds() {
	local scen=$1 mode=$2 r i n total=${N_ROUNDS:-$ROUNDS}
	shift 2
	local names=("$@")
	for n in "${names[@]}"; do wrk_run "$scen" "$n" "$mode" 0 1s; done
	for ((r = 1; r <= total; r++)); do
		log "  $scen round $r/$total"
		for ((i = 0; i < ${#names[@]}; i++)); do
			n=${names[(i + r - 1) % ${#names[@]}]}
			wrk_run "$scen" "$n" "$mode" "$r"
		done
	done
}

# fill_store SCEN NAME MB: new prompts to NAME, 5 s at a time (unrecorded,
# at most 40 times), until its resident memory has grown by MB; FILLED
# records how long that took.
fill_store() {
	local scen=$1 name=$2 mb=$3 pid=${PID_OF[$2]} start grown=0 i
	((mb > 0)) || return 0
	start=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status") || die "no resident memory of $name"
	log "  $scen: filling $name's store with ${mb} MB of answers"
	for ((i = 1; i <= 40; i++)); do
		wrk_run "$scen" "$name" unique 0 5s
		grown=$((($(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status") - start) / 1024))
		if ((grown >= mb)); then
			FILLED+="${FILLED:+; }$name: ${grown} MB in $((5 * i)) s"
			return 0
		fi
	done
	die "$name grew by only $grown MB in 200 s of new prompts"
}

# record_rss SCEN NAME...: peak RSS of each contender's process and its
# children (nginx workers).
record_rss() {
	local scen=$1 n
	shift
	for n in "$@"; do
		"$REPORT" rss -scenario "$scen" -name "$n" "${PID_OF[$n]}" >>"$WORK/rss.jsonl" || die "no peak RSS of $n"
	done
}

stop_all() {
	local n
	for n in "$@"; do stop_pid "${PID_OF[$n]}"; done
}

# ---- the fake upstream ------------------------------------------------------

free_port FAKE_PORT
start_bg fakeai "$WORK/bin/fakeai" -listen "127.0.0.1:$FAKE_PORT"
FAKE_PID=$LAST_PID
wait_http fakeai "$FAKE_PID" "http://127.0.0.1:$FAKE_PORT/"
UPSTREAM="reverse_proxy 127.0.0.1:$FAKE_PORT"
NEVER_LIMIT='llm_ratelimit {
		zone never {
			key {http.request.header.Authorization}
			requests 100000000/s
		}
	}'

# ---- 1. cache hit -----------------------------------------------------------

log "1/7 cache hit: llmgate llm_cache vs Caddy respond vs nginx proxy_cache"
start_caddy hit "	llm_cache
	$UPSTREAM"
post "${URL_OF[hit]}" "$WORK/hit1"
post "${URL_OF[hit]}" "$WORK/hit2"
expect_header "$WORK/hit2" '^Cache-Status: llmgate; hit' "llm_cache warm-up"
cp "$WORK/hit2.body" "$WORK/answer.json"
grep -qx 'BODY' "$WORK/answer.json" && die "the answer holds a line 'BODY', which ends the Caddyfile heredoc"
start_caddy respond "	header Content-Type application/json
	respond <<BODY
$(cat "$WORK/answer.json")
BODY 200"
post "${URL_OF[respond]}" "$WORK/respond"
cmp -s "$WORK/respond.body" "$WORK/answer.json" || die "Caddy respond does not send the bytes llm_cache replays"
start_nginx proxy_cache '			proxy_cache llm;
			proxy_cache_methods POST;
			proxy_cache_key "$request_uri|$http_authorization|$request_body";
			proxy_cache_valid 200 1h;
			# The upstream sets a cookie, as OpenAI does, and nginx caches no
			# answer that does; llm_cache stores no cookies, so neither does this.
			proxy_ignore_headers Set-Cookie;
			proxy_hide_header Set-Cookie;
			add_header X-Cache-Status $upstream_cache_status always;'
post "${URL_OF[proxy_cache]}" "$WORK/ngx1"
post "${URL_OF[proxy_cache]}" "$WORK/ngx2"
expect_header "$WORK/ngx2" '^X-Cache-Status: HIT' "nginx proxy_cache warm-up"
rounds hit fixed hit respond proxy_cache
post "${URL_OF[hit]}" "$WORK/hit3"
expect_header "$WORK/hit3" '^Cache-Status: llmgate; hit' "llm_cache after the load"
post "${URL_OF[proxy_cache]}" "$WORK/ngx3"
expect_header "$WORK/ngx3" '^X-Cache-Status: HIT' "nginx proxy_cache after the load"
record_rss hit hit respond proxy_cache
stop_all hit respond proxy_cache

# ---- 2. miss path -----------------------------------------------------------

log "2/7 miss path: reverse_proxy bare vs + llm_cache vs + llm_ratelimit vs both (every prompt new)"
start_caddy bare "	$UPSTREAM"
start_caddy cache "	llm_cache
	$UPSTREAM"
start_caddy ratelimit "	$NEVER_LIMIT
	$UPSTREAM"
free_port BOTH_ADMIN_PORT
ADMIN=127.0.0.1:$BOTH_ADMIN_PORT start_caddy both "	$NEVER_LIMIT
	llm_cache
	$UPSTREAM"
post "${URL_OF[both]}" "$WORK/both1"
expect_header "$WORK/both1" '^Cache-Status: llmgate; fwd=miss' "llm_cache + llm_ratelimit"
expect_header "$WORK/both1" '^X-Ratelimit-Limit-Requests: 100000000' "llm_cache + llm_ratelimit"
# llm_cache's contenders first store MISS_FILL MB of answers, unrecorded, as
# a server has after its first minutes: the first pass over a store's
# memory costs page faults (on a virtual machine, faults the host takes
# too) that a full store, which reuses its memory, never pays again.
FILLED=""
for n in cache both; do
	fill_store miss "$n" "$MISS_FILL"
done
N_ROUNDS=$MISS_ROUNDS rounds miss unique bare cache ratelimit both
# Where the miss path's CPU goes: a profile of the Caddy with both handlers
# during one more round, unrecorded.
log "  miss profile of both, ${PROFILE_SECS}s"
wrk_run miss both unique 0 "$((PROFILE_SECS + 2))s" &
WRK_PID=$!
sleep 1
curl -sf -o "$WORK/miss-both.pprof" "http://127.0.0.1:$BOTH_ADMIN_PORT/debug/pprof/profile?seconds=$PROFILE_SECS" ||
	die "no CPU profile from caddy-both's admin endpoint"
wait "$WRK_PID"
{
	go tool pprof -top -nodecount=20 "$CADDY" "$WORK/miss-both.pprof"
	echo
	go tool pprof -top -cum -show '^github.com/(llmgate|VictoriaMetrics)/' -ignore reverseproxy -nodecount=20 "$CADDY" "$WORK/miss-both.pprof"
} 2>/dev/null | grep -v -e '^File:' -e '^Build ID:' -e '^Time:' -e '^Type:' >"$WORK/profile.txt" ||
	die "go tool pprof could not read the miss profile"
record_rss miss bare cache ratelimit both
stop_all bare cache ratelimit both

# ---- 3. limiting accuracy ---------------------------------------------------

log "3/7 limiting: llm_ratelimit requests $LIMIT_RATE/s vs nginx limit_req rate=${LIMIT_RATE}r/s nodelay, bucket depth 1 and 10, ${LIMIT_SECS}s each"
# Bucket depth: how many requests may pass at once. llm_ratelimit's burst
# is the depth; nginx's burst=N lets N pass beyond the first, a depth of N+1.
declare -A DEPTH_OF=([limit]=1 [limit_req]=1 [limit10]=10 [limit_req10]=10)
for n in limit limit10; do
	start_caddy "$n" "	llm_ratelimit {
		zone z {
			key static
			requests $LIMIT_RATE/s
			burst ${DEPTH_OF[$n]}
		}
	}
	$UPSTREAM"
done
for n in limit_req limit_req10; do
	burst=$((DEPTH_OF[$n] - 1))
	[[ $burst == 0 ]] && burst="" || burst="burst=$burst " # nginx refuses burst=0, its default
	start_nginx "$n" "			limit_req zone=static ${burst}nodelay;
			limit_req_status 429;"
done
for n in limit limit_req; do
	post "${URL_OF[$n]}" "$WORK/$n"
done

# hey_run NAME ROUND: drive NAME well over the rate and count its answers.
hey_run() {
	local name=$1 out=$WORK/logs/hey-$1-$2.txt
	local cmd=(hey -z "${LIMIT_SECS}s" -c "$CONNS" -m POST -T application/json -H "$AUTH" -D "$CHAT_BODY" "${URL_OF[$name]}")
	echo "${cmd[*]}" >>"$WORK/commands.txt"
	sleep 0.5 # the bucket refills to its burst, as at the start of every run
	"${cmd[@]}" >"$out" 2>&1 || die "hey against $name failed: $(tail -n 5 "$out")"
	"$REPORT" hey -scenario limit -name "$name" -depth "${DEPTH_OF[$name]}" "$out" >>"$WORK/hey.jsonl" ||
		die "hey printed no summary: $(tail -n 5 "$out")"
}
LIMITERS=(limit limit_req limit10 limit_req10)
for ((r = 1; r <= ROUNDS; r++)); do
	log "  limit round $r/$ROUNDS"
	for ((i = 0; i < ${#LIMITERS[@]}; i++)); do
		hey_run "${LIMITERS[(i + r - 1) % ${#LIMITERS[@]}]}" "$r"
	done
done
record_rss limit "${LIMITERS[@]}"
stop_all "${LIMITERS[@]}"

# ---- 4. streaming -----------------------------------------------------------

log "4/7 streaming: $STREAM_CHUNKS events ${STREAM_DELAY} apart, $STREAM_N requests per contender"
start_caddy s_bare "	$UPSTREAM"
start_caddy s_cache "	llm_cache
	$UPSTREAM"
start_caddy s_tokens "	llm_ratelimit {
		zone tokens {
			key {http.request.header.Authorization}
			tokens 100000000/m
		}
	}
	$UPSTREAM"
STREAM_TSV=$WORK/ttfb.tsv
stream_cmd=("$WORK/bin/ttfb" -n "$STREAM_N" -body "$STREAM_BODY" -H "$AUTH"
	-H "x-fake-chunks: $STREAM_CHUNKS" -H "x-fake-delay: $STREAM_DELAY"
	-target "bare=${URL_OF[s_bare]}" -target "cache-miss=${URL_OF[s_cache]}"
	-target "cache-hit=${URL_OF[s_cache]}" -target "ratelimit-tokens=${URL_OF[s_tokens]}"
	-unique bare -unique cache-miss -unique ratelimit-tokens -warm cache-hit)
echo "${stream_cmd[*]}" >>"$WORK/commands.txt"
"${stream_cmd[@]}" >"$STREAM_TSV" 2>"$WORK/logs/ttfb.log" || die "ttfb failed: $(tail -n 5 "$WORK/logs/ttfb.log")"
"$REPORT" ttfb -hit cache-hit -miss cache-miss "$STREAM_TSV" >"$WORK/ttfb.jsonl" ||
	die "the cache-hit stream must be a hit and the cache-miss one a miss: $(cat "$STREAM_TSV")"
record_rss stream s_bare s_cache s_tokens
stop_all s_bare s_cache s_tokens

# ---- 5. redis ---------------------------------------------------------------

log "5/7 storage: memory vs redis, for the limiter and for cache hits"
free_port REDIS_PORT
start_bg redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no
PID_OF[redis]=$LAST_PID
for i in $(seq 50); do
	kill -0 "${PID_OF[redis]}" 2>/dev/null || die "redis-server exited: $(tail -n 5 "$WORK/logs/redis.log")"
	[[ $(redis-cli -p "$REDIS_PORT" ping 2>/dev/null || true) == PONG ]] && break
	((i < 50)) || die "redis-server did not answer PING on port $REDIS_PORT"
	sleep 0.1
done
start_caddy rl_memory "	$NEVER_LIMIT
	$UPSTREAM"
start_caddy rl_redis "	llm_ratelimit {
		zone never {
			key {http.request.header.Authorization}
			requests 100000000/s
		}
		storage redis redis://127.0.0.1:$REDIS_PORT/0
	}
	$UPSTREAM"
start_caddy hit_memory "	llm_cache
	$UPSTREAM"
start_caddy hit_redis "	llm_cache {
		storage redis redis://127.0.0.1:$REDIS_PORT/1
	}
	$UPSTREAM"
start_caddy hit_local "	llm_cache {
		storage redis redis://127.0.0.1:$REDIS_PORT/1
		local 64MiB
	}
	$UPSTREAM"
post "${URL_OF[rl_redis]}" "$WORK/rlr"
expect_header "$WORK/rlr" '^X-Ratelimit-Limit-Requests: 100000000' "llm_ratelimit with redis"
# A never-refusing bucket drains at once and its key expires, so look for the
# scripts the limiter ran rather than for keys.
redis-cli -p "$REDIS_PORT" info commandstats | grep -qE '^cmdstat_(evalsha|eval|fcall):calls=[1-9]' ||
	die "llm_ratelimit with storage redis ran no script on Redis"
for n in hit_memory hit_redis; do
	post "${URL_OF[$n]}" "$WORK/$n-1"
	post "${URL_OF[$n]}" "$WORK/$n-2"
	expect_header "$WORK/$n-2" '^Cache-Status: llmgate; hit' "llm_cache $n warm-up"
done
# The local tier keeps copies once it hears the purge channel.
post "${URL_OF[hit_local]}" "$WORK/hit_local-1"
for i in $(seq 50); do
	post "${URL_OF[hit_local]}" "$WORK/hit_local-2"
	grep -qi '^Cache-Status: llmgate; hit; .*detail=local' "$WORK/hit_local-2.hdr" && break
	((i < 50)) || die "llm_cache with local 64MiB served no hit from its local tier: $(grep -i '^Cache-Status' "$WORK/hit_local-2.hdr")"
	sleep 0.1
done
[[ $(redis-cli -p "$REDIS_PORT" -n 1 dbsize) -gt 0 ]] || die "llm_cache with storage redis wrote nothing to Redis"
rounds redis_limiter fixed rl_memory rl_redis
rounds redis_hit fixed hit_memory hit_redis hit_local
record_rss redis_limiter rl_memory rl_redis
record_rss redis_hit hit_memory hit_redis hit_local
record_rss redis redis
stop_all rl_memory rl_redis hit_memory hit_redis hit_local redis
stop_pid "$FAKE_PID"

# ---- 6. access log ----------------------------------------------------------

log "6/7 access log: format json vs format llm_redact, every request carrying an Anthropic key in x-api-key"
SECRET_KEY=sk-ant-api03-$(printf 'b%.0s' $(seq 93))AA
for n in log_json log_redact; do
	format=json
	[[ $n == log_redact ]] && format=llm_redact
	start_caddy "$n" "	log {
		output file $WORK/caddy/$n/access.log {
			roll_size 20MiB
			roll_keep 1
		}
		format $format
	}
	header Content-Type application/json
	respond <<BODY
$(cat "$WORK/answer.json")
BODY 200"
done
WRK_HEADERS=("x-api-key: $SECRET_KEY")
for n in log_json log_redact; do post "${URL_OF[$n]}" "$WORK/$n" -H "${WRK_HEADERS[0]}"; done
sleep 0.5
grep -q "$SECRET_KEY" "$WORK/caddy/log_json/access.log" || die "the plain json access log does not show the x-api-key it was sent"
grep -q "$SECRET_KEY" "$WORK/caddy/log_redact/access.log" && die "format llm_redact let the x-api-key into the access log"
grep -q 'REDACTED' "$WORK/caddy/log_redact/access.log" || die "format llm_redact wrote no [REDACTED] mark"
REDACTED_LINE=$(grep -o -m 1 '"X-Api-Key":\["[^"]*"\]' "$WORK/caddy/log_redact/access.log" || true)
rounds access_log fixed log_json log_redact
WRK_HEADERS=()
record_rss access_log log_json log_redact
stop_all log_json log_redact

# ---- 7. Go benchmarks -------------------------------------------------------

log "7/7 Go benchmarks of the hot paths (go test -bench, -benchmem)"
GOBENCH_TXT=$WORK/gobench.txt
gobench_cmd=(go test -run '^$' -bench . -benchmem -benchtime "${GO_BENCHTIME:-300ms}" . ./cache ./jsonscan ./limiter ./llmreq ./redact ./sse ./usage ./limiter/redisstore ./cache/redisstore)
echo "(cd repo && ${gobench_cmd[*]})" >>"$WORK/commands.txt"
(cd "$REPO" && "${gobench_cmd[@]}") >"$GOBENCH_TXT" 2>&1 || die "go test -bench failed: $(tail -n 20 "$GOBENCH_TXT")"
"$REPORT" gobench "$GOBENCH_TXT" >"$WORK/gobench.jsonl" || die "go test -bench printed no results: $(tail -n 20 "$GOBENCH_TXT")"

# ---- report -----------------------------------------------------------------

GIT_REV=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git -C "$REPO" status --porcelain 2>/dev/null) ]] || GIT_REV+=" (with uncommitted changes)"
"$REPORT" write -dir "$WORK" -o "$RESULTS" -started "$STARTED" \
	-rounds "$ROUNDS" -miss-rounds "$MISS_ROUNDS" -miss-filled "$FILLED" \
	-duration "$DURATION" -threads "$THREADS" -conns "$CONNS" \
	-limit-rate "$LIMIT_RATE" -limit-secs "$LIMIT_SECS" \
	-stream-n "$STREAM_N" -stream-chunks "$STREAM_CHUNKS" -stream-delay "$STREAM_DELAY" \
	-gobenchtime "${GO_BENCHTIME:-300ms}" -rev "$GIT_REV" -redacted "$REDACTED_LINE" \
	-caddy-version "$("$CADDY" version)" -nginx-version "$("$NGINX" -v 2>&1)" \
	-redis-version "$(redis-server --version)" \
	-wrk-version "$(dpkg-query -W -f '${Version}' wrk 2>/dev/null || wrk -v 2>&1 | head -n 1)" \
	-hey-version "$(dpkg-query -W -f '${Version}' hey 2>/dev/null || echo '(version unknown)')" ||
	die "writing $RESULTS failed"
log "done in $(($(date +%s) - STARTED))s; wrote $RESULTS"
DONE=1
