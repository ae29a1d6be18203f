//! Finding a byte, or either of two, in the short spans of one log line (a
//! request, a referer, a path), and the newlines that end a chunk's lines.
//!
//! `memchr` is built for long haystacks: each call goes through a function
//! pointer and a setup that cost more than searching the tens of bytes a
//! field holds (70 to 95 instructions a call, measured on derive's per-line
//! path). These search 16 bytes at a time with SSE2, which every x86_64 has,
//! inlined where they are called; a span of 8 to 15 bytes is read as two
//! overlapping words, a shorter one byte by byte. Other targets use `memchr`. They answer what `memchr` answers, which
//! the tests check at every length and place.
//!
//! [`Short`] holds a text of up to 16 bytes as two words, so that texts asked for once
//! a path segment (a folded group's prefix) compare in a few instructions, not a call.

/// The first `needle` in `hay`.
#[inline(always)]
pub fn find(needle: u8, hay: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        if hay.len() < 16 {
            let wanted = word::splat(needle);
            return word::first(hay, |w| word::hits(w, wanted), |b| b == needle);
        }
        let wanted = sse2::splat(needle);
        sse2::first(hay, |block| sse2::hits(block, wanted))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        memchr::memchr(needle, hay)
    }
}

/// The first `a` or `b` in `hay`.
#[inline(always)]
pub fn find2(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        if hay.len() < 16 {
            let (wanted_a, wanted_b) = (word::splat(a), word::splat(b));
            return word::first(hay, |w| word::hits(w, wanted_a) | word::hits(w, wanted_b), |x| x == a || x == b);
        }
        let (wanted_a, wanted_b) = (sse2::splat(a), sse2::splat(b));
        sse2::first(hay, |block| sse2::hits(block, wanted_a) | sse2::hits(block, wanted_b))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        memchr::memchr2(a, b, hay)
    }
}

/// The first byte in `hay` that ends a log line's plain token (a client address, an
/// ident, a user): a control byte or space, `"`, `,`, `[` or DEL.
#[inline(always)]
pub fn find_token_end(hay: &[u8]) -> Option<usize> {
    let ends = |b: u8| b <= b' ' || matches!(b, b'"' | b',' | b'[' | 0x7f);
    #[cfg(target_arch = "x86_64")]
    {
        if hay.len() < 16 {
            return hay.iter().position(|&b| ends(b));
        }
        let marks = [b'"', b',', b'[', 0x7f].map(sse2::splat);
        let space = sse2::splat(b' ');
        sse2::first(hay, |block| marks.iter().fold(sse2::at_most(block, space), |hit, &mark| hit | sse2::hits(block, mark)))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        hay.iter().position(|&b| ends(b))
    }
}

/// The first control byte in `hay`: below 0x20, or DEL.
#[inline(always)]
pub fn find_control(hay: &[u8]) -> Option<usize> {
    let control = |b: u8| b < 0x20 || b == 0x7f;
    #[cfg(target_arch = "x86_64")]
    {
        if hay.len() < 16 {
            return hay.iter().position(|&b| control(b));
        }
        let (below, del) = (sse2::splat(0x1f), sse2::splat(0x7f));
        sse2::first(hay, |block| sse2::at_most(block, below) | sse2::hits(block, del))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        hay.iter().position(|&b| control(b))
    }
}

/// A text of up to 16 bytes as its length and two words that are all of its bytes: the
/// first and last 8 (or 4) bytes, overlapping, or the first, middle and last of up to 3.
/// Two texts are equal exactly when their `Short`s are; a longer text has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Short {
    len: usize,
    head: u64,
    tail: u64,
}

impl Short {
    #[inline(always)] // once a path segment
    pub fn of(text: &[u8]) -> Option<Short> {
        let n = text.len();
        let (head, tail) = match n {
            0 => (0, 0),
            1..=3 => (u64::from(text[0]) | u64::from(text[n / 2]) << 8 | u64::from(text[n - 1]) << 16, 0),
            4..=7 => {
                let word = |w: Option<&[u8; 4]>| w.map_or(0, |w| u64::from(u32::from_le_bytes(*w)));
                (word(text.first_chunk::<4>()), word(text.last_chunk::<4>()))
            }
            8..=16 => {
                let word = |w: Option<&[u8; 8]>| w.map_or(0, |w| u64::from_le_bytes(*w));
                (word(text.first_chunk::<8>()), word(text.last_chunk::<8>()))
            }
            _ => return None,
        };
        Some(Short { len: n, head, tail })
    }
}

/// The places of `needle` in `hay`, in order: 64 bytes are searched at once into a mask whose
/// set bits are then read off, so a line costs a few instructions more than its bytes' share.
pub fn find_each(needle: u8, hay: &[u8]) -> FindEach<'_> {
    FindEach { hay, needle, base: 0, mask: 0, searched: 0 }
}

