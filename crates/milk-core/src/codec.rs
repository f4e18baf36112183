//! The canonical binary encoding.
//!
//! Every value that is hashed or signed has exactly one encoding, so two honest nodes always
//! compute the same hash. The rules are few on purpose:
//! - integers are fixed-width big-endian (`u8`, `u32`, `u64`, `u128`);
//! - byte strings and text are a `u32` length followed by the bytes;
//! - a sum type is a one-byte tag followed by its fields in declaration order;
//! - a decoder rejects trailing bytes, unknown tags and out-of-range values, so no second
//!   encoding of the same value is ever accepted.

use thiserror::Error;

/// The longest memo a transfer may carry, in bytes of UTF-8.
pub const MAX_MEMO_BYTES: usize = 140;
/// The longest partner reference or order id, in bytes.
pub const MAX_REFERENCE_BYTES: usize = 64;

/// The furthest in the future a transaction may expire: it bounds how long a signed
/// transaction stays dangerous if it leaks before it is submitted.
pub const MAX_TX_LIFETIME_MS: u64 = 24 * 60 * 60 * 1000;

/// Reads a one-byte flag: 0 or 1, anything else refused.
pub fn flag(r: &mut Reader<'_>, what: &'static str) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        tag => Err(DecodeError::UnknownTag { what, tag }),
    }
}

/// Whether no byte appears in two of the lists (nor twice in one): the compile-time check
/// behind every table of one-byte tags and namespaces.
pub const fn disjoint(lists: &[&[u8]]) -> bool {
    let mut seen = [false; 256];
    let mut i = 0;
    while i < lists.len() {
        let mut j = 0;
        while j < lists[i].len() {
            let b = lists[i][j] as usize;
            if seen[b] {
                return false;
            }
            seen[b] = true;
            j += 1;
        }
        i += 1;
    }
    true
}

/// Why a byte string is not a canonical encoding of the expected value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input ended before the value was complete.
    #[error("input ended early: needed {needed} more bytes")]
    UnexpectedEnd {
        /// How many bytes were missing.
        needed: usize,
    },
    /// Bytes were left over after the value.
    #[error("{0} trailing bytes after the value")]
    TrailingBytes(usize),
    /// A sum-type tag that this version does not know.
    #[error("unknown {what} tag {tag}")]
    UnknownTag {
        /// Which type the tag belongs to.
        what: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// A length prefix larger than the field allows.
    #[error("{what} is {len} bytes, at most {max} allowed")]
    TooLong {
        /// Which field.
        what: &'static str,
        /// The length found.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field whose bytes decode but whose value is not allowed.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// Which field.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// Appends the canonical encoding of values to a buffer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// A writer whose buffer starts with `capacity` bytes reserved.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// Appends a big-endian `u32`.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Appends a big-endian `u64`.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Appends a big-endian `u128`.
    pub fn u128(&mut self, v: u128) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Appends bytes of a fixed, known length (no prefix).
    pub fn fixed(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }

    /// Appends a length-prefixed byte string.
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        let len = u32::try_from(v.len()).expect("encoded fields are bounded far below 4 GiB");
        self.u32(len);
        self.buf.extend_from_slice(v);
        self
    }

    /// Appends a length-prefixed UTF-8 string.
    pub fn str(&mut self, v: &str) -> &mut Self {
        self.bytes(v.as_bytes())
    }

    /// Appends any encodable value.
    pub fn put<T: Encode + ?Sized>(&mut self, v: &T) -> &mut Self {
        v.encode(self);
        self
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads canonical encodings from a byte slice, refusing anything malformed.
#[derive(Debug)]
pub struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Self { input }
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.input.len()
    }

    /// Takes exactly `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.input.len() < n {
            return Err(DecodeError::UnexpectedEnd {
                needed: n - self.input.len(),
            });
        }
        let (head, tail) = self.input.split_at(n);
        self.input = tail;
        Ok(head)
    }

    /// Takes exactly `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `u128`.
    pub fn u128(&mut self) -> Result<u128, DecodeError> {
        Ok(u128::from_be_bytes(self.array()?))
    }

    /// Reads a length-prefixed byte string of at most `max` bytes.
    pub fn bytes(&mut self, what: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(DecodeError::TooLong { what, len, max });
        }
        self.take(len)
    }

    /// Reads a length-prefixed UTF-8 string of at most `max` bytes.
    pub fn str(&mut self, what: &'static str, max: usize) -> Result<&'a str, DecodeError> {
        let raw = self.bytes(what, max)?;
        std::str::from_utf8(raw).map_err(|e| DecodeError::Invalid {
            what,
            reason: e.to_string(),
        })
    }

    /// Reads any decodable value.
    pub fn get<T: Decode>(&mut self) -> Result<T, DecodeError> {
        T::decode(self)
    }

    /// Succeeds only if the whole input was consumed.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.input.len() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }
}

/// A value with a canonical encoding.
pub trait Encode {
    /// Appends the canonical encoding of `self`.
    fn encode(&self, w: &mut Writer);

    /// The canonical encoding of `self` as a new buffer.
    fn to_bytes(&self) -> Vec<u8> {
        // Most values are a transaction or smaller: one allocation, no regrowth.
        let mut w = Writer::with_capacity(256);
        self.encode(&mut w);
        w.into_bytes()
    }
}

/// A value that can be read back from its canonical encoding.
pub trait Decode: Sized {
    /// Reads one value, leaving the reader after it.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Decodes a whole buffer, refusing trailing bytes.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::decode(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

impl Encode for u64 {
    fn encode(&self, w: &mut Writer) {
        w.u64(*self);
    }
}

impl Decode for u64 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u64()
    }
}

/// `text` cut to at most `max` bytes, on a character boundary: for a message kept in a
/// record, whose length must stay bounded.
pub fn cut_text(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_big_endian_and_strings_length_prefixed() {
        let mut w = Writer::new();
        w.u8(1).u32(2).u64(3).u128(4).str("ab");
        let bytes = w.into_bytes();
        assert_eq!(
            hex::encode(&bytes),
            "01000000020000000000000003000000000000000000000000000000040000000261\
             62"
        );
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(r.u32().unwrap(), 2);
        assert_eq!(r.u64().unwrap(), 3);
        assert_eq!(r.u128().unwrap(), 4);
        assert_eq!(r.str("s", 2).unwrap(), "ab");
        r.finish().unwrap();
    }

    #[test]
    fn malformed_input_is_refused() {
        assert_eq!(
            u64::from_bytes(&[0; 7]),
            Err(DecodeError::UnexpectedEnd { needed: 1 })
        );
        assert_eq!(u64::from_bytes(&[0; 9]), Err(DecodeError::TrailingBytes(1)));
        let mut r = Reader::new(&[0, 0, 0, 3, b'a', b'b', b'c']);
        assert_eq!(
            r.str("memo", 2),
            Err(DecodeError::TooLong {
                what: "memo",
                len: 3,
                max: 2
            })
        );
        let mut r = Reader::new(&[0, 0, 0, 1, 0xff]);
        assert!(matches!(r.str("memo", 4), Err(DecodeError::Invalid { .. })));
    }
}
