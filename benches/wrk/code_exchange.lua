-- wrk script: POST /oauth2/token grant_type=authorization_code (with the PKCE verifier),
-- client_secret_basic. Each code of CODES_FILE (one per line, from authorize.lua) is used
-- exactly once; when they run out the thread stops and RESULT_JSON divides by the time the
-- load really ran ("ran_out":1).
-- Environment: CLIENT_ID, CLIENT_SECRET, CODES_FILE, CODE_VERIFIER (empty: no PKCE),
-- REDIRECT_URI (empty: not sent; only needed if the authorize request carried one).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = common.basic_auth()

local codes, i, suffix = {}, 0, ""
function init(args)
  codes = common.read_lines(common.env("CODES_FILE"))
  local v, r = os.getenv("CODE_VERIFIER") or "", os.getenv("REDIRECT_URI") or ""
  if v ~= "" then suffix = suffix .. "&code_verifier=" .. common.form_encode(v) end
  if r ~= "" then suffix = suffix .. "&redirect_uri=" .. common.form_encode(r) end
end

function request()
  t_first = t_first or common.now_us()
  i = i + 1
  local code = codes[i]
  if not code then
    -- Out of codes: stop the run; anything the loop still sends goes to /healthz.
    common.finish()
    return wrk.format("GET", "/healthz", {}, nil)
  end
  return wrk.format(nil, nil, nil, "grant_type=authorization_code&code=" .. code .. suffix)
end

setup = common.setup
function done(summary, latency, requests)
  common.done(summary, latency, requests)
end