/// The iterator [`find_each`] returns.
pub struct FindEach<'h> {
    hay: &'h [u8],
    needle: u8,
    /// Where the 64 bytes `mask` stands for begin.
    base: usize,
    /// One bit a byte from `base`: the places found and not yet given.
    mask: u64,
    /// Bytes from the start already searched.
    searched: usize,
}

impl Iterator for FindEach<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            if self.searched >= self.hay.len() {
                return None;
            }
            self.base = self.searched;
            let rest = &self.hay[self.searched..];
            match rest.first_chunk::<64>() {
                Some(block) => {
                    self.mask = mask64(block, self.needle);
                    self.searched += 64;
                }
                None => {
                    // The last bytes, fewer than 64.
                    self.mask = rest.iter().enumerate().filter(|&(_, &b)| b == self.needle).fold(0, |m, (i, _)| m | 1 << i);
                    self.searched = self.hay.len();
                }
            }
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }
}

/// One bit for each byte of `block` that is `needle`.
#[inline(always)]
fn mask64(block: &[u8; 64], needle: u8) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        let wanted = sse2::splat(needle);
        let (quarters, _) = block.as_chunks::<16>();
        quarters.iter().enumerate().fold(0, |mask, (i, quarter)| mask | u64::from(sse2::hits(sse2::load(quarter), wanted)) << (16 * i))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        block.iter().enumerate().filter(|&(_, &b)| b == needle).fold(0, |m, (i, _)| m | 1 << i)
    }
}

/// Eight bytes at a time in a general register, for spans too short for a 16-byte block.
#[cfg(target_arch = "x86_64")]
mod word {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;

    #[inline(always)]
    pub fn splat(byte: u8) -> u64 {
        ONES * u64::from(byte)
    }

    /// The high bit of each byte of `word` equal to the byte `wanted` repeats: exact for the
    /// lowest such byte (a borrow only ever marks bytes above a true one), which is all
    /// [`first`] reads.
    #[inline(always)]
    pub fn hits(word: u64, wanted: u64) -> u64 {
        let x = word ^ wanted;
        x.wrapping_sub(ONES) & !x & HIGH
    }

    /// The first place in `hay` (under 16 bytes) that `hit` marks: its first eight bytes and
    /// its last eight (overlapping, when fewer than 16) as two words; under 8, byte by byte.
    #[inline(always)]
    pub fn first(hay: &[u8], hit: impl Fn(u64) -> u64, byte_hit: impl Fn(u8) -> bool) -> Option<usize> {
        let (Some(head), Some(tail)) = (hay.first_chunk::<8>(), hay.last_chunk::<8>()) else {
            return hay.iter().position(|&b| byte_hit(b));
        };
        let mask = hit(u64::from_le_bytes(*head));
        if mask != 0 {
            return Some(mask.trailing_zeros() as usize / 8);
        }
        // The bytes the tail shares with the head are clear: its lowest mark is past them.
        let mask = hit(u64::from_le_bytes(*tail));
        (mask != 0).then(|| hay.len() - 8 + mask.trailing_zeros() as usize / 8)
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_set1_epi8};

    // SAFETY (each `unsafe` below but the load's): SSE2 is part of every x86_64 target, so
    // its intrinsics are always there to call.

    #[inline(always)]
    pub fn splat(byte: u8) -> __m128i {
        unsafe { _mm_set1_epi8(byte as i8) }
    }

    /// One bit for each byte of `block` equal to the byte `wanted` repeats.
    #[inline(always)]
    pub fn hits(block: __m128i, wanted: __m128i) -> u32 {
        unsafe { _mm_movemask_epi8(_mm_cmpeq_epi8(block, wanted)) as u32 }
    }

