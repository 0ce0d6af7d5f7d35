//! [`ReadBuf`]: a read target that may start out uninitialized.
//!
//! Why it exists: a library that reads into a large buffer it reuses (hyper's
//! connection buffer, a `Vec`'s spare capacity) would otherwise have to zero
//! that memory before every read, because `poll_read` takes an initialized
//! `&mut [u8]`. For a busy HTTP server the `memset` was the top symbol in a
//! profile. A `ReadBuf` lets a reader that can fill raw memory (a socket:
//! `recv(2)` writes into any memory) skip the zeroing entirely.
//!
//! Why this design, and not a different `poll_read`: [`AsyncRead::poll_read`]
//! keeps its plain `&mut [u8]` signature, so implementing a reader stays as
//! simple as implementing `std::io::Read`. The uninitialized path is an extra,
//! *provided* method, [`AsyncRead::poll_read_buf`]: its default zeroes the
//! unfilled part at most once (the buffer remembers how much of itself is
//! initialized, so repeated reads into one buffer do not zero again) and
//! calls `poll_read`. Readers that can do better — minirt's sockets, byte
//! slices, cursors, [`BufReader`](super::BufReader) — override it. Callers
//! that care (hyper adapters, `read_buf`) call `poll_read_buf`; everyone else
//! never sees it.
//!
//! The buffer has three regions, always in this order:
//!
//! ```text
//! [ filled | initialized, not filled | uninitialized ]
//! 0      filled                   initialized     capacity
//! ```
//!
//! [`AsyncRead::poll_read`]: super::AsyncRead::poll_read
//! [`AsyncRead::poll_read_buf`]: super::AsyncRead::poll_read_buf

use std::fmt;
use std::mem::MaybeUninit;

/// A borrowed byte buffer that is filled from the front and may start out
/// (partly) uninitialized; the argument of
/// [`AsyncRead::poll_read_buf`](super::AsyncRead::poll_read_buf).
///
/// Same API and meaning as tokio's `ReadBuf`. It exists so that a library
/// reading into a large reused buffer (hyper's connection buffer, a `Vec`'s
/// spare capacity) need not zero that memory before every read: a reader that
/// can fill raw memory (a socket's `recv(2)`) writes into it directly, and
/// the default [`poll_read_buf`](super::AsyncRead::poll_read_buf) zeroes the
/// unfilled part at most once, remembering how much is initialized.
///
/// The buffer has three regions, always in this order:
///
/// ```text
/// [ filled | initialized, not filled | uninitialized ]
/// 0      filled                   initialized     capacity
/// ```
///
/// ```
/// use std::mem::MaybeUninit;
/// use minirt_reactor::io::ReadBuf;
///
/// let mut storage = [MaybeUninit::<u8>::uninit(); 8];
/// let mut buf = ReadBuf::uninit(&mut storage);
/// assert_eq!(buf.capacity(), 8);
/// assert!(buf.initialized().is_empty());
/// buf.put_slice(b"abc");
/// assert_eq!(buf.filled(), b"abc");
/// assert_eq!(buf.initialized().len(), 3);
/// assert_eq!(buf.remaining(), 5);
/// ```
pub struct ReadBuf<'a> {
    /// The whole buffer; `..initialized` holds initialized bytes.
    buf: &'a mut [MaybeUninit<u8>],
    /// Bytes at the front that hold data read so far.
    filled: usize,
    /// Bytes at the front known to be initialized; never below `filled`.
    initialized: usize,
}

