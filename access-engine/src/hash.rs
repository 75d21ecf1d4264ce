//! A small, fast, deterministic hasher for the engine's internal indexes,
//! and the specified hash that orders new users in a plan.
//!
//! The engine's maps are keyed by ids taken from its own inputs and are never
//! iterated to produce output, so neither DoS resistance nor a random seed is
//! needed; speed on short string keys is what matters at a million occupants.
//! Their hashes (fed through `std::hash::Hash`, whose byte stream Rust does
//! not specify) decide only where a key sits in memory, never what a plan
//! says or in which order: the order of new users rests on [`fnv1a64`] over
//! a hand-written canonical encoding (see [`crate::ORDER_HASH_VERSION`]).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// The Fx hash (as used inside rustc): rotate, xor, multiply, one word at a time.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

/// Feeds `bytes` to `add` a little-endian word at a time. The last partial
/// word is read with overlapping fixed-size loads (no `memcpy` call for a
/// variable length, which dominated hashing short ids) and tagged with its
/// length.
#[inline]
fn words(bytes: &[u8], mut add: impl FnMut(u64)) {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        add(u64::from_le_bytes(word));
    }
    let rest = chunks.remainder();
    let n = rest.len();
    let tail = match n {
        0 => return,
        1..=3 => u64::from(rest[0]) | u64::from(rest[n / 2]) << 8 | u64::from(rest[n - 1]) << 16,
        _ => {
            let lo = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
            let hi = u32::from_le_bytes([rest[n - 4], rest[n - 3], rest[n - 2], rest[n - 1]]);
            u64::from(lo) | u64::from(hi) << 32
        }
    };
    add(tail ^ ((n as u64) << 59));
}

/// `Hasher` for a type with an `add(u64)` step: bytes a word at a time (see
/// [`words`]), integers one word each.
macro_rules! word_hasher {
    ($t:ty, $finish:expr) => {
        impl Hasher for $t {
            #[inline]
            fn write(&mut self, bytes: &[u8]) {
                words(bytes, |w| self.add(w));
            }
            #[inline]
            fn write_u8(&mut self, i: u8) {
                self.add(u64::from(i));
            }
            #[inline]
            fn write_u32(&mut self, i: u32) {
                self.add(u64::from(i));
            }
            #[inline]
            fn write_u64(&mut self, i: u64) {
                self.add(i);
            }
            #[inline]
            fn write_i64(&mut self, i: i64) {
                self.add(i as u64);
            }
            #[inline]
            fn write_usize(&mut self, i: usize) {
                self.add(i as u64);
            }
            #[inline]
            fn finish(&self) -> u64 {
                $finish(self)
            }
        }
    };
}

/// Fx mixes only upwards (a product's low bits depend only on the inputs'
/// low bits), and hashbrown picks buckets by the low bits: ids sharing their
/// first bytes ("7000123", "7000124") would all collide. A murmur3 `fmix64`
/// finaliser spreads every input bit to every output bit.
#[inline]
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

word_hasher!(FxHasher, |h: &FxHasher| fmix64(h.hash));

/// A 128-bit fingerprint: two independently seeded lanes of the hasher.
/// Used to key large identity tables without keeping (and chasing) string
/// pointers: at a million identities the chance that two distinct keys share
/// a fingerprint is about 2^-88; matches are still confirmed by key.
pub(crate) fn fingerprint<T: std::hash::Hash + ?Sized>(t: &T) -> u128 {
    let mut h = TwoLanes {
        a: FxHasher { hash: 0 },
        b: FxHasher {
            hash: 0x9e37_79b9_7f4a_7c15,
        },
    };
    t.hash(&mut h);
    (u128::from(h.a.finish()) << 64) | u128::from(h.b.finish() ^ 0x6a09_e667_f3bc_c909)
}

/// Two differently seeded Fx lanes fed the same words in one pass over the
/// key: half the work of hashing it twice.
struct TwoLanes {
    a: FxHasher,
    b: FxHasher,
}

impl TwoLanes {
    #[inline]
    fn add(&mut self, word: u64) {
        self.a.add(word);
        self.b.add(word);
    }
}

word_hasher!(TwoLanes, |h: &TwoLanes| h.a.finish());

/// FNV-1a, 64 bits (Fowler, Noll, Vo; offset basis `0xcbf29ce484222325`,
/// prime `0x100000001b3`): for each byte, xor it in, then multiply. A
/// published, byte-oriented hash anyone can recompute, for the plan's order
/// of new users.
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;
pub(crate) type FxMap<K, V> = HashMap<K, V, FxBuild>;
pub(crate) type FxSet<K> = HashSet<K, FxBuild>;

pub(crate) fn map_with_capacity<K, V>(n: usize) -> FxMap<K, V> {
    HashMap::with_capacity_and_hasher(n, FxBuild::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    /// The published FNV-1a 64 test vectors.
    #[test]
    fn fnv1a64_is_the_published_function() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    /// Ids that differ only in their last bytes must spread over the low bits
    /// (hashbrown's bucket index): a collision-prone hash made `plan()` slow.
    #[test]
    fn similar_ids_spread_over_buckets() {
        let b = FxBuild::default();
        let n = 100_000u32;
        let mut buckets = FxSet::default();
        for i in 0..n {
            let id = format!("{}", 7_000_000 + i);
            let key = crate::identity::IdKey::Entrata(id.as_str());
            buckets.insert(b.hash_one(key) & 0x1_ffff);
        }
        // 100k keys in 131k buckets: a uniform hash fills about 70 %.
        assert!(buckets.len() > 60_000, "{} distinct buckets", buckets.len());
        let mut tops = FxSet::default();
        for i in 0..n {
            let id = format!("{}", 7_000_000 + i);
            tops.insert(b.hash_one(crate::identity::IdKey::Entrata(id.as_str())) >> 57);
        }
        assert_eq!(tops.len(), 128, "control bytes (top 7 bits) all used");
    }
}
