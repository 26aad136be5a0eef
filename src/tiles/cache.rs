//! The tile cache: encoded tiles (raw and gzip, compressed once) keyed by
//! (alignment, revision, z/x/y), bounded by size, least recently used out first.
//!
//! Sharded read-write maps: a hit takes one shard's read lock and bumps the entry's
//! clock, so concurrent readers do not wait for each other.
//!
//! ```
//! use std::sync::Arc;
//! use geoalign::tiles::{EncodedTile, TileCache, TileId, TileKey};
//! let cache = TileCache::new(1 << 20);
//! let key = TileKey { alignment: 0, revision: 3, tile: TileId::new(1, 0, 1).unwrap() };
//! cache.insert(key, Arc::new(EncodedTile::new(vec![1, 2, 3])));
//! assert_eq!(cache.get(&key).unwrap().raw.as_ref(), &[1, 2, 3]);
//! ```

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use bytes::Bytes;

use super::tile_id::TileId;

const SHARDS: usize = 16;
const OVERHEAD: usize = 160;

/// Cache key: alignment (the service's number for it), revision and tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileKey {
    /// The tile service's number for the alignment.
    pub alignment: u32,
    /// Alignment revision.
    pub revision: i64,
    /// Tile.
    pub tile: TileId,
}

/// A tile encoded once: its bytes, gzip-compressed bytes and entity tag.
#[derive(Debug, Clone)]
pub struct EncodedTile {
    /// MVT bytes (empty for an empty tile).
    pub raw: Bytes,
    /// The same, gzip-compressed (empty for an empty tile).
    pub gzip: Bytes,
    /// Strong entity tag (a hash of the raw bytes, quoted).
    pub etag: String,
    /// Entity tag of the gzip encoding: the raw one with `-gz` before the closing quote.
    pub gzip_etag: String,
}

impl EncodedTile {
    /// Compresses and tags MVT bytes.
    pub fn new(mut raw: Vec<u8>) -> EncodedTile {
        // Bytes keeps the vector's whole allocation: without its spare capacity, the
        // cache's weight of a tile is what it holds.
        raw.shrink_to_fit();
        let gzip = if raw.is_empty() {
            Vec::new()
        } else {
            super::gzip::gzip(&raw)
        };
        let hash = fnv1a(&raw);
        EncodedTile {
            raw: Bytes::from(raw),
            gzip: Bytes::from(gzip),
            etag: format!("\"{hash:016x}\""),
            gzip_etag: format!("\"{hash:016x}-gz\""),
        }
    }

    /// Whether the tile has no layer.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    fn weight(&self) -> usize {
        self.raw.len() + self.gzip.len() + self.etag.len() * 2 + OVERHEAD
    }
}

/// 64-bit FNV-1a, for entity tags (stable across builds and platforms).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

struct Entry {
    tile: Arc<EncodedTile>,
    used: AtomicU64,
}

/// A size-bounded, sharded LRU map of encoded tiles.
pub struct TileCache {
    shards: Vec<RwLock<HashMap<TileKey, Entry>>>,
    hasher: std::collections::hash_map::RandomState,
    bytes: AtomicUsize,
    budget: usize,
    /// Advanced by inserts only, so a hit writes just its own entry (approximate LRU).
    clock: AtomicU64,
    /// Lookups that found a tile, and that did not (for `/metrics`).
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for TileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TileCache({} of {} bytes)", self.bytes(), self.budget)
    }
}

impl TileCache {
    /// A cache holding at most about `budget` bytes of tiles.
    pub fn new(budget: usize) -> TileCache {
        TileCache {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
            bytes: AtomicUsize::new(0),
            budget,
            clock: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Lookups so far: (hits, misses).
    pub fn lookups(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// The size bound, in bytes.
    pub fn budget(&self) -> usize {
        self.budget
    }

    fn shard(&self, key: &TileKey) -> usize {
        (self.hasher.hash_one(key) as usize) % SHARDS
    }

    /// A cached tile.
    pub fn get(&self, key: &TileKey) -> Option<Arc<EncodedTile>> {
        let shard = self.shards[self.shard(key)]
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = shard.get(key) else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        self.hits.fetch_add(1, Ordering::Relaxed);
        let now = self.clock.load(Ordering::Relaxed);
        if entry.used.load(Ordering::Relaxed) != now {
            entry.used.store(now, Ordering::Relaxed);
        }
        Some(entry.tile.clone())
    }

    /// Caches a tile, evicting the least recently used ones when over budget.
    pub fn insert(&self, key: TileKey, tile: Arc<EncodedTile>) {
        let weight = tile.weight();
        if weight > self.budget / 4 {
            return;
        }
        let index = self.shard(&key);
        {
            let mut shard = self.shards[index].write().unwrap_or_else(PoisonError::into_inner);
            let entry = Entry {
                tile,
                used: AtomicU64::new(self.clock.fetch_add(1, Ordering::Relaxed)),
            };
            if let Some(old) = shard.insert(key, entry) {
                self.bytes.fetch_sub(old.tile.weight(), Ordering::Relaxed);
            }
        }
        let total = self.bytes.fetch_add(weight, Ordering::Relaxed) + weight;
        if total > self.budget {
            self.evict(index, &key);
        }
    }

    /// Drops least recently used tiles, shard by shard from `first`, until 90% of the
    /// budget; never `keep`, the tile just inserted (its shard may hold nothing else).
    fn evict(&self, first: usize, keep: &TileKey) {
        let target = self.budget / 10 * 9;
        for k in 0..SHARDS {
            if self.bytes.load(Ordering::Relaxed) <= target {
                return;
            }
            let mut shard = self.shards[(first + k) % SHARDS]
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let mut ages: Vec<(u64, TileKey)> = shard
                .iter()
                .map(|(key, e)| (e.used.load(Ordering::Relaxed), *key))
                .collect();
            ages.sort_unstable_by_key(|(used, _)| *used);
            // Each shard gives up to its share of the excess, oldest first.
            let excess = self.bytes.load(Ordering::Relaxed).saturating_sub(target);
            let mut freed = 0;
            for (_, key) in ages.into_iter().filter(|(_, key)| key != keep) {
                if freed >= excess / (SHARDS - k).max(1) && freed > 0 {
                    break;
                }
                if let Some(e) = shard.remove(&key) {
                    let w = e.tile.weight();
                    freed += w;
                    self.bytes.fetch_sub(w, Ordering::Relaxed);
                }
            }
        }
    }

    /// Bytes held (tiles in both encodings plus bookkeeping).
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Number of tiles held.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    /// Whether no tile is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every tile.
    pub fn clear(&self) {
        for shard in &self.shards {
            let mut shard = shard.write().unwrap_or_else(PoisonError::into_inner);
            for (_, e) in shard.drain() {
                self.bytes.fetch_sub(e.tile.weight(), Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_budget() {
        let cache = TileCache::new(100_000);
        for i in 0..1000u32 {
            let key = TileKey {
                alignment: 0,
                revision: 1,
                tile: TileId { z: 10, x: i, y: 0 },
            };
            cache.insert(key, Arc::new(EncodedTile::new(vec![(i % 251) as u8; 1000])));
        }
        assert!(cache.bytes() <= 100_000, "{}", cache.bytes());
        assert!(cache.len() > 10);
        // The most recent survive.
        let last = TileKey {
            alignment: 0,
            revision: 1,
            tile: TileId { z: 10, x: 999, y: 0 },
        };
        assert!(cache.get(&last).is_some());
    }
}