impl<'a> ReadBuf<'a> {
    /// A buffer over initialized memory: nothing filled, all initialized.
    ///
    /// ```
    /// let mut storage = [0u8; 4];
    /// let buf = minirt_reactor::io::ReadBuf::new(&mut storage);
    /// assert_eq!(buf.initialized().len(), 4);
    /// assert!(buf.filled().is_empty());
    /// ```
    pub fn new(buf: &'a mut [u8]) -> ReadBuf<'a> {
        let initialized = buf.len();
        // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and every byte of
        // `buf` is initialized; `initialized = len` records that, and no method
        // ever writes an uninitialized value below `initialized`, so the
        // caller's `&mut [u8]` stays valid when the borrow ends.
        let buf = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        ReadBuf {
            buf,
            filled: 0,
            initialized,
        }
    }

    /// A buffer over memory that may be uninitialized: nothing filled,
    /// nothing known to be initialized.
    ///
    /// ```
    /// use std::mem::MaybeUninit;
    /// let mut storage = [MaybeUninit::uninit(); 16];
    /// let buf = minirt_reactor::io::ReadBuf::uninit(&mut storage);
    /// assert_eq!(buf.capacity(), 16);
    /// assert!(buf.initialized().is_empty());
    /// ```
    pub fn uninit(buf: &'a mut [MaybeUninit<u8>]) -> ReadBuf<'a> {
        ReadBuf {
            buf,
            filled: 0,
            initialized: 0,
        }
    }

    /// The total size of the buffer.
    ///
    /// ```
    /// let mut storage = [0u8; 4];
    /// assert_eq!(minirt_reactor::io::ReadBuf::new(&mut storage).capacity(), 4);
    /// ```
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The bytes read so far.
    ///
    /// ```
    /// let mut storage = [0u8; 4];
    /// let mut buf = minirt_reactor::io::ReadBuf::new(&mut storage);
    /// buf.put_slice(b"hi");
    /// assert_eq!(buf.filled(), b"hi");
    /// ```
    pub fn filled(&self) -> &[u8] {
        // SAFETY: `..filled` is within `..initialized` (struct invariant).
        unsafe { slice_assume_init(&self.buf[..self.filled]) }
    }

    /// The bytes read so far, mutably.
    ///
    /// ```
    /// let mut storage = [0u8; 4];
    /// let mut buf = minirt_reactor::io::ReadBuf::new(&mut storage);
    /// buf.put_slice(b"hi");
    /// buf.filled_mut()[0] = b'H';
    /// assert_eq!(buf.filled(), b"Hi");
    /// ```
    pub fn filled_mut(&mut self) -> &mut [u8] {
        // SAFETY: `..filled` is within `..initialized` (struct invariant).
        unsafe { slice_assume_init_mut(&mut self.buf[..self.filled]) }
    }

    /// The initialized part of the buffer (the filled bytes and any
    /// initialized bytes after them).
    ///
    /// ```
    /// let mut storage = [0u8; 4];
    /// let buf = minirt_reactor::io::ReadBuf::new(&mut storage);
    /// assert_eq!(buf.initialized(), &[0, 0, 0, 0]);
    /// ```
    pub fn initialized(&self) -> &[u8] {
        // SAFETY: `..initialized` is initialized (struct invariant).
        unsafe { slice_assume_init(&self.buf[..self.initialized]) }
    }

    /// The initialized part of the buffer, mutably.
    ///
    /// ```
    /// let mut storage = [0u8; 2];
    /// let mut buf = minirt_reactor::io::ReadBuf::new(&mut storage);
    /// buf.initialized_mut()[1] = 7;
    /// assert_eq!(buf.initialized(), &[0, 7]);
    /// ```
    pub fn initialized_mut(&mut self) -> &mut [u8] {
        // SAFETY: `..initialized` is initialized (struct invariant).
        unsafe { slice_assume_init_mut(&mut self.buf[..self.initialized]) }
    }

    /// A new `ReadBuf` over at most `n` bytes of this one's unfilled part.
    /// What is filled there is *not* reflected here: the caller advances this
    /// buffer by the other's `filled().len()` afterwards.
    ///
    /// ```
    /// let mut storage = [0u8; 8];
    /// let mut buf = minirt_reactor::io::ReadBuf::new(&mut storage);
    /// let mut head = buf.take(3);
    /// head.put_slice(b"abc");
    /// let n = head.filled().len();
    /// buf.advance(n);
    /// assert_eq!(buf.filled(), b"abc");
    /// ```
    pub fn take(&mut self, n: usize) -> ReadBuf<'_> {
        let max = n.min(self.remaining());
        let initialized = (self.initialized - self.filled).min(max);
        ReadBuf {
            buf: &mut self.buf[self.filled..self.filled + max],
            filled: 0,
            initialized,
        }
    }

    /// The whole buffer, as possibly uninitialized memory.
    ///
    /// # Safety
    ///
    /// The caller must not write uninitialized bytes (`MaybeUninit::uninit()`)
    /// into the initialized part: `ReadBuf::new`'s caller still holds that
    /// memory as a `&mut [u8]`.
    ///
    /// ```
    /// let mut storage = [0u8; 2];
    /// let mut buf = minirt_reactor::io::ReadBuf::new(&mut storage);
    /// // SAFETY: only reads the length.
    /// assert_eq!(unsafe { buf.inner_mut() }.len(), 2);
    /// ```
    pub unsafe fn inner_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        self.buf
    }

