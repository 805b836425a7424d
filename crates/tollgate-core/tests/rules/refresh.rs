//! Refreshing (RFC 6749 §6): the refresh count, rotation and reuse, scopes, epochs.

use crate::common::*;

/// SPEC §1 refresh count: how many refreshes an authorization allows, counted through the
/// whole rotation chain.
#[tokio::test]
async fn refresh_count_allows_exactly_that_many_refreshes() {
    let w = world().await;
    let alice = w.user("alice").await;
    // (refresh_count, refreshes that succeed before none is left; None = unlimited)
    let cases: [(LimitInput, Option<usize>); 5] = [
        (LimitInput::Number(Some(0)), Some(0)),
        (LimitInput::Number(Some(1)), Some(1)),
        (LimitInput::Number(Some(2)), Some(2)),
        (LimitInput::Number(Some(3)), Some(3)),
        (LimitInput::keyword("unlimited"), None),
    ];
    for (i, (count, allowed)) in cases.into_iter().enumerate() {
        let label = format!("{count:?}");
        let app = w.app(&format!("app{i}"), Reg::refresh(count)).await;
        let mut r = w.code_flow(&app, &alice).await;
        let (mut done, mut last) = (0, None);
        while let Some(rt) = r.refresh_token.take() {
            // Six stand for "unlimited"; a limited count that keeps going stops there too.
            if done == 6 {
                break;
            }
            r = w.token(&app, refresh(&rt, None)).await.unwrap();
            assert!(w.active(&r.access_token).await, "{label}");
            last = Some(rt);
            done += 1;
        }
        match allowed {
            Some(n) => assert_eq!(done, n, "{label}"),
            None => assert_eq!(done, 6, "{label}: still refreshing"),
        }
        // The last token used cannot be used again.
        if let Some(rt) = last {
            let refused = w.refused(&app, refresh(&rt, None)).await;
            assert_eq!(refused, "invalid_grant", "{label}");
        }
    }
}

/// RFC 9700 §4.14.2: a rotated refresh token presented again revokes the whole
/// authorization.
#[tokio::test]
async fn refresh_rotation_detects_reuse_and_revokes_the_family() {
    let w = world().await;
    let web = w.app("web", Reg::refresh(unlimited())).await;
    let alice = w.user("alice").await;
    let first = w.code_flow(&web, &alice).await;
    let rt1 = first.refresh_token.unwrap();
    let second = w.token(&web, refresh(&rt1, None)).await.unwrap();
    let rt2 = second.refresh_token.unwrap();
    assert!(!w.active(&rt1).await, "rotated");
    assert!(w.active(&rt2).await);
    assert_eq!(w.refused(&web, refresh(&rt1, None)).await, "invalid_grant");
    for t in [&first.access_token, &second.access_token, &rt2] {
        assert!(!w.active(t).await);
    }
    assert_eq!(w.refused(&web, refresh(&rt2, None)).await, "invalid_grant");
    // Another authorization of the same user and client is untouched.
    let other = w.code_flow(&web, &alice).await;
    assert!(w.active(&other.access_token).await);
}

/// RFC 6749 §6 scope rules and the refusals of a refresh, one row a case; each row starts
/// from a fresh authorization with scopes `read write`.
#[tokio::test]
async fn refresh_request_cases() {
    let w = world().await;
    let web = w.app("web", Reg::refresh(unlimited())).await;
    let other = w.app("other", Reg::refresh(unlimited())).await;
    let alice = w.user("alice").await;
    // (case, asked by the other client, scope, the scope granted or the error)
    type Case<'a> = (&'a str, bool, Option<&'a str>, Result<&'a str, &'a str>);
    let cases: [Case; 6] = [
        ("no scope keeps the grant", false, None, Ok("read write")),
        ("narrowed", false, Some("write"), Ok("write")),
        (
            "blank scope keeps the grant",
            false,
            Some(" "),
            Ok("read write"),
        ),
        (
            "wider than granted",
            false,
            Some("read admin"),
            Err("invalid_scope"),
        ),
        ("another client's token", true, None, Err("invalid_grant")),
        (
            "another client's token, narrowed",
            true,
            Some("read"),
            Err("invalid_grant"),
        ),
    ];
    for (name, by_other, scope, expected) in cases {
        let rt = w.code_flow(&web, &alice).await.refresh_token.unwrap();
        let app = if by_other { &other } else { &web };
        let got = w.token(app, refresh(&rt, scope)).await;
        let got = got.as_ref().map(|r| r.scope.as_str()).map_err(|e| e.code());
        assert_eq!(got, expected, "{name}");
    }
    // A narrowed refresh keeps the family's grant for the next one.
    let rt = w.code_flow(&web, &alice).await.refresh_token.unwrap();
    let narrowed = w.token(&web, refresh(&rt, Some("read"))).await.unwrap();
    let i = w.introspect(&narrowed.access_token).await;
    assert_eq!(i.scope.as_deref(), Some("read"));
    let again = w
        .token(&web, refresh(&narrowed.refresh_token.unwrap(), None))
        .await
        .unwrap();
    assert_eq!(again.scope, "read write");
    // Granted `read` only: what the client may have beyond it is wider all the same.
    let req = AuthorizeRequest {
        scope: Some("read".into()),
        ..code_request(&web)
    };
    let code = w.code(&alice, req).await;
    let granted = w.token(&web, exchange(&code)).await.unwrap();
    assert_eq!(granted.scope, "read");
    let rt = granted.refresh_token.unwrap();
    for wider in ["read write", "write", "read admin"] {
        let got = w.refused(&web, refresh(&rt, Some(wider))).await;
        assert_eq!(got, "invalid_scope", "{wider}");
    }
    // An access token is not a refresh token.
    let access = w.code_flow(&web, &alice).await.access_token;
    assert_eq!(
        w.refused(&web, refresh(&access, None)).await,
        "invalid_grant"
    );
}

