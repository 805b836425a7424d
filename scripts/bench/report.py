#!/usr/bin/env python3
"""Rows of scripts/bench.sh: collected as JSON lines, printed as one Markdown table.

  report.py add ROWS key=value ...    append a row; wrk=FILE reads the RESULT_JSON line of a
                                      wrk output file (req/s, p50, p99, errors, ran_out)
  report.py get ROWS ID FIELD         print one field of a row (for the script's own checks)
  report.py table ROWS [PEERS_TSV]    the table; PEERS_TSV is run-peers.sh's results.tsv

Row keys: id (unique; the targets and comparisons refer to it), label, db, conns, rss (MiB),
ms (a timing instead of a wrk run), note, issues=1 (a token-issuing row: ratios to the
peers at the same conns), stops=1 (a run meant to stop early), and vs=ID to compare req/s and
p99 with another row.
"""
import csv
import json
import sys


def parse_wrk(path):
    with open(path) as f:
        for line in f:
            if line.startswith("RESULT_JSON "):
                r = json.loads(line[len("RESULT_JSON "):])
                errors = sum(r[k] for k in ("err_status", "err_connect", "err_read", "err_write", "err_timeout"))
                return {
                    "rps": r["rps"],
                    "p50": r["p50_us"] / 1000,
                    "p99": r["p99_us"] / 1000,
                    "requests": r["requests"],
                    "errors": errors,
                    "ran_out": r.get("ran_out", 0),
                    "seconds": r["duration_us"] / 1e6,
                }
    sys.exit(f"report: no RESULT_JSON line in {path}")


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def add(rows_path, pairs):
    row = {}
    for p in pairs:
        k, _, v = p.partition("=")
        if k == "wrk":
            row.update(parse_wrk(v))
            row["wrk_file"] = v
        else:
            row[k] = num(v) if k in ("conns", "rss", "ms") else v
    with open(rows_path, "a") as f:
        f.write(json.dumps(row) + "\n")


