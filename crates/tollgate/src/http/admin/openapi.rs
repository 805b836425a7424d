//! The OpenAPI 3 document, generated from the handlers' annotations and the wire types.

use super::{admin_keys, audit, clients, tokens, users};
use crate::http::problem::{FieldProblem, Problem};
use crate::http::AppState;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};
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
    modifiers(&AdminKeyAuth, &ProblemResponses),
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

/// The media type of every error body (`Problem`'s `IntoResponse`, RFC 9457 §3).
const PROBLEM_JSON: &str = "application/problem+json";

/// Makes the error responses of every operation true to what the server sends, in one place
/// rather than in each annotation:
/// - a `Problem` body is always served as `application/problem+json`, so every response
///   declared with `body = Problem` is moved to that media type (utoipa would say
///   `application/json`);
/// - the failures of the shared extractors can happen on every operation that uses them,
///   whatever the handler: `AdminCaller` (every operation) answers 401 without a valid key
///   and 503 when the database is down; `ApiJson` (every request body) 400, 413 and 415;
///   `ApiQuery` (every query parameter) 400.
struct ProblemResponses;

impl ProblemResponses {
    fn add_common(op: &mut Operation) {
        let mut common = vec![
            ("401", "no admin key, or not a valid one"),
            (
                "503",
                "the database is unavailable; try again shortly (Retry-After)",
            ),
        ];
        if op.request_body.is_some() {
            common.extend([
                ("400", "malformed JSON, a field of the wrong type, or an unknown field"),
                ("413", "the body is larger than the limit"),
                ("415", "the body is not JSON (Content-Type: application/json)"),
            ]);
        }
        let has_query = op
            .parameters
            .iter()
            .flatten()
            .any(|p| matches!(p.parameter_in, ParameterIn::Query));
        if has_query {
            common.push(("400", "a query parameter is malformed"));
        }
        for (status, description) in common {
            op.responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| problem_response(description).into());
        }
    }

    fn problem_media_type(op: &mut Operation) {
        for response in op.responses.responses.values_mut() {
            let RefOr::T(response) = response else {
                continue;
            };
            let is_problem = response.content.get("application/json").is_some_and(|c| {
                matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"))
            });
            if is_problem {
                if let Some(content) = response.content.shift_remove("application/json") {
                    response.content.insert(PROBLEM_JSON.to_owned(), content);
                }
            }
        }
    }
}

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .build()
}

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                Self::add_common(op);
                Self::problem_media_type(op);
            }
        }
    }
}

pub fn router() -> Router<AppState> {
    // Built once: the document does not change while the server runs.
    let doc = ApiDoc::openapi();
    Router::new().route("/openapi.json", get(move || async move { Json(doc) }))
}
