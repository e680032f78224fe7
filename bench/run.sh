#!/usr/bin/env bash
# llmgate side by side with what users would run instead, in one run on one
# machine: Caddy's own respond and reverse_proxy, nginx proxy_cache and
# limit_req, memory and Redis storage. Contenders take turns (the order
# rotates every round) and each figure is the median of the rounds, so a
# busy machine slows every contender alike.
#
#   bench/run.sh            # about 9 minutes on 2 cores; writes bench/RESULTS.md
#
# Knobs (environment): ROUNDS (3), DURATION (wrk -d, 5s), THREADS (wrk -t, 2),
# CONNS (wrk -c, 32), LIMIT_SECS (10), STREAM_N (50), GO_BENCHTIME (300ms),
# RESULTS (output file).
# Needs go, curl and Debian's apt-get for wrk, hey, nginx and redis-server
# when they are missing.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
ROUNDS=${ROUNDS:-3}
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

log "building caddy (with llmgate), fakeai and ttfb into $WORK/bin"
(cd "$REPO" && go build -o "$WORK/bin/caddy" ./cmd/caddy) || die "go build ./cmd/caddy failed"
(cd "$REPO" && go build -o "$WORK/bin/fakeai" ./internal/harness/fakeai/cmd/fakeai) || die "go build ./internal/harness/fakeai/cmd/fakeai failed"
(cd "$REPO" && go build -o "$WORK/bin/ttfb" ./bench/cmd/ttfb) || die "go build ./bench/cmd/ttfb failed"
CADDY=$WORK/bin/caddy

# ---- processes and ports ----------------------------------------------------

