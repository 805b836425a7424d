#!/usr/bin/env python3
"""Signs a user in through Tollgate's real sign-in page and approves the consent page once,
as a browser would (cookies, hidden CSRF fields, no redirects followed automatically).

Usage: signin.py BASE USERNAME PASSWORD AUTHORIZE_QUERY
Prints the session cookie (tollgate_session=...) on stdout; exits non-zero if any step
does not behave as expected. AUTHORIZE_QUERY is the query string of the /oauth2/authorize
request the bench will repeat; after this script it redirects straight to the client.
"""
import html
import http.client
import re
import sys
import urllib.parse

base, username, password, query = sys.argv[1:5]
u = urllib.parse.urlsplit(base)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
cookies = {}


def request(method, path, body=None):
    headers = {}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        body = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    res = conn.getresponse()
    text = res.read().decode("utf-8", "replace")
    for h in res.headers.get_all("Set-Cookie") or []:
        name, _, rest = h.partition("=")
        value = rest.split(";", 1)[0]
        if value and "Max-Age=0" not in h and "1970" not in h:
            cookies[name.strip()] = value
        else:
            cookies.pop(name.strip(), None)
    return res.status, res.headers.get("Location", ""), text


def hidden_inputs(page):
    out = []
    for tag in re.findall(r"<input[^>]*>", page):
        if 'type="hidden"' not in tag:
            continue
        n = re.search(r'name="([^"]*)"', tag)
        v = re.search(r'value="([^"]*)"', tag)
        if n and v:
            out.append((html.unescape(n.group(1)), html.unescape(v.group(1))))
    return out


def fail(msg):
    sys.exit(f"signin: {msg}")


authorize = "/oauth2/authorize?" + query
status, loc, _ = request("GET", authorize)
if status != 303 or not loc.startswith("/login"):
    fail(f"authorize without a session: expected 303 to /login, got {status} {loc!r}")
status, _, page = request("GET", loc)
if status != 200:
    fail(f"GET {loc}: {status}")
form = hidden_inputs(page) + [("username", username), ("password", password)]
status, loc, page = request("POST", "/login", form)
if status != 303 or "tollgate_session" not in cookies:
    fail(f"sign-in failed: {status} {page[:300]!r}")
status, loc, page = request("GET", loc)
if status == 200 and 'action="/oauth2/consent"' in page:
    form = hidden_inputs(page) + [("decision", "allow")]
    status, loc, page = request("POST", "/oauth2/consent", form)
if status != 303 or "code=" not in loc:
    fail(f"authorize after sign-in/consent: expected a redirect with a code, got {status} {loc!r} {page[:300]!r}")
# Consent is remembered now: the same request redirects straight away.
status, loc, _ = request("GET", authorize)
if status != 303 or "code=" not in loc:
    fail(f"second authorize: expected a redirect with a code, got {status} {loc!r}")
print(f"tollgate_session={cookies['tollgate_session']}")
