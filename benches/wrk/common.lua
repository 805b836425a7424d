-- Shared by the wrk scripts of scripts/bench.sh (loaded with dofile from the script's own
-- directory): Basic auth, form encoding, a monotonic clock, line files, and the
-- RESULT_JSON summary line bench.sh parses.
local M = {}

local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
function M.base64(data)
  return ((data:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#data % 3 + 1])
end

-- RFC 6749 §2.3.1: client_id and secret are form-encoded before the Basic encoding.
function M.form_encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function M.basic_auth()
  local id, secret = os.getenv("CLIENT_ID"), os.getenv("CLIENT_SECRET")
  assert(id and secret, "CLIENT_ID and CLIENT_SECRET must be set")
  return "Basic " .. M.base64(M.form_encode(id) .. ":" .. M.form_encode(secret))
end

function M.env(name)
  local v = os.getenv(name)
  assert(v and v ~= "", name .. " must be set")
  return v
end

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
  int getpid(void);
  int kill(int pid, int sig);
]]
local ts = ffi.new("bench_timespec")
-- Microseconds on CLOCK_MONOTONIC.
function M.now_us()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

-- Ends the run now rather than at wrk's -d: stops this thread, records when (t_out, for
-- done()), and interrupts wrk's main thread the way Ctrl-C does. The scripts run with -t1.
function M.finish()
  if t_out then return end
  t_out = M.now_us()
  wrk.thread:stop()
  ffi.C.kill(ffi.C.getpid(), 2)
end

function M.read_lines(path)
  local t = {}
  local f = assert(io.open(path, "r"))
  for line in f:lines() do
    if line ~= "" then t[#t + 1] = line end
  end
  f:close()
  return t
end

-- Scripts that may end before wrk's -d (a finite supply of codes) record, per thread, the
-- time of their first request (t_first) and of the moment they ran out (t_out); done()
-- then divides by the time the load really ran. `threads` collects them in setup().
M.threads = {}
function M.setup(thread)
  table.insert(M.threads, thread)
end

function M.done(summary, latency, requests)
  local e = summary.errors
  local duration = summary.duration
  local ran_out = 0
  for _, t in ipairs(M.threads) do
    local first, out = t:get("t_first"), t:get("t_out")
    if first and out and out > first then
      ran_out = 1
      duration = math.min(duration, out - first)
    end
  end
  io.write(string.format(
    'RESULT_JSON {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,"ran_out":%d}\n',
    summary.requests, duration, summary.requests / (duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout, ran_out))
end

return M
