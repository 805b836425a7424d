//! Introspection (RFC 7662) and revocation (RFC 7009).

use crate::common::*;

#[tokio::test]
async fn introspection_cases() {
    let w = world().await;
    let svc = w
        .app(
            "svc",
            Reg {
                lifetime: LimitInput::Number(Some(60)),
                ..Reg::grants(&["client_credentials"])
            },
        )
        .await;
    let live = w.token(&svc, cc(None)).await.unwrap().access_token;
    let revoked = w.token(&svc, cc(None)).await.unwrap().access_token;
    w.s.oauth
        .revoke(&svc.client, revoked.expose(), None)
        .await
        .unwrap();
    let tampered = Secret::new(format!("{}x", live.expose()));
    let id_only = Secret::new(live.expose().split('.').next().unwrap().to_owned());
    let cases: [(&str, &Secret, bool); 6] = [
        ("live", &live, true),
        ("revoked", &revoked, false),
        ("tampered secret part", &tampered, false),
        ("id without secret", &id_only, false),
        ("garbage", &Secret::new("garbage".into()), false),
        ("empty", &Secret::new("".into()), false),
    ];
    for (name, token, active) in cases {
        let i = w.introspect(token).await;
        assert_eq!(i.active, active, "{name}");
        if !active {
            // RFC 7662 §2.2: an inactive token says nothing else.
            assert_eq!(i, Introspection::default(), "{name}");
        }
    }
    w.advance(59);
    assert!(w.active(&live).await);
    w.advance(1);
    assert_eq!(
        w.introspect(&live).await,
        Introspection::default(),
        "expired"
    );
}

/// Introspection answers for any token of the server (the endpoint's caller was
/// authenticated before): another client's token is described with its own client.
#[tokio::test]
async fn introspection_describes_another_clients_token_as_that_clients() {
    let w = world().await;
    let reg = || Reg::grants(&["client_credentials"]);
    let a = w.app("a", reg()).await;
    w.app("b", reg()).await;
    let t = w.token(&a, cc(Some("read"))).await.unwrap().access_token;
    let i = w.introspect(&t).await;
    assert_eq!(i.client_id.as_deref(), Some(a.client.client_id.as_str()));
    assert_eq!(i.scope.as_deref(), Some("read"));
}

// ---- revocation (RFC 7009) ------------------------------------------------------------

#[tokio::test]
async fn revocation_is_idempotent_and_ignores_unknown_and_foreign_tokens() {
    let w = world().await;
    let reg = || Reg::grants(&["client_credentials"]);
    let a = w.app("a", reg()).await;
    let b = w.app("b", reg()).await;
    let t = w.token(&a, cc(None)).await.unwrap().access_token;
    let revoke = |app: &App, token: &str| {
        let (s, c, token) = (&w.s, app.client.clone(), token.to_owned());
        async move { s.oauth.revoke(&c, &token, None).await.map_err(|e| e.code()) }
    };
    // RFC 7009 §2.2: another client's token is not revoked, and the answer is the same.
    assert_eq!(revoke(&b, t.expose()).await, Ok(()));
    assert!(w.active(&t).await);
    assert_eq!(revoke(&a, "unknown").await, Ok(()));
    assert_eq!(revoke(&a, t.expose()).await, Ok(()));
    assert!(!w.active(&t).await);
    assert_eq!(revoke(&a, t.expose()).await, Ok(()), "twice");
    assert_eq!(revoke(&a, "").await, Err("invalid_request"));
}

/// RFC 7009 §2.1: revoking a refresh token takes its authorization with it; revoking an
/// access token takes only itself.
#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_family() {
    let w = world().await;
    let web = w.app("web", Reg::refresh(unlimited())).await;
    let alice = w.user("alice").await;
    let one = w.code_flow(&web, &alice).await;
    let two = w.code_flow(&web, &alice).await;
    w.s.oauth
        .revoke(&web.client, one.access_token.expose(), None)
        .await
        .unwrap();
    assert!(!w.active(&one.access_token).await);
    let rt1 = one.refresh_token.unwrap();
    assert!(w.active(&rt1).await, "an access token takes only itself");
    let rt2 = two.refresh_token.unwrap();
    w.s.oauth
        .revoke(&web.client, rt2.expose(), None)
        .await
        .unwrap();
    assert!(!w.active(&two.access_token).await);
    assert!(!w.active(&rt2).await);
    assert_eq!(w.refused(&web, refresh(&rt2, None)).await, "invalid_grant");
    assert!(w.active(&rt1).await, "other authorizations stay");
    let filter = AuditFilter {
        action: Some("token.revoke".into()),
        ..Default::default()
    };
    let entries = w.s.audit.list(&filter, None, None).await.unwrap().items;
    let kinds: Vec<String> = entries
        .iter()
        .map(|e| format!("{} {}", e.event.actor, e.event.target_type))
        .collect();
    let actor = format!("client:{} token", web.client.client_id);
    assert_eq!(kinds, vec![actor.clone(), actor]);
}
