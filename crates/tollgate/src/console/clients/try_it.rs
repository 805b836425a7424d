//! "Try it": ready-to-run curl commands for a client's grants (SPEC §5).

use crate::http::AppState;
use tollgate_core::client::{Client, ClientType, GrantType};

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Ready-to-run commands for the client's grants (SPEC §5).
pub(super) fn curl_commands(state: &AppState, c: &Client) -> Vec<(String, String)> {
    let e = state.services.clients.endpoints();
    let public = c.client_type == ClientType::Public;
    let auth = if public {
        "-d client_id=\"$CLIENT_ID\"".to_owned()
    } else {
        "-u \"$CLIENT_ID:$CLIENT_SECRET\"".to_owned()
    };
    let vars = if public {
        format!("CLIENT_ID={}", shell_quote(&c.client_id))
    } else {
        format!(
            "CLIENT_ID={}\nCLIENT_SECRET='the secret you saved'",
            shell_quote(&c.client_id)
        )
    };
    let token = shell_quote(&e.token);
    let scope = c.scopes.join(" ");
    let mut out = Vec::new();
    if c.grant_types.contains(GrantType::ClientCredentials) {
        out.push((
            "Get a token (client credentials)".to_owned(),
            format!("{vars}\ncurl -s {auth} -d grant_type=client_credentials {token}"),
        ));
    }
    if c.grant_types.contains(GrantType::Password) {
        out.push((
            "Get a token (resource owner password)".to_owned(),
            format!(
                "{vars}\ncurl -s {auth} -d grant_type=password -d username=USER -d password=PASSWORD {token}"
            ),
        ));
    }
    let redirect = c.redirect_uris.first().cloned().unwrap_or_default();
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", &c.client_id)
        .append_pair("redirect_uri", &redirect);
    if !scope.is_empty() {
        q.append_pair("scope", &scope);
    }
    q.append_pair("state", "xyz");
    let query = q.finish();
    if c.grant_types.contains(GrantType::AuthorizationCode) {
        let pkce_setup = "VERIFIER=$(openssl rand -base64 48 | tr -d '=+/' | cut -c1-64)\nCHALLENGE=$(printf %s \"$VERIFIER\" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')";
        out.push((
            "1. Send the user to the authorization endpoint (authorization code + PKCE)".to_owned(),
            format!(
                "{pkce_setup}\necho {}\"&code_challenge=$CHALLENGE&code_challenge_method=S256\"\n# open that URL in a browser, sign in, allow; copy `code` from the redirect",
                shell_quote(&format!("{}?response_type=code&{query}", e.authorization))
            ),
        ));
        out.push((
            "2. Exchange the code for tokens".to_owned(),
            format!(
                "{vars}\ncurl -s {auth} -d grant_type=authorization_code -d code=\"$CODE\" -d redirect_uri={} -d code_verifier=\"$VERIFIER\" {token}",
                shell_quote(&redirect)
            ),
        ));
        if c.refresh_count.issues_refresh_tokens() {
            out.push((
                "3. Refresh the access token".to_owned(),
                format!(
                    "{vars}\ncurl -s {auth} -d grant_type=refresh_token -d refresh_token=\"$REFRESH_TOKEN\" {}",
                    shell_quote(&e.refresh_token)
                ),
            ));
        }
    }
    if c.grant_types.contains(GrantType::Implicit) {
        out.push((
            "Implicit: the token comes back in the redirect's fragment".to_owned(),
            format!(
                "echo {}\n# open that URL in a browser; read access_token from the #fragment",
                shell_quote(&format!("{}?response_type=token&{query}", e.authorization))
            ),
        ));
    }
    out
}