def load(rows_path):
    rows = []
    try:
        with open(rows_path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        pass
    return rows


INVALID_PEERS = []


def load_peers(path):
    """{(server, conns): best req/s of the valid runs}"""
    peers = {}
    if not path:
        return peers
    with open(path) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            if r.get("valid") != "yes":
                INVALID_PEERS.append(f"{r['server']} c={r['conns']} ({r['non2xx']} non-2xx, {r['sock_err']} socket errors)")
                continue
            key = (r["server"], int(r["conns"]))
            peers[key] = max(peers.get(key, 0.0), float(r["req_s"]))
    return peers


def fmt(v, digits=2):
    if v is None or v == "":
        return ""
    if isinstance(v, float) and v >= 100:
        return f"{v:,.0f}"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def check(ok, text):
    return f"{text} {'✓' if ok else '✗'}"


def targets(r, by_id, ratios):
    """Issue 5's targets that apply to this row, each marked met (✓) or not (✗)."""
    out = []
    rid, db = r.get("id", ""), r.get("db")
    rps, p99, rss = r.get("rps"), r.get("p99"), r.get("rss")
    if rid == "cc-c32":
        out.append(check(rps >= (25000 if db == "sqlite" else 10000), "≥ 25k/s" if db == "sqlite" else "≥ 10k/s"))
        out.append(check(p99 <= 5, "p99 ≤ 5 ms"))
        if db == "sqlite" and "ceiling-mem" in ratios:
            out.append(check(ratios["ceiling-mem"] >= 0.55, "≥ 0.55 × ceiling"))
        if db == "sqlite" and "oidc-provider" in ratios:
            out.append(check(ratios["oidc-provider"] >= 8, "≥ 8 × oidc-provider"))
    elif rid == "cc-c128":
        out.append(check(p99 <= 20, "p99 ≤ 20 ms"))
        if rss is not None:
            out.append(check(rss <= 50, "RSS ≤ 50 MiB"))
    elif rid == "introspect-c32" and db == "sqlite":
        out.append(check(rps >= 35000, "≥ 35k/s"))
    elif rid in ("code-c32", "refresh-c32") and db == "sqlite":
        out.append(check(rps >= 10000, "≥ 10k/s"))
    elif rid.startswith("startup"):
        out.append(check(r["ms"] <= 100, "≤ 100 ms"))
        if rid == "startup" and rss is not None:
            out.append(check(rss <= 20, "RSS idle ≤ 20 MiB"))
    elif rid == "deactivate-scale":
        out.append(check(r["ms"] <= 50, "≤ 50 ms"))
    elif rid.endswith("-scale") and "vs" in r and r["vs"].split(":")[0] in by_id:
        base = by_id[r["vs"].split(":")[0]]
        if base.get("rps") and rps:
            out.append(check(rps >= 0.8 * base["rps"], "≥ 0.8 × empty"))
    elif rid == "janitor-cc-c32" and "vs" in r and r["vs"].split(":")[0] in by_id:
        base = by_id[r["vs"].split(":")[0]]
        if base.get("p99") and p99:
            out.append(check(p99 <= 2 * base["p99"], "p99 ≤ 2 × idle"))
    return " · ".join(out)


def table(rows_path, peers_path=None):
    rows = load(rows_path)
    by_id = {r["id"]: r for r in rows if "id" in r}
    peers = load_peers(peers_path)
    peer_names = ["ceiling-mem", "oidc-provider"]
    print("| scenario | conns | req/s | p50 ms | p99 ms | errors | RSS MiB | × ceiling | × oidc-provider | compared | target (issue 5) | note |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
    for r in rows:
        conns = int(r["conns"]) if isinstance(r.get("conns"), float) else r.get("conns", "")
        ratios = {}
        # Ratios for the token-issuing rows: Tollgate's req/s over the peer's, same conns.
        if r.get("issues") == "1" and r.get("rps") and not r.get("errors"):
            for p in peer_names:
                if (p, conns) in peers and peers[(p, conns)] > 0:
                    ratios[p] = r["rps"] / peers[(p, conns)]
        compared = ""
        if "vs" in r:
            base = by_id.get(r["vs"].split(":")[0])
            if base and base.get("rps") and base.get("p99") and r.get("rps") and r.get("p99"):
                compared = (f"req/s {r['rps'] / base['rps']:.2f} ×, p99 {r['p99'] / base['p99']:.2f} × "
                            f"those of \"{base['label']}\"")
        note = r.get("note", "")
        if r.get("errors"):
            note = f"INVALID: {int(r['errors'])} errors. {note}".strip()
        if r.get("ran_out") and r.get("stops") != "1":
            note = f"codes ran out after {r['seconds']:.1f} s; req/s over that time. {note}".strip()
        if "ms" in r:
            rps, p50, p99 = "", "", ""
            note = f"**{r['ms']:.0f} ms** {note}".strip()
        else:
            rps, p50, p99 = fmt(r.get("rps")), fmt(r.get("p50")), fmt(r.get("p99"))
        print("| " + " | ".join([
            f"{r['label']} ({r['db']})",
            str(conns),
            rps, p50, p99,
            "" if "ms" in r else str(int(r.get("errors", 0))),
            fmt(r.get("rss"), 1),
            fmt(ratios.get("ceiling-mem")), fmt(ratios.get("oidc-provider")),
            compared,
            targets(r, by_id, ratios),
            note,
        ]) + " |")
    if peers:
        print()
        print("peers in the same invocation (best valid run): " + ", ".join(
            f"{s} c={c} {v:,.0f}/s" for (s, c), v in sorted(peers.items())))
    if INVALID_PEERS:
        print("peer runs with errors, not used for ratios: " + "; ".join(INVALID_PEERS))


def main():
    cmd, rows_path, *rest = sys.argv[1:]
    if cmd == "add":
        add(rows_path, rest)
    elif cmd == "get":
        rid, field = rest
        r = {x["id"]: x for x in load(rows_path)}.get(rid, {})
        print(r.get(field, ""))
    elif cmd == "table":
        table(rows_path, rest[0] if rest and rest[0] else None)
    else:
        sys.exit(f"report: unknown command {cmd}")


if __name__ == "__main__":
    main()
