//! Remembered listing orders. All three dialects' listings (GEVER's
//! `@globalindex`, OMFLOW's my-mission list, the CSCIW work-item list)
//! page by offset: page k asks for rows k·n … k·n+n of the filtered,
//! sorted result. Answered from SQL each time, every page would filter and
//! order every row before it again, and paging through N tasks would cost
//! N²/n. Instead the ordered ids are computed once, and later pages of the
//! same listing slice them — for as long as the database has not changed
//! (its write generation), so no page is ever staler than a fresh query
//! would be.

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

    /// The ids of rows `offset .. offset + count` (`count` `None`: all the
    /// rest) of the listing `key` as of write `generation`. `query(limit)`
    /// returns the listing's ids in order, the first `limit` of them or
    /// all. The first page asks it for just that page: most listings are
    /// read from the top, and many never past it. A later page slices the
    /// whole listing, asked for once per generation.
    pub fn page(
        &self,
        key: &str,
        generation: u64,
        offset: usize,
        count: Option<usize>,
        query: impl FnOnce(Option<usize>) -> Result<Vec<i64>>,
    ) -> Result<Vec<i64>> {
        if offset == 0 {
            return query(count);
        }
        let all = self.ids(key, generation, || query(None))?;
        let from = offset.min(all.len());
        let to = count.map_or(all.len(), |c| from.saturating_add(c).min(all.len()));
        Ok(all[from..to].to_vec())
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
    fn the_first_page_is_asked_for_alone_and_later_pages_are_slices() {
        let listings = Listings::default();
        let asked = std::cell::RefCell::new(Vec::new());
        let page = |offset: usize, count: Option<usize>| {
            listings
                .page("mine", 1, offset, count, |limit| {
                    asked.borrow_mut().push(limit);
                    let all = (10..20).collect::<Vec<i64>>();
                    Ok(all[..limit.unwrap_or(all.len()).min(all.len())].to_vec())
                })
                .unwrap()
        };
        assert_eq!(page(0, Some(3)), vec![10, 11, 12]);
        assert_eq!(page(3, Some(3)), vec![13, 14, 15]);
        assert_eq!(page(9, Some(3)), vec![19]);
        assert_eq!(page(12, Some(3)), Vec::<i64>::new());
        assert_eq!(page(8, None), vec![18, 19]);
        // The first page with its limit, then the whole listing once.
        assert_eq!(*asked.borrow(), vec![Some(3), None]);
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
