//! The rules for text that people type and other people read: which characters a field
//! refuses, and the key under which two spellings count as the same name.
//!
//! Every front end and the store call these, so a username the API refuses cannot get in
//! through the console, and the uniqueness key a row is stored under is the one the lookup
//! computes.

use icu_casemap::CaseMapper;
use icu_normalizer::ComposingNormalizerBorrowed;
use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};

/// What a field is for, which decides the characters it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// A name that identifies something (username, client name and version): no control,
    /// format or invisible character at all, since each would make a look-alike.
    Identifier,
    /// One line of text shown to people (display name, admin key name): no control
    /// characters and no format characters but the joiners (U+200C, U+200D) that some
    /// scripts and emoji need.
    Line,
    /// Free text shown to people (a client's description): as `Line`, plus `\n` and `\t`.
    Multiline,
}

/// Why a text was refused; the first offending character is named so the message can say
/// which (as `U+XXXX`, never raw: it may be invisible or move the cursor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not contain control characters (found U+{:04X})", u32::from(*.0))]
    Control(char),
    #[error("must not contain invisible or formatting characters (found U+{:04X})", u32::from(*.0))]
    Invisible(char),
}

/// Refuses the characters `kind` does not allow: C0/C1 controls (NUL among them, which
/// PostgreSQL cannot store), line/paragraph separators, format characters such as zero-width
/// spaces, soft hyphens, byte-order marks and bidi overrides, and for identifiers every
/// default-ignorable code point (fillers, variation selectors).
pub fn refuse_controls(s: &str, kind: TextKind) -> Result<(), TextError> {
    let gc = CodePointMapData::<GeneralCategory>::new();
    let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
    for c in s.chars() {
        match gc.get(c) {
            GeneralCategory::Control
                if !(kind == TextKind::Multiline && matches!(c, '\n' | '\t')) =>
            {
                return Err(TextError::Control(c));
            }
            GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => {
                return Err(TextError::Control(c));
            }
            GeneralCategory::Format
                if kind == TextKind::Identifier || !matches!(c, '\u{200C}' | '\u{200D}') =>
            {
                return Err(TextError::Invisible(c));
            }
            GeneralCategory::Control | GeneralCategory::Format => {}
            _ if kind == TextKind::Identifier && ignorable.contains(c) => {
                return Err(TextError::Invisible(c));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether `s` holds a character no field of ours accepts and no generated id contains:
/// a C0/C1 control or a format character. The HTTP edge refuses such parameters before
/// they reach a lookup, so both databases answer them the same way.
pub fn has_control(s: &str) -> bool {
    let gc = CodePointMapData::<GeneralCategory>::new();
    s.chars().any(|c| {
        matches!(
            gc.get(c),
            GeneralCategory::Control | GeneralCategory::Format
        )
    })
}

/// The key two names are compared by: trimmed, NFKC-normalised and fully case-folded
/// (Unicode `toNFKC_Casefold` without removing ignorables, which `refuse_controls`
/// refuses instead), so fullwidth `ａｌｉｃｅ`, `Alice`, a decomposed `é` and `straße` /
/// `STRASSE` each meet their twin. Normalising again after folding keeps the key stable
/// (`identity_key(identity_key(s)) == identity_key(s)`).
pub fn identity_key(s: &str) -> String {
    let nfkc = ComposingNormalizerBorrowed::new_nfkc();
    let fold = CaseMapper::new();
    let once = nfkc.normalize(s.trim());
    let folded = fold.fold_string(&once);
    nfkc.normalize(&folded).trim().to_owned()
}

/// Browsers send a textarea's line breaks as CRLF (HTML §4.10.21.4); storing them as `\n`
/// keeps a bare CR, which can overwrite a terminal line, out of multi-line text.
pub fn normalize_newlines(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\r') {
        std::borrow::Cow::Owned(s.replace("\r\n", "\n"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alike_spellings_share_one_key() {
        let same = [
            ("alice", "Alice"),
            ("alice", "ＡＬＩＣＥ"),
            ("alice", "ａｌｉｃｅ"),
            ("straße", "STRASSE"),
            ("straße", "strasse"),
            ("\u{e9}", "e\u{301}"),
            ("\u{c9}cole", "e\u{301}COLE"),
            ("ǅ", "dž"),
            ("ﬁle", "FILE"),
            ("Σίσυφος", "ΣΊΣΥΦΟΣ"),
            ("  bob ", "bob"),
        ];
        for (a, b) in same {
            assert_eq!(identity_key(a), identity_key(b), "{a:?} vs {b:?}");
        }
        assert_ne!(identity_key("alice"), identity_key("alicia"));
        assert_ne!(identity_key("e"), identity_key("\u{e9}"));
    }

    #[test]
    fn identity_key_is_idempotent() {
        for s in [
            "Straße",
            "ＡＬＩＣＥ",
            "e\u{301}",
            "ǅ",
            "ﬃ",
            "İstanbul",
            "ΐ",
            "ᾼ",
        ] {
            let k = identity_key(s);
            assert_eq!(identity_key(&k), k, "{s:?}");
        }
    }

    #[test]
    fn identifiers_refuse_invisible_and_format_characters() {
        for bad in [
            "admin\u{200b}",
            "admin\u{ad}",
            "admin\u{feff}",
            "ad\u{202e}nimda",
            "ad\u{2066}min",
            "admin\u{200d}",
            "admin\u{3164}",
            "admin\u{fe0f}",
            "admin\u{2028}",
        ] {
            assert!(
                matches!(
                    refuse_controls(bad, TextKind::Identifier),
                    Err(TextError::Invisible(_)) | Err(TextError::Control(_))
                ),
                "{bad:?}"
            );
        }
        for good in ["alice", "José", "ａｌｉｃｅ", "my app", "日本語", "o'brien"] {
            assert_eq!(
                refuse_controls(good, TextKind::Identifier),
                Ok(()),
                "{good:?}"
            );
        }
    }

    #[test]
    fn controls_are_refused_everywhere_but_newline_and_tab_in_multiline() {
        for kind in [TextKind::Identifier, TextKind::Line, TextKind::Multiline] {
            for bad in [
                "a\0b",
                "\u{1b}[31mred",
                "a\rb",
                "a\u{7f}",
                "a\u{85}b",
                "a\u{9b}b",
            ] {
                assert!(
                    matches!(refuse_controls(bad, kind), Err(TextError::Control(_))),
                    "{bad:?} {kind:?}"
                );
            }
        }
        assert_eq!(
            refuse_controls("line 1\nline 2\tx", TextKind::Multiline),
            Ok(())
        );
        assert!(refuse_controls("a\nb", TextKind::Line).is_err());
        assert!(refuse_controls("a\tb", TextKind::Identifier).is_err());
        // Joiners carry meaning in some scripts and emoji, so display text keeps them.
        assert_eq!(
            refuse_controls("👩\u{200d}💻 نامه\u{200c}ای", TextKind::Line),
            Ok(())
        );
        assert!(refuse_controls("x\u{202e}y", TextKind::Multiline).is_err());
        assert!(refuse_controls("x\u{200b}y", TextKind::Line).is_err());
    }

    #[test]
    fn the_error_names_the_character_without_printing_it() {
        let e = refuse_controls("a\u{1b}b", TextKind::Line).unwrap_err();
        assert_eq!(
            e.to_string(),
            "must not contain control characters (found U+001B)"
        );
    }

    #[test]
    fn has_control_spots_nul_escape_and_format_characters() {
        assert!(has_control("a\0"));
        assert!(has_control("\u{1b}"));
        assert!(has_control("a\u{200b}"));
        assert!(!has_control("abc-_.~ é"));
    }

    #[test]
    fn crlf_becomes_lf() {
        assert_eq!(normalize_newlines("a\r\nb"), "a\nb");
        assert_eq!(normalize_newlines("a\rb"), "a\rb");
    }
}
