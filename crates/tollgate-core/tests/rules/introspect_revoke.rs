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
    // Tokens are `<id>.<secret>` and found by id: a real id must not be enough.
    let other = w.token(&svc, cc(None)).await.unwrap().access_token;
    let (live_id, _) = live.expose().split_once('.').unwrap();
    let (_, other_secret) = other.expose().split_once('.').unwrap();
    let foreign_secret = Secret::new(format!("{live_id}.{other_secret}"));
    let l = live.expose();
    let truncated = Secret::new(l[..l.len() - 1].to_owned());
    let last = if l.ends_with('A') { "B" } else { "A" };
    let last_changed = Secret::new(format!("{}{last}", &l[..l.len() - 1]));
    let cases: [(&str, &Secret, bool); 10] = [
        ("live", &live, true),
        ("another live one", &other, true),
        ("revoked", &revoked, false),
        ("tampered secret part", &tampered, false),
        ("id without secret", &id_only, false),
        ("its id with another token's secret", &foreign_secret, false),
        ("its last character cut", &truncated, false),
        ("its last character changed", &last_changed, false),
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

/// RFC 7009 §2.1 within an authorization: revoking an access token leaves its refresh token
/// usable and every other token alive; revoking a successor refresh token takes the
/// authorization's first access token too.
#[tokio::test]
async fn revocation_takes_what_belongs_to_the_token_and_nothing_else() {
    let w = world().await;
    let reg = Reg {
        refresh: unlimited(),
        ..Reg::grants(&["authorization_code", "client_credentials"])
    };
    let web = w.app("web", reg).await;
    let alice = w.user("alice").await;
    let one = w.code_flow(&web, &alice).await;
    let two = w.code_flow(&web, &alice).await;
    let machine = w.token(&web, cc(None)).await.unwrap().access_token;
    let revoke = |t: &Secret| {
        let (s, c, t) = (&w.s, web.client.clone(), t.expose().to_owned());
        async move { s.oauth.revoke(&c, &t, None).await.unwrap() }
    };
    revoke(&one.access_token).await;
    assert!(!w.active(&one.access_token).await);
    let rt1 = one.refresh_token.unwrap();
    for (what, t) in [
        ("its refresh token", &rt1),
        ("another authorization's token", &two.access_token),
        ("a client credentials token", &machine),
    ] {
        assert!(w.active(t).await, "{what}");
    }
    // The authorization lives on: its refresh token still refreshes.
    let refreshed = w.token(&web, refresh(&rt1, None)).await.unwrap();
    let successor = refreshed.refresh_token.unwrap();
    assert!(w.active(&refreshed.access_token).await);

    // Revoking the successor takes the whole authorization, from its first token on.
    let three = w.code_flow(&web, &alice).await;
    let r = w
        .token(&web, refresh(three.refresh_token.as_ref().unwrap(), None))
        .await
        .unwrap();
    let rt = r.refresh_token.unwrap();
    revoke(&rt).await;
    for (what, t) in [
        ("the revoked refresh token", &rt),
        ("the access token issued with it", &r.access_token),
        (
            "the first access token of the authorization",
            &three.access_token,
        ),
    ] {
        assert!(!w.active(t).await, "{what}");
    }
    assert_eq!(w.refused(&web, refresh(&rt, None)).await, "invalid_grant");
    let rt2 = two.refresh_token.unwrap();
    for (what, t) in [
        ("another authorization's access token", &two.access_token),
        ("another authorization's refresh token", &rt2),
        ("the first authorization's successor", &successor),
    ] {
        assert!(w.active(t).await, "{what}");
    }
}
