-- wrk script: POST /oauth2/token grant_type=refresh_token with rotation. A FIFO pool of
-- refresh tokens is read from REFRESH_FILE (one per line; needs more tokens than
-- connections); request() takes one, response() puts back the new refresh_token of each
-- 200, so no token is ever presented twice. A non-200 loses its token; if the pool runs dry
-- the request carries an invalid token and counts as an error.
-- Environment: CLIENT_ID, CLIENT_SECRET, REFRESH_FILE.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = common.basic_auth()

local pool, head, tail = {}, 1, 0
function init(args)
  for _, t in ipairs(common.read_lines(common.env("REFRESH_FILE"))) do
    tail = tail + 1
    pool[tail] = t
  end
end

function request()
  local t = "pool-ran-dry"
  if head <= tail then
    t = pool[head]
    pool[head] = nil
    head = head + 1
  end
  return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=" .. common.form_encode(t))
end

function response(status, headers, body)
  if status == 200 then
    local t = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if t then
      tail = tail + 1
      pool[tail] = t
    end
  end
end

function done(summary, latency, requests)
  common.done(summary, latency, requests)
end
