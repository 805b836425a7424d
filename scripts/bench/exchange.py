#!/usr/bin/env python3
"""Exchanges authorization codes for tokens one by one over a keep-alive connection and
prints one field of each response per line (refresh_token for the refresh pool of
scripts/bench.sh).

Usage: exchange.py BASE CODES_FILE FIELD  (env: CLIENT_ID, CLIENT_SECRET, CODE_VERIFIER)
A refused code is reported on stderr and skipped (the pool only needs enough tokens);
exits 1 if every code was refused.
"""
import base64
import http.client
import json
import os
import sys
import urllib.parse

base, codes_file, field = sys.argv[1:4]
u = urllib.parse.urlsplit(base)
q = urllib.parse.quote
cred = f"{q(os.environ['CLIENT_ID'], safe='')}:{q(os.environ['CLIENT_SECRET'], safe='')}"
headers = {
    "Authorization": "Basic " + base64.b64encode(cred.encode()).decode(),
    "Content-Type": "application/x-www-form-urlencoded",
}
verifier = os.environ.get("CODE_VERIFIER", "")
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
with open(codes_file) as f:
    codes = [line.strip() for line in f if line.strip()]
ok = 0
for i, code in enumerate(codes):
    form = {"grant_type": "authorization_code", "code": code}
    if verifier:
        form["code_verifier"] = verifier
    conn.request("POST", "/oauth2/token", body=urllib.parse.urlencode(form), headers=headers)
    res = conn.getresponse()
    body = res.read()
    if res.status != 200:
        print(f"exchange: code {i + 1} of {len(codes)} refused: HTTP {res.status}: {body[:200]!r}", file=sys.stderr)
        continue
    value = json.loads(body).get(field)
    if not value:
        sys.exit(f"exchange: no {field} in the response (is refresh_count 0?)")
    print(value)
    ok += 1
if ok == 0:
    sys.exit("exchange: every code was refused")
