//! The OpenAPI 3 document, generated from the handlers' annotations and the wire types.

use super::{admin_keys, audit, clients, tokens, users};
use crate::http::problem::{FieldProblem, Problem};
use crate::http::AppState;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tollgate admin API", description = "Manage OAuth clients, users, tokens and admin keys, and read the audit log. Errors are RFC 9457 problem+json."),
    servers((url = "/admin/api/v1")),
    paths(
        clients::list_clients, clients::create_client, clients::get_client, clients::update_client,
        clients::delete_client, clients::rotate_secret, clients::revoke_client_tokens,
        admin_keys::list_keys, admin_keys::create_key, admin_keys::delete_key,
        users::list_users, users::create_user, users::get_user, users::update_user,
        users::delete_user, users::set_password,
        tokens::list_tokens, tokens::get_token, tokens::revoke_token,
        audit::list_audit,
    ),
    components(schemas(Problem, FieldProblem, tokens::TokenKindView, tokens::TokenStatusView)),
    modifiers(&AdminKeyAuth),
)]
pub struct ApiDoc;

struct AdminKeyAuth;

impl Modify for AdminKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("an admin key (`tollgate admin create-key`)"))
                    .build(),
            ),
        );
    }
}

pub fn router() -> Router<AppState> {
    // Built once: the document does not change while the server runs.
    let doc = ApiDoc::openapi();
    Router::new().route("/openapi.json", get(move || async move { Json(doc) }))
}
