-- wrk script: GET /oauth2/authorize with a signed-in user's session cookie and remembered
-- consent, so every request issues an authorization code (303 to the redirect URI). Writes
-- each code to CODES_OUT, one per line, and stops once it has CODES of them.
-- Environment: AUTHORIZE_QUERY (the query string), SESSION_COOKIE ("tollgate_session=…"),
-- CODES_OUT (file), CODES (how many). Stops early after 100 responses without a code.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

wrk.method = "GET"
wrk.path = "/oauth2/authorize?" .. common.env("AUTHORIZE_QUERY")
wrk.headers["Cookie"] = common.env("SESSION_COOKIE")

local out, want, got, bad = nil, 0, 0, 0
function init(args)
  out = assert(io.open(common.env("CODES_OUT"), "w"))
  out:setvbuf("full")
  want = tonumber(common.env("CODES"))
end

function response(status, headers, body)
  if t_out then return end -- stopping: responses still in flight are not counted
  local loc = headers["location"] or headers["Location"] or ""
  local code = loc:match("[?&]code=([^&#]+)")
  if status == 303 and code then
    out:write(code, "\n")
    got = got + 1
    if got % 1000 == 0 then out:flush() end
    if got >= want then
      out:flush()
      common.finish()
    end
  else
    -- No code (a page, or an error redirect): the set-up is wrong; stop rather than spin.
    bad = bad + 1
    if bad >= 100 then common.finish() end
  end
end

function request()
  t_first = t_first or common.now_us()
  return wrk.format()
end

setup = common.setup
function done(summary, latency, requests)
  common.done(summary, latency, requests)
end
