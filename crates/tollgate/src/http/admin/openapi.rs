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
///   `ApiQuery` and `ApiPath` (every query and path parameter) 400.
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
                (
                    "400",
                    "malformed JSON, a field of the wrong type, or an unknown field",
                ),
                ("413", "the body is larger than the limit"),
                (
                    "415",
                    "the body is not JSON (Content-Type: application/json)",
                ),
            ]);
        }
        let has_path_or_query = op
            .parameters
            .iter()
            .flatten()
            .any(|p| matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query));
        if has_path_or_query {
            common.push(("400", "a path or query parameter is malformed"));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn operations(doc: &utoipa::openapi::OpenApi) -> Vec<(String, &Operation)> {
        let mut ops = Vec::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("get", &item.get),
                ("put", &item.put),
                ("post", &item.post),
                ("delete", &item.delete),
                ("patch", &item.patch),
            ] {
                if let Some(op) = op {
                    ops.push((format!("{method} {path}"), op));
                }
            }
        }
        ops
    }

    // Found by schemathesis (scripts/schemathesis.sh): the document said `application/json`
    // for error bodies served as `application/problem+json`, and left out the 415 that every
    // body-taking operation answers to a request without a JSON Content-Type.
    #[test]
    fn problem_bodies_are_documented_as_problem_json() {
        let doc = ApiDoc::openapi();
        for (name, op) in operations(&doc) {
            for (status, response) in &op.responses.responses {
                let RefOr::T(response) = response else {
                    continue;
                };
                for (media_type, content) in &response.content {
                    let problem = matches!(&content.schema,
                        Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"));
                    assert_eq!(
                        problem,
                        media_type == PROBLEM_JSON,
                        "{name} {status}: {media_type}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_operation_documents_the_failures_of_its_extractors() {
        let doc = ApiDoc::openapi();
        for (name, op) in operations(&doc) {
            let has = |s: &str| op.responses.responses.contains_key(s);
            assert!(has("401") && has("503"), "{name}");
            if op.request_body.is_some() {
                assert!(has("400") && has("413") && has("415"), "{name}");
            }
        }
    }
}
