/// Server-wide switches over the legacy options of SPEC §1 (`policy.*` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub allow_legacy_grants: bool,
    pub allow_never_expiring_tokens: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            allow_legacy_grants: true,
            allow_never_expiring_tokens: true,
        }
    }
}
