//! What the audit log records of a client change: settings as the admin API writes them
//! ("never", "unlimited", numbers), and every change with its value before and after.

use crate::common::*;
use tollgate_core::audit::{Detail, Details};

fn text(s: &str) -> Detail {
    Detail::Text(s.into())
}

fn from_to(from: Detail, to: Detail) -> Detail {
    Details::default().with("from", from).with("to", to).into()
}

#[tokio::test]
async fn audit_entries_name_never_and_unlimited_and_each_change_from_and_to() {
    let w = world().await;
    let app = w
        .app(
            "app",
            Reg {
                lifetime: LimitInput::keyword("never"),
                refresh: unlimited(),
                ..Default::default()
            },
        )
        .await;
    let id = &app.client.client_id;
    let change = ClientInput {
        access_token_lifetime: Some(LimitInput::Number(Some(60))),
        refresh_count: Some(LimitInput::Number(Some(3))),
        description: Some(Some("Billing".into())),
        ..Default::default()
    };
    w.s.clients
        .update(&admin(), id, change, None)
        .await
        .unwrap();

    let log = |action: &'static str| {
        let filter = AuditFilter {
            action: Some(action.into()),
            ..Default::default()
        };
        let audit = w.s.audit.clone();
        async move { audit.list(&filter, None, None).await.unwrap().items }
    };
    let created = &log("client.create").await[0].event.details;
    assert_eq!(created.get("access_token_lifetime"), Some(&text("never")));
    assert_eq!(created.get("refresh_count"), Some(&text("unlimited")));
    assert_eq!(created.get("description"), Some(&Detail::Null));

    let updated = &log("client.update").await[0].event.details;
    let Some(Detail::Map(changes)) = updated.get("changes") else {
        panic!("no changes map: {updated:?}");
    };
    assert_eq!(
        changes.get("access_token_lifetime"),
        Some(&from_to(text("never"), Detail::Int(60)))
    );
    assert_eq!(
        changes.get("refresh_count"),
        Some(&from_to(text("unlimited"), Detail::Int(3)))
    );
    assert_eq!(
        changes.get("description"),
        Some(&from_to(Detail::Null, text("Billing")))
    );
    assert_eq!(changes.get("name"), None, "only what changed");
    assert_eq!(
        updated.get("changed"),
        Some(&Detail::List(vec![
            text("description"),
            text("access_token_lifetime"),
            text("refresh_count"),
        ]))
    );
}
