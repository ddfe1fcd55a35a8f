//! Sorting in SQL: the column of each sort key, and the total order (id last) that ORDER BY
//! and keyset cursors share, so a cursor always compares exactly what the list is sorted by.

use super::order::{Sort, SortKey};

/// The column a sort key orders by.
pub fn sort_column(key: SortKey) -> &'static str {
    match key {
        SortKey::Id => "t.id",
        SortKey::Created => "t.created_at",
        SortKey::Updated => "t.updated_at",
        SortKey::Priority => "t.priority",
        SortKey::Status => "t.status",
        SortKey::Queue => "t.queue",
        SortKey::Subject => "t.subject",
        SortKey::Due => "t.due_at",
        SortKey::Resolved => "t.resolved_at",
    }
}

/// The sort keys with the ticket id appended as the final tie-breaker (in the first key's
/// direction), so every order is total and pages never overlap.
pub fn total_order(sorts: &[Sort]) -> Vec<Sort> {
    let mut all = sorts.to_vec();
    if !sorts.iter().any(|s| s.key == SortKey::Id) {
        let descending = sorts.first().is_some_and(|s| s.descending);
        all.push(Sort {
            key: SortKey::Id,
            descending,
        });
    }
    all
}

/// The ORDER BY list for `sorts`, always ending on the ticket id so pages never overlap.
pub fn order_by(sorts: &[Sort]) -> String {
    total_order(sorts)
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                sort_column(s.key),
                if s.descending { "DESC" } else { "ASC" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}
