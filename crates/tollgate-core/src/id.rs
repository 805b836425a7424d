//! The ids of the domain, one type each, so a user id cannot be passed where a client id is
//! meant. Each type owns how its ids are generated; any string read from the wire or the
//! database is a possible id (an unknown one is simply not found).

use crate::secret::{random_string, time_ordered_id, RandomError};
use std::fmt;

/// What every id type is: text with a type. Lets generic code (audit details) take any id.
pub trait Id: AsRef<str> {}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// An id as read from a request or a row.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl Id for $name {}

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        // Reading an id as text (formatting, comparing with a wire value, binding it in
        // SQL) is always safe; only building one is typed.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        // Sound: the derived `Hash` and `Eq` are the inner string's.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type!(
    /// A registered client's public id (`client_id`, RFC 6749 §2.2).
    ClientId
);
id_type!(
    /// A resource owner's (or console administrator's) id.
    UserId
);
id_type!(
    /// A stored token's public id, shown on Token Management; never the token itself.
    TokenId
);
id_type!(
    /// One authorization: its code and every token descending from it, so reuse of a code
    /// or a rotated refresh token can revoke them all.
    FamilyId
);
id_type!(
    /// An admin API key's id (never the key).
    AdminKeyId
);

impl ClientId {
    pub fn generate() -> Result<Self, RandomError> {
        random_string::<16>().map(Self)
    }
}

impl UserId {
    pub fn generate() -> Result<Self, RandomError> {
        random_string::<9>().map(Self)
    }
}

impl TokenId {
    /// Time-ordered, so listing by id lists by issue time (`secret::time_ordered_id`).
    pub fn generate(now_ms: i64) -> Result<Self, RandomError> {
        time_ordered_id(now_ms).map(Self)
    }
}

impl FamilyId {
    pub fn generate() -> Result<Self, RandomError> {
        random_string::<12>().map(Self)
    }
}

impl AdminKeyId {
    pub fn generate() -> Result<Self, RandomError> {
        random_string::<9>().map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_as_their_text_and_keep_their_generated_formats() {
        let id = ClientId::new("abc");
        assert_eq!(id.as_str(), "abc");
        assert_eq!(id.to_string(), "abc");
        assert_eq!(id, "abc");
        assert_eq!(String::from(id), "abc");
        // base64url without padding of 16, 9, 12 and 12 bytes: the lengths stored ids have.
        assert_eq!(ClientId::generate().unwrap().len(), 22);
        assert_eq!(UserId::generate().unwrap().len(), 12);
        assert_eq!(FamilyId::generate().unwrap().len(), 16);
        assert_eq!(TokenId::generate(1_700_000_000_000).unwrap().len(), 16);
        assert_eq!(AdminKeyId::generate().unwrap().len(), 12);
    }
}