    /// One bit for each byte of `block` at most the byte `limit` repeats (unsigned).
    #[inline(always)]
    pub fn at_most(block: __m128i, limit: __m128i) -> u32 {
        unsafe { _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(block, limit), block)) as u32 }
    }

    #[inline(always)]
    pub fn load(block: &[u8; 16]) -> __m128i {
        // SAFETY: `block` is 16 readable bytes; an unaligned load reads exactly those.
        unsafe { _mm_loadu_si128(block.as_ptr().cast()) }
    }

    /// The first place in `hay` (16 bytes or more) that `hit` marks in its 16-byte block.
    #[inline(always)]
    pub fn first(hay: &[u8], hit: impl Fn(__m128i) -> u32) -> Option<usize> {
        let n = hay.len();
        let mut at = 0;
        while let Some(block) = hay.get(at..).and_then(<[u8]>::first_chunk) {
            let mask = hit(load(block));
            if mask != 0 {
                return Some(at + mask.trailing_zeros() as usize);
            }
            at += 16;
        }
        if at == n {
            return None;
        }
        // The last 16 bytes; the ones before `at` were searched already and are masked off.
        let last = hay.last_chunk::<16>()?;
        let mask = hit(load(last)) >> (at - (n - 16));
        (mask != 0).then(|| at + mask.trailing_zeros() as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length up to 200, the needle at every place (and with a second needle after it,
    /// and not at all): the answers are `memchr`'s.
    #[test]
    fn answers_are_memchrs_at_every_length_and_place() {
        for len in 0..200usize {
            // Bytes one bit or one step from the needles, and the extremes: where a word-wise
            // test could be fooled by a borrow or a sign.
            let near = [b'"' ^ 1, b'"' ^ 0x80, b'"' + 1, b'"' - 1, 0, 0xff, 0x80, b'\\' ^ 1, b'\\' + 1, b'a', b'x' ^ 1];
            let base: Vec<u8> = (0..len).map(|i| near[(i * 7 + len) % near.len()]).collect();
            let mut cases = vec![base.clone()];
            for at in 0..len {
                let mut one = base.clone();
                one[at] = b'"';
                cases.push(one.clone());
                one[len - 1 - (at / 2)] = b'\\';
                cases.push(one);
            }
            for hay in &cases {
                assert_eq!(find(b'"', hay), memchr::memchr(b'"', hay), "{len} {hay:?}");
                assert_eq!(find(b'#', hay), memchr::memchr(b'#', hay), "{len}");
                assert_eq!(find2(b'"', b'\\', hay), memchr::memchr2(b'"', b'\\', hay), "{len} {hay:?}");
                assert_eq!(find2(b'\\', b'x', hay), memchr::memchr2(b'\\', b'x', hay), "{len} {hay:?}");
                assert_eq!(find_each(b'"', hay).collect::<Vec<_>>(), memchr::memchr_iter(b'"', hay).collect::<Vec<_>>());
            }
        }
    }

    /// Texts of every length up to 20, equal, one bit apart at every place, or one byte
    /// shorter: their `Short`s are equal exactly when they are; past 16 bytes there are none.
    #[test]
    fn short_texts_are_equal_when_their_words_are() {
        for len in 0..=20usize {
            let a: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
            if len > 16 {
                assert_eq!(Short::of(&a), None, "{len}");
                continue;
            }
            assert!(Short::of(&a).is_some() && Short::of(&a) == Short::of(&a.clone()), "{len}");
            for at in 0..len {
                for bit in [0x01, 0x80] {
                    let mut b = a.clone();
                    b[at] ^= bit;
                    assert_ne!(Short::of(&a), Short::of(&b), "{len} {at} {bit}");
                }
            }
            if len > 0 {
                assert_ne!(Short::of(&a), Short::of(&a[..len - 1]), "{len}");
                assert_ne!(Short::of(&a), Short::of(&a[1..]), "{len}");
            }
        }
    }

    #[test]
    fn a_token_ends_where_a_byte_by_byte_look_says() {
        let ends = |b: u8| b <= b' ' || matches!(b, b'"' | b',' | b'[' | 0x7f);
        for len in 0..70usize {
            let base: Vec<u8> = (0..len).map(|i| [b'1', b'.', b':', b'a', 0x80, 0xff, b'!', b'Z', b'~'][(i + len) % 9]).collect();
            assert_eq!(find_token_end(&base), None, "{len}");
            // Every ending byte (and the ones around them) at every place.
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut hay = base.clone();
                    hay[at] = b;
                    let want = hay.iter().position(|&x| ends(x));
                    assert_eq!(find_token_end(&hay), want, "{len} {at} {b}");
                }
            }
        }
    }

    #[test]
    fn every_newline_is_found_in_order() {
        // Lines of every length from 0 to 150 bytes, so newlines fall at every place of a 64-byte block.
        let mut text = Vec::new();
        for n in 0..150 {
            text.extend(std::iter::repeat_n(b'x', n));
            text.push(b'\n');
        }
        text.extend_from_slice(b"no newline at the end");
        for start in 0..70 {
            let hay = &text[start..];
            let found: Vec<usize> = find_each(b'\n', hay).collect();
            assert_eq!(found, memchr::memchr_iter(b'\n', hay).collect::<Vec<_>>(), "from {start}");
            // Starting inside the first lines skips only their newlines.
            assert!(found.len() >= 135, "{}", found.len());
        }
        assert_eq!(find_each(b'\n', &[b'\n'; 200]).count(), 200);
        assert_eq!(find_each(b'\n', b"").next(), None);
    }
}
