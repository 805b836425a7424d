-- wrk script: POST /oauth2/introspect of one active token, authenticated as the client
-- (client_secret_basic). Environment: CLIENT_ID, CLIENT_SECRET, TOKEN.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

wrk.method = "POST"
wrk.body = "token=" .. common.form_encode(common.env("TOKEN"))
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = common.basic_auth()

done = common.done