    /// The unfilled part, as possibly uninitialized memory: where a reader
    /// that can fill raw memory writes, before calling
    /// [`assume_init`](Self::assume_init) and [`advance`](Self::advance).
    ///
    /// # Safety
    ///
    /// As [`inner_mut`](Self::inner_mut): never de-initialize bytes.
    ///
    /// ```
    /// use std::mem::MaybeUninit;
    /// let mut storage = [MaybeUninit::uninit(); 4];
    /// let mut buf = minirt_reactor::io::ReadBuf::uninit(&mut storage);
    /// // SAFETY: only initialized values are written.
    /// unsafe {
    ///     buf.unfilled_mut()[0].write(b'x');
    ///     buf.assume_init(1);
    /// }
    /// buf.advance(1);
    /// assert_eq!(buf.filled(), b"x");
    /// ```
    pub unsafe fn unfilled_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        &mut self.buf[self.filled..]
    }

    /// The unfilled part, zeroing whatever of it is not yet initialized
    /// (only that part: bytes zeroed by an earlier call are not zeroed again).
    ///
    /// ```
    /// use std::mem::MaybeUninit;
    /// let mut storage = [MaybeUninit::uninit(); 4];
    /// let mut buf = minirt_reactor::io::ReadBuf::uninit(&mut storage);
    /// assert_eq!(buf.initialize_unfilled(), &[0, 0, 0, 0]);
    /// assert_eq!(buf.initialized().len(), 4);
    /// ```
    pub fn initialize_unfilled(&mut self) -> &mut [u8] {
        self.initialize_unfilled_to(self.remaining())
    }

    /// The first `n` bytes of the unfilled part, zeroing the ones not yet
    /// initialized.
    ///
    /// # Panics
    ///
    /// If `n` is more than [`remaining`](Self::remaining).
    ///
    /// ```
    /// let mut storage = [0u8; 4];
    /// let mut buf = minirt_reactor::io::ReadBuf::new(&mut storage);
    /// assert_eq!(buf.initialize_unfilled_to(2).len(), 2);
    /// ```
    pub fn initialize_unfilled_to(&mut self, n: usize) -> &mut [u8] {
        assert!(
            n <= self.remaining(),
            "ReadBuf::initialize_unfilled_to({n}) with only {} bytes unfilled",
            self.remaining()
        );
        let end = self.filled + n;
        if self.initialized < end {
            for byte in &mut self.buf[self.initialized..end] {
                byte.write(0);
            }
            self.initialized = end;
        }
        // SAFETY: `filled..end` is within `..initialized`, just ensured.
        unsafe { slice_assume_init_mut(&mut self.buf[self.filled..end]) }
    }

    /// How many bytes can still be filled.
    ///
    /// ```
    /// let mut storage = [0u8; 4];
    /// let mut buf = minirt_reactor::io::ReadBuf::new(&mut storage);
    /// buf.put_slice(b"a");
    /// assert_eq!(buf.remaining(), 3);
    /// ```
    pub fn remaining(&self) -> usize {
        self.capacity() - self.filled
    }

    /// Forgets the filled bytes (they stay initialized), to reuse the buffer.
    ///
    /// ```
    /// let mut storage = [0u8; 4];
    /// let mut buf = minirt_reactor::io::ReadBuf::new(&mut storage);
    /// buf.put_slice(b"ab");
    /// buf.clear();
    /// assert!(buf.filled().is_empty());
    /// assert_eq!(buf.initialized().len(), 4);
    /// ```
    pub fn clear(&mut self) {
        self.filled = 0;
    }

    /// Marks `n` more bytes as filled.
    ///
    /// # Panics
    ///
    /// If that would fill bytes that are not initialized (for a reader: it
    /// reports reading more than it was given).
    ///
    /// ```
    /// let mut storage = [0u8; 4];
    /// let mut buf = minirt_reactor::io::ReadBuf::new(&mut storage);
    /// buf.initialize_unfilled()[..2].copy_from_slice(b"ok");
    /// buf.advance(2);
    /// assert_eq!(buf.filled(), b"ok");
    /// ```
    pub fn advance(&mut self, n: usize) {
        let new = self
            .filled
            .checked_add(n)
            .unwrap_or_else(|| panic!("ReadBuf::advance({n}) overflows"));
        self.set_filled(new);
    }

    /// Sets how many bytes are filled (shrinking is allowed).
    ///
    /// # Panics
    ///
    /// If `n` is beyond the initialized part.
    ///
    /// ```
    /// let mut storage = [0u8; 4];
    /// let mut buf = minirt_reactor::io::ReadBuf::new(&mut storage);
    /// buf.set_filled(3);
    /// buf.set_filled(1);
    /// assert_eq!(buf.filled(), &[0]);
    /// ```
    pub fn set_filled(&mut self, n: usize) {
        assert!(
            n <= self.initialized,
            "ReadBuf: filled ({n}) would pass the initialized bytes ({}); \
             a reader reported more bytes than it wrote",
            self.initialized
        );
        self.filled = n;
    }

    /// Records that the first `n` unfilled bytes have been initialized (by a
    /// write through [`unfilled_mut`](Self::unfilled_mut)). Never shrinks
    /// the initialized part.
    ///
    /// # Safety
    ///
    /// Those `n` bytes must really be initialized.
    ///
    /// ```
    /// use std::mem::MaybeUninit;
    /// let mut storage = [MaybeUninit::uninit(); 4];
    /// let mut buf = minirt_reactor::io::ReadBuf::uninit(&mut storage);
    /// // SAFETY: two bytes written, two assumed.
    /// unsafe {
    ///     buf.unfilled_mut()[..2].copy_from_slice(&[MaybeUninit::new(1), MaybeUninit::new(2)]);
    ///     buf.assume_init(2);
    /// }
    /// assert_eq!(buf.initialized(), &[1, 2]);
    /// ```
    pub unsafe fn assume_init(&mut self, n: usize) {
        let end = self.filled + n;
        debug_assert!(end <= self.capacity(), "assume_init past the end");
        if end > self.initialized {
            self.initialized = end;
        }
    }

    /// Appends `src` to the filled part (initializing as it goes).
    ///
    /// # Panics
    ///
    /// If `src` is longer than [`remaining`](Self::remaining).
    ///
    /// ```
    /// let mut storage = [0u8; 4];
    /// let mut buf = minirt_reactor::io::ReadBuf::new(&mut storage);
    /// buf.put_slice(b"ab");
    /// buf.put_slice(b"cd");
    /// assert_eq!(buf.filled(), b"abcd");
    /// ```
    pub fn put_slice(&mut self, src: &[u8]) {
        assert!(
            src.len() <= self.remaining(),
            "ReadBuf::put_slice of {} bytes with only {} bytes unfilled",
            src.len(),
            self.remaining()
        );
        let end = self.filled + src.len();
        for (dst, &byte) in self.buf[self.filled..end].iter_mut().zip(src) {
            dst.write(byte);
        }
        if end > self.initialized {
            self.initialized = end;
        }
        self.filled = end;
    }
}

