//! What a round takes: the next messages waiting on the server, cut to one batch by count and
//! bytes, and the compact UID sets IMAP commands name them by.

/// Messages fetched per round, and their total size: bound the memory a round holds and the
/// work done under one lease renewal.
pub(super) const BATCH: usize = 50;
pub(super) const BATCH_BYTES: u64 = 64 * 1024 * 1024;

/// A message on the server not read yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Waiting {
    pub uid: u32,
    pub size: u64,
    /// Over `mail.max_message_bytes`: not fetched, flagged and left on the server.
    pub oversize: bool,
}

/// Cuts `waiting` down to one batch (at least one message); marks those over `limit`.
/// Answers whether more were left behind.
pub(super) fn take_batch(waiting: &mut Vec<Waiting>, limit: u64) -> bool {
    let mut bytes = 0u64;
    let mut n = 0;
    for w in waiting.iter_mut() {
        w.oversize = w.size > limit;
        let cost = if w.oversize { 0 } else { w.size };
        if n > 0 && (n == BATCH || bytes.saturating_add(cost) > BATCH_BYTES) {
            break;
        }
        bytes = bytes.saturating_add(cost);
        n += 1;
    }
    let more = n < waiting.len();
    waiting.truncate(n);
    more
}

/// `uids` (ascending) as an IMAP sequence set, runs collapsed: `1:3,5,7:8`.
pub(super) fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let mut j = i;
        while j + 1 < uids.len() && uids[j + 1] == uids[j].saturating_add(1) {
            j += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if j > i {
            out.push_str(&format!("{}:{}", uids[i], uids[j]));
        } else {
            out.push_str(&uids[i].to_string());
        }
        i = j + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(uid: u32, size: u64) -> Waiting {
        Waiting {
            uid,
            size,
            oversize: false,
        }
    }

    #[test]
    fn uid_sets_collapse_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[]), "");
        assert_eq!(
            uid_set(&[u32::MAX - 1, u32::MAX]),
            format!("{}:{}", u32::MAX - 1, u32::MAX)
        );
    }

    #[test]
    fn a_batch_stops_at_its_count_or_its_bytes_but_takes_at_least_one() {
        let mut many: Vec<_> = (1..=120).map(|u| w(u, 10)).collect();
        assert!(take_batch(&mut many, 1000));
        assert_eq!(many.len(), BATCH);

        let mut big = vec![w(1, BATCH_BYTES), w(2, 10)];
        assert!(take_batch(&mut big, u64::MAX));
        assert_eq!(big.len(), 1, "the first message alone fills the batch");

        let mut huge = vec![w(1, BATCH_BYTES * 4)];
        assert!(!take_batch(&mut huge, u64::MAX));
        assert_eq!(huge.len(), 1, "one message larger than a batch still goes");
    }

    #[test]
    fn oversize_messages_are_marked_and_cost_nothing() {
        let mut ws = vec![w(1, 500), w(2, 100), w(3, 2000)];
        assert!(!take_batch(&mut ws, 1000));
        assert_eq!(
            ws.iter().map(|w| w.oversize).collect::<Vec<_>>(),
            [false, false, true]
        );
    }
}
