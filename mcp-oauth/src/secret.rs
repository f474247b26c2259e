//! Secrets this crate holds (an HS256 key, introspection client credentials): kept as
//! bytes, never printed, never logged.

/// A secret that never prints.
#[derive(Clone)]
pub(crate) struct Secret(pub(crate) Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}
