//! `#[backends]`: one test body, one test per database backend.
//!
//! ```ignore
//! #[backends]                       // or #[backends(serial)], #[backends(options = expr)]
//! #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
//! async fn name(s: TestServer) { … }   // or (db: TestDb), or a blocking `fn name(db: TestDb)`
//! ```
//!
//! becomes a module `name` holding the tests `sqlite` and `postgres`, so a failure names
//! its backend through the test's name. The body stays an ordinary function, which rustfmt
//! formats (a `macro_rules!` block it would not). `s: TestServer` gets a server started on
//! the fresh database with `crate::common::start_with` and the given options (default
//! `crate::common::Options::default()`); `serial` makes the two backends of one test take
//! turns, for tests that measure time or load. PostgreSQL is skipped with a message when
//! `TEST_POSTGRES_URL` is unset and fails under `CI` (`crate::common::harness`).

use proc_macro::TokenStream;
use quote::{format_ident, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, FnArg, ItemFn, Meta, Pat, Token, Type};

#[proc_macro_attribute]
pub fn backends(args: TokenStream, item: TokenStream) -> TokenStream {
    match expand(args.into(), item.into()) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn expand(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let mut serial = false;
    let mut options: Option<Expr> = None;
    for meta in Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)? {
        match meta {
            Meta::Path(p) if p.is_ident("serial") => serial = true,
            Meta::NameValue(nv) if nv.path.is_ident("options") => options = Some(nv.value),
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "expected `serial` or `options = <expr>`",
                ))
            }
        }
    }

    let f: ItemFn = syn::parse2(item)?;
    let name = &f.sig.ident;
    let attrs = &f.attrs;
    let body = &f.block;
    let is_async = f.sig.asyncness.is_some();
    let (arg, is_server) = the_argument(&f)?;
    if is_server && !is_async {
        return Err(syn::Error::new_spanned(
            &f.sig,
            "a TestServer test must be async",
        ));
    }
    if options.is_some() && !is_server {
        return Err(syn::Error::new_spanned(
            &f.sig,
            "options need `s: TestServer`",
        ));
    }
    let db = format_ident!("__db");
    let setup = if is_server {
        let opts = options
            .map(|o| quote!(#o))
            .unwrap_or_else(|| quote!(crate::common::Options::default()));
        quote!(let #arg = crate::common::start_with(#db, #opts).await;)
    } else {
        quote!(let #arg = #db;)
    };

    let tests = if is_async {
        let (turn_static, turn) = if serial {
            (
                quote!(
                    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
                ),
                quote!(let _turn = TURN.lock().await;),
            )
        } else {
            (quote!(), quote!())
        };
        quote! {
            #turn_static

            async fn body(#db: tollgate_testkit::TestDb) {
                #setup
                #body
            }

            #(#attrs)*
            async fn sqlite() {
                #turn
                body(tollgate_testkit::sqlite()).await
            }

            #(#attrs)*
            async fn postgres() {
                #turn
                if let Some(db) = crate::common::harness::postgres().await {
                    body(db).await
                }
            }
        }
    } else {
        let (turn_static, turn) = if serial {
            (
                quote!(
                    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
                ),
                quote!(let _turn = crate::common::harness::turn(&TURN);),
            )
        } else {
            (quote!(), quote!())
        };
        quote! {
            #turn_static

            fn body(#db: tollgate_testkit::TestDb) {
                #setup
                #body
            }

            #(#attrs)*
            fn sqlite() {
                #turn
                body(tollgate_testkit::sqlite())
            }

            #(#attrs)*
            fn postgres() {
                #turn
                if let Some(db) = crate::common::harness::postgres_blocking() {
                    body(db)
                }
            }
        }
    };
    Ok(quote! {
        mod #name {
            #[allow(unused_imports)]
            use super::*;

            #tests
        }
    })
}

/// The one argument, `name: TestServer` or `name: TestDb`, and whether it is a server.
fn the_argument(f: &ItemFn) -> syn::Result<(Pat, bool)> {
    let wrong = || {
        syn::Error::new_spanned(
            &f.sig.inputs,
            "expected one argument: `s: TestServer` or `db: TestDb`",
        )
    };
    let mut inputs = f.sig.inputs.iter();
    let (Some(FnArg::Typed(arg)), None) = (inputs.next(), inputs.next()) else {
        return Err(wrong());
    };
    if !matches!(&*arg.pat, Pat::Ident(_)) {
        return Err(wrong());
    }
    let Type::Path(ty) = &*arg.ty else {
        return Err(wrong());
    };
    match ty
        .path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .as_deref()
    {
        Some("TestServer") => Ok(((*arg.pat).clone(), true)),
        Some("TestDb") => Ok(((*arg.pat).clone(), false)),
        _ => Err(wrong()),
    }
}
