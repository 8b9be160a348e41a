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
use std::sync::{Arc, Mutex, MutexGuard};

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
    /// Empty until computed. Its own lock, held while computing: pages of
    /// one listing asked for at once (a client reading ahead) wait for one
    /// computation instead of each running their own, while other
    /// listings go on.
    ids: Arc<Mutex<Option<Arc<[i64]>>>>,
}

impl Entry {
    /// Empty and not being computed (another asker may have taken over
    /// after a failure: never waited for here, under the list's lock).
    fn abandoned(&self) -> bool {
        matches!(self.ids.try_lock(), Ok(ids) if ids.is_none())
    }
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
        let slot = {
            let mut recent = self.lock();
            match recent
                .iter()
                .find(|e| e.key == key && e.generation == generation)
            {
                Some(hit) => hit.ids.clone(),
                None => {
                    recent.retain(|e| e.generation == generation);
                    let ids = Arc::new(Mutex::new(None));
                    recent.push_back(Entry {
                        key: key.to_owned(),
                        generation,
                        ids: ids.clone(),
                    });
                    while recent.len() > REMEMBERED {
                        recent.pop_front();
                    }
                    ids
                }
            }
        };
        let mut ids = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(ids) = ids.as_ref() {
            return Ok(ids.clone());
        }
        match compute() {
            Ok(computed) => {
                let computed: Arc<[i64]> = computed.into();
                *ids = Some(computed.clone());
                Ok(computed)
            }
            Err(e) => {
                // Nothing remembered; whoever waited computes again.
                drop(ids);
                self.lock()
                    .retain(|e| !(Arc::ptr_eq(&e.ids, &slot) && e.abandoned()));
                Err(e)
            }
        }
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

    fn lock(&self) -> MutexGuard<'_, VecDeque<Entry>> {
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
        assert!(
            listings.lock().iter().all(|e| e.key != "broken"),
            "a failure remembers nothing"
        );
        let again = listings.ids("broken", 1, || Ok(vec![7])).unwrap();
        assert_eq!(&*again, &[7], "the next asker computes it");
    }

    #[test]
    fn pages_asked_for_at_once_wait_for_one_computation() {
        let listings = Arc::new(Listings::default());
        let computed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let barrier = Arc::new(std::sync::Barrier::new(4));
        let askers: Vec<_> = (0..4)
            .map(|_| {
                let (listings, computed, barrier) =
                    (listings.clone(), computed.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    listings
                        .ids("mine", 1, || {
                            computed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            // Long enough for the others to arrive meanwhile.
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            Ok(vec![1, 2, 3])
                        })
                        .unwrap()
                })
            })
            .collect();
        for asker in askers {
            assert_eq!(&*asker.join().unwrap(), &[1, 2, 3]);
        }
        assert_eq!(computed.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Another listing is not held up by one being computed: the slow
        // one finishes only after the quick one was answered.
        let (answered, told) = std::sync::mpsc::channel::<()>();
        let (computing, started) = std::sync::mpsc::channel::<()>();
        let slow = {
            let listings = listings.clone();
            std::thread::spawn(move || {
                listings.ids("slow", 1, || {
                    computing.send(()).unwrap();
                    told.recv_timeout(std::time::Duration::from_secs(30))
                        .map_err(|_| crate::error::EngineError::invalid("held up"))?;
                    Ok(vec![])
                })
            })
        };
        started.recv().unwrap();
        listings.ids("quick", 1, || Ok(vec![9])).unwrap();
        answered.send(()).unwrap();
        slow.join().unwrap().unwrap();
    }
}
