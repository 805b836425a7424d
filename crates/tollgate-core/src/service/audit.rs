use super::{check_limit, decode_cursor, Page};
use crate::audit::{AuditEntry, AuditFilter};
use crate::error::ServiceError;
use crate::store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AuditService {
    store: Arc<dyn Store>,
}

impl AuditService {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Newest first.
    pub async fn list(
        &self,
        filter: &AuditFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<AuditEntry>, ServiceError> {
        let limit = check_limit(limit)?;
        let before = decode_cursor(cursor)?;
        super::check_filters(&[
            ("actor", filter.actor.as_deref()),
            ("action", filter.action.as_deref()),
            ("target_id", filter.target_id.as_deref()),
        ])?;
        let rows = self.store.list_audit(filter, before, limit + 1).await?;
        Ok(Page::from_rows(rows, limit, |e| e.id))
    }
}