#[tokio::test]
async fn refresh_follows_the_clients_current_scopes_and_grants() {
    let w = world().await;
    let web = w
        .app(
            "web",
            Reg {
                refresh: LimitInput::keyword("unlimited"),
                ..Reg::grants(&["authorization_code", "client_credentials"])
            },
        )
        .await;
    let alice = w.user("alice").await;
    let rt = w.code_flow(&web, &alice).await.refresh_token.unwrap();
    let id = &web.client.client_id;
    let change = |c: ClientInput| {
        let s = &w.s;
        async move { s.clients.update(&admin(), id, c, None).await.unwrap() }
    };
    change(ClientInput {
        scopes: Some(strings(&["read"])),
        ..Default::default()
    })
    .await;
    assert_eq!(
        w.refused(&web, refresh(&rt, Some("write"))).await,
        "invalid_scope"
    );
    let r = w.token(&web, refresh(&rt, None)).await.unwrap();
    assert_eq!(r.scope, "read");
    let rt = r.refresh_token.unwrap();
    change(ClientInput {
        scopes: Some(vec![]),
        ..Default::default()
    })
    .await;
    assert_eq!(w.refused(&web, refresh(&rt, None)).await, "invalid_scope");
    change(ClientInput {
        scopes: Some(strings(&["read"])),
        grant_types: Some(strings(&["client_credentials"])),
        redirect_uris: Some(vec![]),
        ..Default::default()
    })
    .await;
    assert_eq!(
        w.refused(&web, refresh(&rt, None)).await,
        "unauthorized_client"
    );
    // Given back, the family works again, with the scope it was narrowed to for good.
    change(ClientInput {
        scopes: Some(strings(&["read", "write"])),
        grant_types: Some(strings(&["authorization_code", "client_credentials"])),
        redirect_uris: Some(vec![REDIRECT.into()]),
        ..Default::default()
    })
    .await;
    let r = w.token(&web, refresh(&rt, None)).await.unwrap();
    assert_eq!(r.scope, "read");
}

/// Epochs (SPEC §2): revoke-all, deactivation and a password change end every refresh
/// token issued before them.
#[tokio::test]
async fn refresh_after_an_epoch_change_is_invalid_grant() {
    let w = world().await;
    let reg = || Reg::refresh(unlimited());
    let off = || UserChange {
        active: Some(false),
        ..Default::default()
    };
    let on = || UserChange {
        active: Some(true),
        ..Default::default()
    };
    let cases = [
        "client revoke-all",
        "client deactivated and reactivated",
        "user deactivated",
        "user deactivated and reactivated",
        "user password changed",
    ];
    for (i, name) in cases.into_iter().enumerate() {
        let app = w.app(&format!("app{i}"), reg()).await;
        let user = w.user(&format!("user{i}")).await;
        let r = w.code_flow(&app, &user).await;
        let rt = r.refresh_token.unwrap();
        let (c, u) = (&app.client.client_id, &user.id);
        match i {
            0 => {
                w.s.clients.revoke_all_tokens(&admin(), c).await.unwrap();
            }
            1 => {
                w.s.clients
                    .set_active(&admin(), c, false, None)
                    .await
                    .unwrap();
                // While deactivated, the client itself is refused.
                let refused = w.refused(&app, refresh(&rt, None)).await;
                assert_eq!(refused, "invalid_client", "{name}");
                w.s.clients
                    .set_active(&admin(), c, true, None)
                    .await
                    .unwrap();
            }
            2 => {
                w.s.users.update(&admin(), u, off()).await.unwrap();
            }
            3 => {
                w.s.users.update(&admin(), u, off()).await.unwrap();
                w.s.users.update(&admin(), u, on()).await.unwrap();
            }
            _ => {
                w.s.users
                    .set_password(&admin(), u, "another long password")
                    .await
                    .unwrap();
            }
        }
        assert_eq!(
            w.refused(&app, refresh(&rt, None)).await,
            "invalid_grant",
            "{name}"
        );
        assert!(!w.active(&r.access_token).await, "{name}");
        // New authorizations work again once the owner is active.
        if i != 2 {
            // As a new sign-in would see the user: in the epoch now.
            let user = w.s.users.get(&user.id).await.unwrap();
            let fresh = w.code_flow(&app, &user).await;
            assert!(w.active(&fresh.access_token).await, "{name}");
        }
    }
}