impl fmt::Debug for ReadBuf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadBuf")
            .field("filled", &self.filled)
            .field("initialized", &self.initialized)
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// # Safety
///
/// Every byte of `slice` must be initialized.
unsafe fn slice_assume_init(slice: &[MaybeUninit<u8>]) -> &[u8] {
    // SAFETY: same layout; initialized per the caller.
    unsafe { &*(slice as *const [MaybeUninit<u8>] as *const [u8]) }
}

/// # Safety
///
/// Every byte of `slice` must be initialized.
unsafe fn slice_assume_init_mut(slice: &mut [MaybeUninit<u8>]) -> &mut [u8] {
    // SAFETY: same layout; initialized per the caller.
    unsafe { &mut *(slice as *mut [MaybeUninit<u8>] as *mut [u8]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initialize_unfilled_zeroes_only_the_uninitialized_tail_once() {
        let mut storage = [MaybeUninit::new(9u8); 6];
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.put_slice(b"ab");
        // Bytes 2..6 are really 9 but unknown to the buffer: they get zeroed.
        assert_eq!(buf.initialize_unfilled_to(2), &[0, 0]);
        buf.initialize_unfilled_to(2)[0] = 5;
        // Already initialized: not zeroed again.
        assert_eq!(buf.initialize_unfilled_to(3), &[5, 0, 0]);
        assert_eq!(buf.initialized().len(), 5);
    }

    #[test]
    fn take_limits_and_keeps_initialized_knowledge() {
        let mut storage = [0u8; 8];
        let mut buf = ReadBuf::new(&mut storage);
        buf.put_slice(b"x");
        let sub = buf.take(100);
        assert_eq!(sub.capacity(), 7);
        assert_eq!(sub.initialized().len(), 7);
    }

    #[test]
    #[should_panic(expected = "would pass the initialized bytes")]
    fn advance_past_initialized_panics() {
        let mut storage = [MaybeUninit::uninit(); 4];
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.advance(1);
    }

    #[test]
    #[should_panic(expected = "only 1 bytes unfilled")]
    fn put_slice_past_capacity_panics() {
        let mut storage = [0u8; 1];
        ReadBuf::new(&mut storage).put_slice(b"ab");
    }
}
