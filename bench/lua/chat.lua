-- wrk script for llmgate's benchmarks: POSTs a chat body with headers.
--
--   wrk ... -s bench/lua/chat.lua URL -- MODE BODYFILE NONCE ["Name: value" ...]
--
-- MODE fixed:  every request sends BODYFILE as it is (cache hits).
-- MODE unique: "{{nonce}}" in BODYFILE becomes NONCE-<thread>-<counter>, so
--              every request is a new prompt (cache misses), also across rounds
--              when NONCE changes.
-- done() prints one machine-readable line that bench/cmd/report parses:
--   WRKRESULT requests duration_us non2xx socket_errors p50_us p99_us

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local function readfile(path)
  local f = assert(io.open(path, "rb"), "chat.lua: cannot open body file " .. tostring(path))
  local s = f:read("*a")
  f:close()
  return s
end

function init(args)
  local mode, bodyfile, nonce = args[1], args[2], args[3]
  assert(mode == "fixed" or mode == "unique", "chat.lua: MODE must be fixed or unique")
  local headers = { ["Content-Type"] = "application/json" }
  for i = 4, #args do
    local name, value = string.match(args[i], "^([^:]+):%s*(.*)$")
    assert(name, "chat.lua: header must be 'Name: value', got " .. args[i])
    headers[name] = value
  end
  local body = readfile(bodyfile)
  if mode == "fixed" then
    local req = wrk.format("POST", nil, headers, body)
    request = function() return req end
    return
  end
  local s, e = string.find(body, "{{nonce}}", 1, true)
  assert(s, "chat.lua: unique mode needs {{nonce}} in the body")
  local head, tail = string.sub(body, 1, s - 1), string.sub(body, e + 1)
  local prefix = nonce .. "-" .. tostring(tid) .. "-"
  local n = 0
  request = function()
    n = n + 1
    return wrk.format("POST", nil, headers, head .. prefix .. n .. tail)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKRESULT %d %d %d %d %d %d\n",
    summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