USED_PORTS=" "
# free_port VAR: a port nobody listens on, never handed out twice in a run.
free_port() {
	local p
	for _ in $(seq 500); do
		p=$((20000 + RANDOM % 40000))
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

# peak_rss_kb PID: VmHWM of PID plus its children (nginx workers).
peak_rss_kb() {
	local total=0 p v
	for p in "$1" $(pgrep -P "$1" || true); do
		v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
		total=$((total + ${v:-0}))
	done
	echo "$total"
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
# own port, with its data and config directories inside the work directory.
start_caddy() {
	local name=$1 site=$2 port dir=$WORK/caddy/$1
	free_port port
	mkdir -p "$dir"
	printf '%s\n\nhttp://:%s {\n\tbind 127.0.0.1\n%s\n}\n' "$CADDY_GLOBAL" "$port" "$site" >"$dir/Caddyfile"
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
RESULTS_TSV=$WORK/results.tsv
RSS_TSV=$WORK/rss.tsv
: >"$RESULTS_TSV"
: >"$RSS_TSV"

# wrk_run SCEN NAME MODE ROUND [DURATION]: one wrk run against NAME; ROUND 0
# is an unrecorded warm-up.
wrk_run() {
	local scen=$1 name=$2 mode=$3 round=$4 dur=${5:-$DURATION} out line
	out=$WORK/logs/wrk-$scen-$name-$round.txt
	local cmd=(wrk "-t$THREADS" "-c$CONNS" "-d$dur" --latency -s "$BENCH_DIR/lua/chat.lua" "${URL_OF[$name]}"
		-- "$mode" "$CHAT_BODY" "$scen-$name-$round-$RANDOM$RANDOM" "$AUTH" "$SIZE_HDR" "${WRK_HEADERS[@]}")
	[[ $round == 0 ]] || echo "${cmd[*]}" >>"$WORK/commands.txt"
	"${cmd[@]}" >"$out" 2>&1 || die "wrk against $name failed: $(tail -n 5 "$out")"
	[[ $round == 0 ]] && return
	line=$(grep '^WRKRESULT' "$out") || die "wrk printed no result line: $(tail -n 5 "$out")"
	awk -v s="$scen" -v n="$name" -v r="$round" '{
		printf "%s\t%s\t%s\t%.1f\t%.3f\t%.3f\t%d\t%d\n", s, n, r, $2 / ($3 / 1e6), $6 / 1000, $7 / 1000, $4, $5
	}' <<<"$line" >>"$RESULTS_TSV"
}

# rounds SCEN MODE NAME...: a warm-up for each, then ROUNDS rounds taking the
# contenders in turn, the first one moving to the back every round.
rounds() {
	local scen=$1 mode=$2 r i n
	shift 2
	local names=("$@")
	for n in "${names[@]}"; do wrk_run "$scen" "$n" "$mode" 0 1s; done
	for ((r = 1; r <= ROUNDS; r++)); do
		log "  $scen round $r/$ROUNDS"
		for ((i = 0; i < ${#names[@]}; i++)); do
			n=${names[(i + r - 1) % ${#names[@]}]}
			wrk_run "$scen" "$n" "$mode" "$r"
		done
	done
}

# record_rss SCEN NAME...: peak RSS of each contender's process(es).
record_rss() {
	local scen=$1 n
	shift
	for n in "$@"; do printf '%s\t%s\t%s\n' "$scen" "$n" "$(peak_rss_kb "${PID_OF[$n]}")" >>"$RSS_TSV"; done
}

stop_all() {
	local n
	for n in "$@"; do stop_pid "${PID_OF[$n]}"; done
}

SKIPPED=()

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
start_caddy both "	$NEVER_LIMIT
	llm_cache
	$UPSTREAM"
post "${URL_OF[both]}" "$WORK/both1"
expect_header "$WORK/both1" '^Cache-Status: llmgate; fwd=miss' "llm_cache + llm_ratelimit"
expect_header "$WORK/both1" '^X-Ratelimit-Limit-Requests: 100000000' "llm_cache + llm_ratelimit"
rounds miss unique bare cache ratelimit both
record_rss miss bare cache ratelimit both
stop_all bare cache ratelimit both

# ---- 3. limiting accuracy ---------------------------------------------------

log "3/7 limiting: llm_ratelimit requests $LIMIT_RATE/s vs nginx limit_req rate=${LIMIT_RATE}r/s nodelay, bucket depth 1 and 10, ${LIMIT_SECS}s each"
LIMIT_TSV=$WORK/limit.tsv
: >"$LIMIT_TSV"
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
	local name=$1 round=$2 out=$WORK/logs/hey-$1-$2.txt
	local cmd=(hey -z "${LIMIT_SECS}s" -c "$CONNS" -m POST -T application/json -H "$AUTH" -D "$CHAT_BODY" "${URL_OF[$name]}")
	echo "${cmd[*]}" >>"$WORK/commands.txt"
	sleep 0.5 # the bucket refills to its burst, as at the start of every run
	"${cmd[@]}" >"$out" 2>&1 || die "hey against $name failed: $(tail -n 5 "$out")"
	awk -v n="$name" -v r="$round" -v rate="$LIMIT_RATE" -v burst="${DEPTH_OF[$name]}" '
		/^  Total:/ { secs = $2 }
		/^Status code distribution:/ { codes = 1; next }
		/^[^ ]/ { codes = 0 }
		codes && /^  \[[0-9]+\]/ { code = substr($1, 2, 3); c[code] = $2; all += $2 }
		END {
			if (secs == 0) exit 1
			want = rate * secs + burst
			printf "limit\t%s\t%s\t%d\t%d\t%d\t%.2f\t%.1f\t%.1f\t%.2f\n", n, r, c["200"], c["429"], c["503"], secs, all / secs, c["200"] / secs, (c["200"] - want) / want * 100
		}' "$out" >>"$LIMIT_TSV" || die "hey printed no summary: $(tail -n 5 "$out")"
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
STREAM_TSV=$WORK/stream.tsv
stream_cmd=("$WORK/bin/ttfb" -n "$STREAM_N" -body "$STREAM_BODY" -H "$AUTH"
	-H "x-fake-chunks: $STREAM_CHUNKS" -H "x-fake-delay: $STREAM_DELAY"
	-target "bare=${URL_OF[s_bare]}" -target "cache-miss=${URL_OF[s_cache]}"
	-target "cache-hit=${URL_OF[s_cache]}" -target "ratelimit-tokens=${URL_OF[s_tokens]}"
	-unique bare -unique cache-miss -unique ratelimit-tokens -warm cache-hit)
echo "${stream_cmd[*]}" >>"$WORK/commands.txt"
"${stream_cmd[@]}" >"$STREAM_TSV" 2>"$WORK/logs/ttfb.log" || die "ttfb failed: $(tail -n 5 "$WORK/logs/ttfb.log")"
awk -F'\t' '$1 == "cache-hit" && $9 !~ /hit/ { exit 1 }' "$STREAM_TSV" || die "the cache-hit stream was not a hit: $(cat "$STREAM_TSV")"
awk -F'\t' '$1 == "cache-miss" && $9 !~ /fwd=miss/ { exit 1 }' "$STREAM_TSV" || die "the cache-miss stream was not a miss: $(cat "$STREAM_TSV")"
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
[[ $(redis-cli -p "$REDIS_PORT" -n 1 dbsize) -gt 0 ]] || die "llm_cache with storage redis wrote nothing to Redis"
rounds redis_limiter fixed rl_memory rl_redis
rounds redis_hit fixed hit_memory hit_redis
record_rss redis_limiter rl_memory rl_redis
record_rss redis_hit hit_memory hit_redis
record_rss redis redis
stop_all rl_memory rl_redis hit_memory hit_redis redis
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
gobench_cmd=(go test -run '^$' -bench . -benchmem -benchtime "${GO_BENCHTIME:-300ms}" . ./cache ./limiter ./llmreq ./redact ./sse ./usage ./limiter/redisstore ./cache/redisstore)
echo "(cd repo && ${gobench_cmd[*]})" >>"$WORK/commands.txt"
(cd "$REPO" && "${gobench_cmd[@]}") >"$GOBENCH_TXT" 2>&1 || die "go test -bench failed: $(tail -n 20 "$GOBENCH_TXT")"

# ---- report -----------------------------------------------------------------

# Medians over the rounds, in one pass: MED[scen/name/rps|p50|p99],
# ERRS[scen/name] (summed), LIM[name/column] for limit.tsv, RSS[scen/name] in MB.
MEDIANS_AWK='
function median(k, c,    m, i, j, x, a) {
	m = n[k]
	for (i = 1; i <= m; i++) a[i] = v[k, c, i] + 0
	for (i = 2; i <= m; i++) { x = a[i]; for (j = i - 1; j > 0 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
	return a[int((m + 1) / 2)]
}
{ k = $1 "/" $2; n[k]++; for (c = from; c <= to; c++) v[k, c, n[k]] = $c }
END { for (k in n) for (c = from; c <= to; c++) print k "/" c "\t" median(k, c) }'
declare -A MED ERRS LIM RSS
while IFS=$'\t' read -r key val; do MED[$key]=$val; done < <(awk -F'\t' -v from=4 -v to=6 "$MEDIANS_AWK" "$RESULTS_TSV")
while IFS=$'\t' read -r key val; do ERRS[$key]=$val; done < <(awk -F'\t' '{ e[$1 "/" $2] += $7 + $8 } END { for (k in e) print k "\t" e[k] }' "$RESULTS_TSV")
while IFS=$'\t' read -r key val; do LIM[${key#limit/}]=$val; done < <(awk -F'\t' -v from=4 -v to=10 "$MEDIANS_AWK" "$LIMIT_TSV")
while IFS=$'\t' read -r key val; do RSS[$key]=$val; done < <(awk -F'\t' '{ printf "%s/%s\t%.0f\n", $1, $2, $3 / 1024 }' "$RSS_TSV")
# median SCEN NAME COLUMN (4 req/s, 5 p50 ms, 6 p99 ms); limit_median NAME
# COLUMN (4 200s, 5 429s, 6 503s, 8 offered req/s, 9 admitted/s, 10 error %).
median() { echo "${MED[$1/$2/$3]:-nan}"; }
limit_median() { echo "${LIM[$1/$2]:-nan}"; }
errors_of() { echo "${ERRS[$1/$2]:-nan}"; }
rss_mb() { echo "${RSS[$1/$2]:-?}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }
# verdict VALUE OP LIMIT: "met" or "**not met**".
verdict() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? v >= l : v <= l; print ok ? "met" : "**not met**" }'; }

# wrk_table SCEN REF LABEL:NAME...: a Markdown table of the scenario.
wrk_table() {
	local scen=$1 ref=$2 item label name rps
	shift 2
	local ref_rps
	ref_rps=$(median "$scen" "$ref" 4)
	echo "| contender | req/s | × $ref | p50 ms | p99 ms | non-2xx + socket errors | peak RSS MB |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for item in "$@"; do
		label=${item%%:*}
		name=${item#*:}
		rps=$(median "$scen" "$name" 4)
		printf '| %s | %.0f | %s | %s | %s | %s | %s |\n' "$label" "$rps" "$(ratio "$rps" "$ref_rps")" \
			"$(median "$scen" "$name" 5)" "$(median "$scen" "$name" 6)" "$(errors_of "$scen" "$name")" "$(rss_mb "$scen" "$name")"
	done
}

stream_col() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c }' "$STREAM_TSV"; }

HIT_RATIO=$(ratio "$(median hit hit 4)" "$(median hit respond 4)")
BOTH_RATIO=$(ratio "$(median miss both 4)" "$(median miss bare 4)")
RL_RATIO=$(ratio "$(median miss ratelimit 4)" "$(median miss bare 4)")
LOG_RATIO=$(ratio "$(median access_log log_redact 4)" "$(median access_log log_json 4)")
CACHE_RATIO=$(ratio "$(median miss cache 4)" "$(median miss bare 4)")
TTFB_BARE=$(stream_col bare 3)
TTFB_MISS_D=$(awk -v a="$(stream_col cache-miss 3)" -v b="$TTFB_BARE" 'BEGIN { printf "%+.3f", a - b }')
TTFB_RL_D=$(awk -v a="$(stream_col ratelimit-tokens 3)" -v b="$TTFB_BARE" 'BEGIN { printf "%+.3f", a - b }')
LIMIT_ERR=$(limit_median limit 10)
LIMIT_ERR_ABS=${LIMIT_ERR#-}
NGX_ERR=$(limit_median limit_req 10)
ELAPSED=$(($(date +%s) - STARTED))

GIT_REV=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git -C "$REPO" status --porcelain 2>/dev/null) ]] || GIT_REV+=" (with uncommitted changes)"
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

{
	echo "# llmgate benchmarks"
	echo
	echo "Generated by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') in ${ELAPSED}s."
	echo "Every contender runs in its own process on the same machine at the same time as the others;"
	echo "they take turns ($ROUNDS rounds, the order rotating each round) and each figure is the median of the rounds."
	echo "The machine was shared with other work, so absolute numbers are noisy; the ratios are the point."
	echo
	echo "## Machine and versions"
	echo
	echo "- machine: $(nproc) CPUs, ${CPU:-unknown CPU}, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- llmgate: $GIT_REV; $("$CADDY" version | cut -d' ' -f1) (built by \`go build ./cmd/caddy\`); $(go version | cut -d' ' -f3)"
	echo "- $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'); wrk $(dpkg-query -W -f '${Version}' wrk 2>/dev/null || wrk -v 2>&1 | head -n 1); hey $(dpkg-query -W -f '${Version}' hey 2>/dev/null || echo '(version unknown)'); redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -c3-)"
	echo "- load: wrk -t$THREADS -c$CONNS -d$DURATION (plus a 1 s warm-up per contender); hey -c$CONNS -z${LIMIT_SECS}s; upstream: \`internal/harness/fakeai\` (\`x-fake-size: 1024\`, a ~1.4 KB chat completion)"
	echo "- peak RSS: \`VmHWM\` of the server process after its scenario (nginx: master + workers summed)"
	echo
	echo "## Targets"
	echo
	echo "| target | measured | |"
	echo "|---|---:|---|"
	echo "| cache hit ≥ 0.95× Caddy \`respond\` | ${HIT_RATIO}× | $(verdict "$HIT_RATIO" ">=" 0.95) |"
	echo "| miss with \`llm_ratelimit\` + \`llm_cache\` ≥ 0.90× bare \`reverse_proxy\` | ${BOTH_RATIO}× | $(verdict "$BOTH_RATIO" ">=" 0.90) |"
	echo "| \`llm_ratelimit\` alone ≥ 0.97× bare | ${RL_RATIO}× | $(verdict "$RL_RATIO" ">=" 0.97) |"
	echo "| access log with \`format llm_redact\` ≥ 0.97× \`format json\` | ${LOG_RATIO}× | $(verdict "$LOG_RATIO" ">=" 0.97) |"
	echo "| streaming TTFB through \`llm_cache\` (miss) within 1 ms of bare | ${TTFB_MISS_D} ms | $(verdict "${TTFB_MISS_D#+}" "<=" 1) |"
	echo "| streaming TTFB through \`llm_ratelimit\` (tokens) within 1 ms of bare | ${TTFB_RL_D} ms | $(verdict "${TTFB_RL_D#+}" "<=" 1) |"
	echo "| limiter count error ≤ 1% over ${LIMIT_SECS} s (depth 1; nginx: ${NGX_ERR}%) | ${LIMIT_ERR}% | $(verdict "$LIMIT_ERR_ABS" "<=" 1) |"
	echo "| limiter count error ≤ 1% over ${LIMIT_SECS} s (depth 10; nginx: $(limit_median limit_req10 10)%) | $(limit_median limit10 10)% | $(verdict "$(limit_median limit10 10 | tr -d -)" "<=" 1) |"
	echo
	echo "## 1. Cache hit"
	echo
	echo "The same chat body and \`Authorization\` every time, after a warm-up; all three send the same ~1.4 KB answer."
	echo "Caddy \`respond\` with those bytes inline is the ceiling for anything inside Caddy (its body still goes through Caddy's placeholder replacer, as every \`respond\` body does)."
	echo "nginx keys on \`\$request_uri|\$http_authorization|\$request_body\` (raw bytes: key order or whitespace changes miss), with the body in a 64k memory buffer."
	echo
	wrk_table hit respond "llmgate llm_cache hit:hit" "Caddy respond (same bytes):respond" "nginx proxy_cache (POST, body in key):proxy_cache"
	echo
	echo "## 2. Miss path"
	echo
	echo "Every request carries a new prompt (wrk Lua writes a unique body per request), so \`llm_cache\` canonicalises, hashes, misses, forwards and stores each one;"
	echo "the limiter's zone (\`key {http.request.header.Authorization}\`, \`requests 100000000/s\`) never refuses."
	echo
	wrk_table miss bare "reverse_proxy (bare):bare" "+ llm_cache:cache" "+ llm_ratelimit:ratelimit" "+ llm_ratelimit + llm_cache:both"
	echo
	echo "## 3. Limiting accuracy"
	echo
	echo "One shared bucket (\`key static\`), $LIMIT_RATE requests/s, driven by hey with $CONNS connections for ${LIMIT_SECS} s; admitted requests go to the upstream."
	echo "Expected admitted = $LIMIT_RATE × seconds + depth (the bucket starts full). The depth is llm_ratelimit's \`burst\`; nginx's \`burst=N\` admits N beyond the first, so nginx runs with \`burst=depth-1\`. Medians over $ROUNDS rounds."
	echo
	echo "| contender | depth | offered req/s | admitted/s | error vs expected | 200 | 429 | 503 | peak RSS MB |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for item in "llmgate llm_ratelimit token_bucket:limit" "nginx limit_req nodelay:limit_req" "llmgate llm_ratelimit token_bucket:limit10" "nginx limit_req nodelay:limit_req10"; do
		label=${item%%:*}
		name=${item#*:}
		printf '| %s | %s | %.0f | %.1f | %s%% | %s | %s | %s | %s |\n' "$label" "${DEPTH_OF[$name]}" "$(limit_median "$name" 8)" "$(limit_median "$name" 9)" \
			"$(limit_median "$name" 10)" "$(limit_median "$name" 4)" "$(limit_median "$name" 5)" "$(limit_median "$name" 6)" "$(rss_mb limit "$name")"
	done
	echo
	echo "A bucket of depth 1 cannot bank the moment between one interval's end and the next arrival: every admission loses that gap,"
	echo "so with depth 1 the admitted rate falls as the offered rate (and CPU time for the server) falls, for any such limiter."
	echo "The depth 10 rows show the counting itself once a few gaps can be absorbed."
	echo
	echo "## 4. Streaming"
	echo
	echo "A chat stream of $STREAM_CHUNKS content events, ${STREAM_DELAY} apart (\`x-fake-chunks\`, \`x-fake-delay\`), read by \`bench/cmd/ttfb\`:"
	echo "time from sending the request to the first \`data:\` event and to the end of the stream, $STREAM_N requests per contender taken in turns."
	echo "Bare, miss and limiter requests each carry a new prompt; the hit replays one stored stream."
	echo
	echo "| contender | first event p50 ms | p99 ms | last event p50 ms | p99 ms | Δ first event vs bare (p50) | events | failed | peak RSS MB |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for item in "reverse_proxy (bare):bare:s_bare" "llm_cache miss:cache-miss:s_cache" "llm_cache hit:cache-hit:s_cache" "llm_ratelimit tokens 100000000/m:ratelimit-tokens:s_tokens"; do
		IFS=: read -r label name proc <<<"$item"
		awk -F'\t' -v n="$name" -v l="$label" -v b="$TTFB_BARE" -v rss="$(rss_mb stream "$proc")" '$1 == n {
			printf "| %s | %s | %s | %s | %s | %+.3f | %s | %s | %s |\n", l, $3, $4, $5, $6, $3 - b, $7, $8, rss }' "$STREAM_TSV"
	done
	echo
	echo "(The cache's miss and hit share one Caddy process, hence one RSS.)"
	echo
	echo "## 5. Storage: memory vs Redis"
	echo
	echo "A local \`redis-server\` (no persistence) on the same machine. Limiter: the never-refusing zone of scenario 2 with a fixed body, answered by the upstream. Cache: hits as in scenario 1."
	echo "Redis' own peak RSS: $(rss_mb redis redis) MB."
	echo
	wrk_table redis_limiter rl_memory "llm_ratelimit, memory:rl_memory" "llm_ratelimit, storage redis:rl_redis"
	echo
	wrk_table redis_hit hit_memory "llm_cache hit, memory:hit_memory" "llm_cache hit, storage redis:hit_redis"
	echo
	echo "## 6. Access log"
	echo
	echo "A Caddy site answering the scenario 1 bytes with \`respond\`, its access log written to a file, every request carrying an Anthropic key in \`x-api-key\`"
	echo "(which Caddy's own log redaction, limited to \`Authorization\`, \`Cookie\` and \`Proxy-Authorization\`, writes out in full). The run checks the plain log holds the key and the redacted one does not;"
	echo "there the header reads \`${REDACTED_LINE:-?}\`."
	echo
	wrk_table access_log log_json "format json:log_json" "format llm_redact (wrapping json):log_redact"
	echo
	echo "## 7. Go benchmarks"
	echo
	echo "\`go test -bench . -benchmem -benchtime ${GO_BENCHTIME:-300ms}\` over the packages with hot paths (the Redis ones against a local redis-server). One run, on the same machine right after the load tests."
	echo
	echo "| package | benchmark | ns/op | MB/s | B/op | allocs/op | other |"
	echo "|---|---|---:|---:|---:|---:|---|"
	awk '
		/^pkg: / { pkg = $2; sub(/^github.com\/llmgate\/caddy-llmgate\/?/, "", pkg); if (pkg == "") pkg = "llmgate" }
		/^Benchmark/ {
			name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
			ns = mbs = bop = allocs = other = ""
			for (i = 3; i < NF; i += 2) {
				v = $i; u = $(i + 1)
				if (u == "ns/op") ns = v
				else if (u == "MB/s") mbs = v
				else if (u == "B/op") bop = v
				else if (u == "allocs/op") allocs = v
				else other = other (other == "" ? "" : ", ") v " " u
			}
			printf "| %s | %s | %s | %s | %s | %s | %s |\n", pkg, name, ns, mbs, bop, allocs, other
		}' "$GOBENCH_TXT"
	echo
	if ((${#SKIPPED[@]})); then
		echo "## Skipped"
		echo
		printf -- '- %s\n' "${SKIPPED[@]}"
		echo
	fi
	echo "## Commands"
	echo
	echo "Ports are picked at run time; \`$WORK\` was the run's temporary directory. Body and Lua script:"
	echo
	echo '```'
	echo "chat body:   $(cat "$CHAT_BODY")"
	echo "stream body: $(cat "$STREAM_BODY")"
	echo '```'
	echo
	echo "<details><summary>Every command run</summary>"
	echo
	echo '```sh'
	cat "$WORK/commands.txt"
	echo '```'
	echo
	echo "</details>"
	echo
	echo "<details><summary>Caddyfiles and nginx configs</summary>"
	echo
	for f in "$WORK"/caddy/*/Caddyfile "$WORK"/nginx/*/nginx.conf; do
		echo "\`${f#"$WORK"/}\`"
		echo
		echo '```'
		# The respond site's inline answer is the captured llm_cache hit; shortened here.
		awk '/respond <<BODY$/ { print; getline; print substr($0, 1, 80) "…"; skip = 1; next } skip && /^BODY/ { skip = 0 } !skip' "$f"
		echo '```'
		echo
	done
	echo "</details>"
} >"$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"

sed -n '/^## Targets/,/^## Commands/p' "$RESULTS" | sed '$d'
log "done in ${ELAPSED}s; wrote $RESULTS"
DONE=1
