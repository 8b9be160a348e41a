//! Remembered listing orders. GEVER's `@globalindex` (like most vendor
//! listings) pages by offset: page k asks for rows k·n … k·n+n of the
//! filtered, sorted result. Answered from SQL each time, every page would
//! filter and count every row before it again, and paging through N tasks
//! would cost N²/n. Instead the first page computes the ordered ids once,
//! and later pages of the same listing slice them — for as long as the
//! database has not changed (its write generation), so no page is ever
//! staler than a fresh query would be.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::error::Result;

/// Listings remembered at once (one per user and filter being paged).
const REMEMBERED: usize = 8;

#[derive(Debug, Default)]
pub struct Listings {
    recent: Mutex<VecDeque<Entry>>,
}

#[derive(Debug)]
struct Entry {
    key: String,
    generation: u64,
    ids: Arc<[i64]>,
}

impl Listings {
    /// The ids of the listing `key` (its filter, parameters and order) as of
    /// write `generation`: remembered, or computed by `compute`.
    pub fn ids(
        &self,
        key: &str,
        generation: u64,
        compute: impl FnOnce() -> Result<Vec<i64>>,
    ) -> Result<Arc<[i64]>> {
        if let Some(hit) = self
            .lock()
            .iter()
            .find(|e| e.key == key && e.generation == generation)
        {
            return Ok(hit.ids.clone());
        }
        // Computed without the lock: other listings need not wait for it.
        let ids: Arc<[i64]> = compute()?.into();
        let mut recent = self.lock();
        recent.retain(|e| e.generation == generation && e.key != key);
        recent.push_back(Entry {
            key: key.to_owned(),
            generation,
            ids: ids.clone(),
        });
        while recent.len() > REMEMBERED {
            recent.pop_front();
        }
        Ok(ids)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Entry>> {
        // Entries are replaced whole; a poisoned lock holds nothing half-written.
        self.recent.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_is_computed_once_per_generation_and_key() {
        let listings = Listings::default();
        let computed = std::cell::Cell::new(0);
        let ask = |key: &str, generation: u64| {
            listings
                .ids(key, generation, || {
                    computed.set(computed.get() + 1);
                    Ok(vec![3, 1, 2])
                })
                .unwrap()
        };
        assert_eq!(&*ask("mine", 1), &[3, 1, 2]);
        ask("mine", 1);
        ask("theirs", 1);
        // A write in between: computed again.
        ask("mine", 2);
        assert_eq!(computed.get(), 3);
    }

    #[test]
    fn only_the_most_recent_listings_are_kept() {
        let listings = Listings::default();
        for i in 0..(REMEMBERED + 3) {
            listings.ids(&i.to_string(), 1, || Ok(vec![])).unwrap();
        }
        assert_eq!(listings.lock().len(), REMEMBERED);
        let failed = listings.ids("broken", 1, || {
            Err(crate::error::EngineError::invalid("no"))
        });
        assert!(failed.is_err());
        assert_eq!(
            listings.lock().len(),
            REMEMBERED,
            "a failure remembers nothing"
        );
    }
}
