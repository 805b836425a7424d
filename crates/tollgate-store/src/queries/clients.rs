//! `ClientStore`.

use super::*;

/// The list's filters, `$1`–`$5` (bound by `bind_filters!`), shared by the list and its count.
const CLIENT_FILTERS: &str = "WHERE ($1 IS NULL OR name_key LIKE $1 ESCAPE '\\') \
       AND ($2 IS NULL OR active = $2) \
       AND ($3 IS NULL OR (grant_mask & $3) <> 0) \
       AND ($4 IS NULL OR client_type = $4) \
       AND ($5 IS NULL OR version = $5)";

/// Binds `CLIENT_FILTERS`' parameters on a query of any row type.
macro_rules! bind_filters {
    ($q:expr, $f:expr) => {{
        let f: &ClientFilter = $f;
        let grant_bit = f.grant_type.map(|g| {
            std::iter::once(g)
                .collect::<tollgate_core::client::GrantSet>()
                .bits()
        });
        $q.bind(f.q.as_deref().map(like_pattern))
            .bind(f.active)
            .bind(grant_bit)
            .bind(f.client_type.map(|t| t.as_str()))
            .bind(f.version.as_deref())
    }};
}

#[async_trait]
impl ClientStore for This {
    async fn insert_client(&self, c: &Client, audit: &AuditEvent) -> Result<(), StoreError> {
        insert_with_audit(self, "clients", tables::CLIENT_WRITE, c, audit, "client").await
    }

    async fn get_client(&self, client_id: &ClientId) -> Result<Option<Client>, StoreError> {
        let sql = format!("{} WHERE client_id = $1", *tables::CLIENT_SELECT);
        let q = sqlx::query_as::<_, ClientRow>(&sql).bind(client_id.as_str());
        optional(q, self, |r| r.into_client().map(|(_, c)| c)).await
    }

    async fn update_client(
        &self,
        c: &Client,
        expected_revision: i64,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        // The revision check and the write are one statement: two concurrent
        // updates from the same revision cannot both succeed.
        static UPDATE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            tables::update_sql("clients", tables::CLIENT_WRITE, |n| {
                format!("client_id = ${} AND revision = ${}", n + 1, n + 2)
            })
        });
        let q = update_of(&UPDATE, tables::CLIENT_WRITE, c)
            .bind(c.client_id.as_str())
            .bind(expected_revision);
        one_row_with_audit(&self.writer, q, Some(audit), |e| {
            classify_unique(e, "client")
        })
        .await
    }

    async fn delete_client(
        &self,
        client_id: &ClientId,
        expected_revision: Option<i64>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let q = sqlx::query(
            "DELETE FROM clients WHERE client_id = $1 AND ($2 IS NULL OR revision = $2)",
        )
        .bind(client_id.as_str())
        .bind(expected_revision);
        one_row_with_audit(&self.writer, q, Some(audit), classify).await
    }

    async fn list_clients(
        &self,
        filter: &ClientFilter,
        after: Option<&ClientAfter>,
        limit: u32,
    ) -> Result<Vec<(i64, Client)>, StoreError> {
        // The order's keys, most significant first; `seq` last makes every order total.
        let keys: &[&str] = match filter.order {
            ClientOrder::Created | ClientOrder::CreatedDesc => &["seq"],
            ClientOrder::Name | ClientOrder::NameDesc => &["name_key", "version", "seq"],
            ClientOrder::Version | ClientOrder::VersionDesc => &["version", "name_key", "seq"],
        };
        let (dir, past) = if filter.order.descending() {
            (" DESC", "<")
        } else {
            ("", ">")
        };
        // Past the cursor in this order: one row-value comparison, which both databases
        // evaluate on the same keys (`$7` seq, `$8` name_key, `$9` version).
        let keyset = after.map(|_| {
            let bound: Vec<&str> = keys
                .iter()
                .map(|k| match *k {
                    "seq" => "$7",
                    "name_key" => "$8",
                    _ => "$9",
                })
                .collect();
            format!(" AND ({}) {past} ({})", keys.join(", "), bound.join(", "))
        });
        let order_by: Vec<String> = keys.iter().map(|k| format!("{k}{dir}")).collect();
        let sql = format!(
            "{} {}{} ORDER BY {} LIMIT $6",
            *tables::CLIENT_SELECT,
            CLIENT_FILTERS,
            keyset.unwrap_or_default(),
            order_by.join(", ")
        );
        let q = bind_filters!(sqlx::query_as::<_, ClientRow>(&sql), filter).bind(i64::from(limit));
        let q = match after {
            None => q,
            Some(a) if keys.len() == 1 => q.bind(a.seq),
            Some(a) => q
                .bind(a.seq)
                .bind(a.name_key.as_str())
                .bind(a.version.as_str()),
        };
        all(q, self, ClientRow::into_client).await
    }

    async fn count_clients(&self, filter: &ClientFilter) -> Result<u64, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM clients {CLIENT_FILTERS}");
        let q = bind_filters!(sqlx::query_scalar::<_, i64>(&sql), filter);
        let n = q.fetch_one(&self.reader).await.map_err(classify)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
