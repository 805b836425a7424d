//! Micro-benchmarks of the per-request work on the token and introspection paths:
//! `cargo bench -p tollgate-core`. Load tests of the whole server: `scripts/bench.sh`.
#![allow(clippy::unwrap_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tollgate_core::client::{validate, ClientInput, LimitInput};
use tollgate_core::oauth::pkce;
use tollgate_core::secret::{Secret, SecretHasher};
use tollgate_core::Policy;

fn secrets(c: &mut Criterion) {
    let h = SecretHasher::new([7; 32]);
    let secret = Secret::generate().unwrap();
    let stored = h.hash(secret.expose());
    c.bench_function("secret: generate 256-bit", |b| {
        b.iter(|| Secret::generate().unwrap())
    });
    c.bench_function("secret: hmac-sha256 hash", |b| {
        b.iter(|| h.hash(black_box(secret.expose())))
    });
    c.bench_function("secret: verify (constant time)", |b| {
        b.iter(|| h.verify(black_box(secret.expose()), black_box(&stored)))
    });
}

fn pkce_verify(c: &mut Criterion) {
    let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let ch = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    c.bench_function("pkce: verify S256", |b| {
        b.iter(|| pkce::verify_s256(black_box(v), black_box(ch)))
    });
}

fn client_rules(c: &mut Criterion) {
    let input = ClientInput {
        name: Some("Billing".into()),
        version: Some("1.0".into()),
        client_type: Some("confidential".into()),
        grant_types: Some(vec![
            "authorization_code".into(),
            "client_credentials".into(),
        ]),
        redirect_uris: Some(vec![
            "https://billing.example.com/cb".into(),
            "http://localhost:3000/cb".into(),
        ]),
        scopes: Some(vec!["read".into(), "write".into()]),
        access_token_lifetime: Some(LimitInput::Number(Some(3600))),
        refresh_count: Some(LimitInput::keyword("unlimited")),
        ..Default::default()
    };
    c.bench_function("client: validate every SPEC §1 rule", |b| {
        b.iter(|| validate(black_box(&input), None, Policy::default()).unwrap())
    });
}

criterion_group!(benches, secrets, pkce_verify, client_rules);
criterion_main!(benches);
