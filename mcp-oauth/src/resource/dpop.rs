//! What the protected resource says about DPoP (RFC 9449 §7, RFC 9728 §2): the mode,
//! the proof algorithms; read by the challenge writer, the metadata and the admission.

use std::str::FromStr;

/// Which token schemes a protected resource accepts (RFC 9449 §7).
///
/// ```
/// use mcp_oauth::DpopMode;
///
/// assert_eq!(DpopMode::default(), DpopMode::Allowed);
/// assert_eq!("required".parse::<DpopMode>(), Ok(DpopMode::Required));
/// assert!("sometimes".parse::<DpopMode>().is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DpopMode {
    /// `Bearer` only: the `DPoP` scheme is not a credential here, and no proof is read.
    Off,
    /// Both schemes: `Bearer` for unbound tokens, `DPoP` with a proof for bound ones. A
    /// DPoP-bound token presented as `Bearer` is refused.
    #[default]
    Allowed,
    /// `DPoP` only: every token is bound and comes with a proof (RFC 9728 §2
    /// `dpop_bound_access_tokens_required`).
    Required,
}

impl FromStr for DpopMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            "allowed" => Ok(Self::Allowed),
            "required" => Ok(Self::Required),
            other => Err(format!(
                "`{other}` is not a DPoP mode (off, allowed, required)"
            )),
        }
    }
}

/// The resource's DPoP settings as its challenges and metadata announce them.
#[derive(Debug, Clone, Default)]
pub(crate) struct DpopAdvert {
    pub(crate) mode: DpopMode,
    /// The JWS names of the proof algorithms accepted (`algs`, RFC 9449 §7.1).
    pub(crate) algorithms: Vec<String>,
}

impl DpopAdvert {
    /// The `algs` parameter: the names, space-separated.
    pub(crate) fn algs(&self) -> String {
        self.algorithms.join(" ")
    }
}
