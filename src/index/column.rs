//! Per-document columns stored in fixed-size chunks.
//!
//! A plain `Vec` doubles its capacity when it fills, so at some sizes nearly half of it is
//! reserved and unused, and each growth copies the whole column while the namespace lock is
//! held. A [`Column`] grows by one chunk of [`CHUNK`] values at a time: at most one chunk is
//! partly empty, and nothing is ever copied.

/// log2 of the values per chunk.
pub const CHUNK_BITS: u32 = 12;
/// Values per chunk (also the documents per record arena, see [`super::docs`]).
pub const CHUNK: usize = 1 << CHUNK_BITS;

/// A growable array of `T` in chunks of [`CHUNK`] values.
#[derive(Clone)]
pub struct Column<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Column<T> {
    fn default() -> Self {
        Column {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> std::fmt::Debug for Column<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Column")
            .field("len", &self.len)
            .field("chunks", &self.chunks.len())
            .finish()
    }
}

impl<T: Copy> Column<T> {
    /// Values held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no value is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Append a value.
    pub fn push(&mut self, value: T) {
        if self.len % CHUNK == 0 {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(chunk) = self.chunks.last_mut() {
            chunk.push(value);
            self.len += 1;
        }
    }

    /// The value at `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<T> {
        self.chunks
            .get(i >> CHUNK_BITS)
            .and_then(|c| c.get(i & (CHUNK - 1)))
            .copied()
    }

    /// Replace the value at `i`; false when `i` is out of range.
    pub fn set(&mut self, i: usize, value: T) -> bool {
        match self
            .chunks
            .get_mut(i >> CHUNK_BITS)
            .and_then(|c| c.get_mut(i & (CHUNK - 1)))
        {
            Some(v) => {
                *v = value;
                true
            }
            None => false,
        }
    }

    /// Bytes held (chunk capacities and the chunk table).
    pub fn memory_bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.capacity() * std::mem::size_of::<T>())
            .sum::<usize>()
            + self.chunks.capacity() * std::mem::size_of::<Vec<T>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_get_set_across_chunks() {
        let mut c = Column::default();
        let n = CHUNK * 2 + 3;
        for i in 0..n {
            c.push(i as u64 * 3);
        }
        assert_eq!(c.len(), n);
        assert_eq!(c.get(0), Some(0));
        assert_eq!(c.get(CHUNK), Some(CHUNK as u64 * 3));
        assert_eq!(c.get(n - 1), Some((n as u64 - 1) * 3));
        assert_eq!(c.get(n), None);
        assert!(c.set(CHUNK + 1, 7));
        assert_eq!(c.get(CHUNK + 1), Some(7));
        assert!(!c.set(n, 7));
    }

    #[test]
    fn memory_grows_by_whole_chunks_only() {
        let mut c = Column::default();
        for i in 0..(CHUNK * 3 + 1) as u32 {
            c.push(i);
        }
        let values = 4 * CHUNK * 4;
        assert!(c.memory_bytes() >= values);
        assert!(c.memory_bytes() <= values + 4 * 24, "{}", c.memory_bytes());
    }
}
