//! `Either`: one of two values, from [`select`](super::select).

/// A value of one of two types: which of two futures won a
/// [`select`](super::select).
///
/// ```
/// use minirt_core::future::Either;
///
/// let won: Either<u8, &str> = Either::Right("b");
/// assert!(won.is_right());
/// assert_eq!(won.right(), Some("b"));
/// assert_eq!(Either::<u8, u8>::Left(3).into_inner(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Either<L, R> {
    /// The first (left) future won.
    Left(L),
    /// The second (right) future won.
    Right(R),
}

impl<L, R> Either<L, R> {
    /// `true` for [`Either::Left`].
    pub fn is_left(&self) -> bool {
        matches!(self, Either::Left(_))
    }

    /// `true` for [`Either::Right`].
    pub fn is_right(&self) -> bool {
        matches!(self, Either::Right(_))
    }

    /// The left value, if this is one.
    pub fn left(self) -> Option<L> {
        match self {
            Either::Left(l) => Some(l),
            Either::Right(_) => None,
        }
    }

    /// The right value, if this is one.
    pub fn right(self) -> Option<R> {
        match self {
            Either::Left(_) => None,
            Either::Right(r) => Some(r),
        }
    }
}

impl<T> Either<T, T> {
    /// The value, whichever side it is on.
    pub fn into_inner(self) -> T {
        match self {
            Either::Left(t) | Either::Right(t) => t,
        }
    }
}
