//! SPEC §9 resource limits, against the built binary so its memory can be read: a burst of
//! sign-ins runs at most `password_hashing.max_concurrent` Argon2id computations (19 MiB
//! each) at once and sheds the rest at once with 503 and `Retry-After` (issue 13, finding 1:
//! 150 parallel failed sign-ins took the process from 16 MB to 2.76 GB).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::binary::spawn_server_env;
use common::browser::{hidden_inputs, Browser};
use std::time::{Duration, Instant};
use tollgate_test_macros::backends;

/// Peak resident memory of a process (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[backends(serial)]
#[test]
fn a_burst_of_sign_ins_keeps_memory_bounded_and_sheds_the_excess(db: TestDb) {
    // The brute-force limits are off, so that only the hashing gate stands between the
    // burst and the memory.
    let server = spawn_server_env(
        &db.url,
        Some("admin-password"),
        &[
            ("TOLLGATE_RATE_LIMIT__USER_PER_MINUTE", "0"),
            ("TOLLGATE_RATE_LIMIT__USER_UNTRUSTED_PER_MINUTE", "0"),
            ("TOLLGATE_RATE_LIMIT__ADDRESS_PER_MINUTE", "0"),
            ("TOLLGATE_PASSWORD_HASHING__MAX_CONCURRENT", "2"),
            ("TOLLGATE_PASSWORD_HASHING__MAX_WAITING", "8"),
        ],
    );
    let pid = server.child.id();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let before = peak_rss_kib(pid);
    let started = Instant::now();
    let statuses = rt.block_on(async {
        let browser = Browser::new(&server.base);
        let page = browser.get("/login").await.text().await.unwrap();
        let form = hidden_inputs(&page);
        let attempts = (0..150).map(|i| {
            let mut f = form.clone();
            f.push(("username".into(), format!("nobody-{i}")));
            f.push(("password".into(), "guess".into()));
            let b = &browser;
            async move {
                let res = b.post_form("/login", &f).await;
                let retry = res.headers().get("retry-after").is_some();
                (res.status().as_u16(), retry)
            }
        });
        futures::future::join_all(attempts).await
    });
    let elapsed = started.elapsed();
    let after = peak_rss_kib(pid);
    let grew_mib = (after.saturating_sub(before)) / 1024;
    let verified = statuses.iter().filter(|(s, _)| *s == 401).count();
    let shed = statuses.iter().filter(|(s, r)| *s == 503 && *r).count();
    eprintln!(
        "150 sign-ins: {verified} verified, {shed} shed, peak RSS {} -> {} MiB, {elapsed:?}",
        before / 1024,
        after / 1024
    );
    assert_eq!(
        verified + shed,
        150,
        "only 401 or 503 + Retry-After: {statuses:?}"
    );
    assert!(verified >= 2, "the slots were used");
    assert!(shed >= 100, "the excess is shed at once: {shed}");
    // Two computations of 19 MiB (one block per hashing thread, reused), plus slack;
    // unbounded, this was gigabytes.
    assert!(grew_mib < 60, "peak RSS grew by {grew_mib} MiB");
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}
