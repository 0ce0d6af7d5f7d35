//! Where timer entries live: a slab of entries threaded into intrusive,
//! doubly-linked lists by index.
//!
//! Why: insert and cancel must be O(1) with no scanning and one allocation
//! pattern the allocator likes. Each entry records which list it is on
//! ([`Location`]) and its neighbours, so unlinking it touches only those
//! neighbours and that list's head/tail. Each wheel level also keeps a `u64`
//! bitmap of its non-empty slots, maintained here as entries come and go.

use slab::Slab;

use super::level::{NUM_LEVELS, SLOTS};

/// "No entry": the end of a list.
pub(crate) const NIL: u32 = u32::MAX;

/// Which list an entry is linked into.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Location {
    /// Due: its deadline equals the wheel's now. Fired first, in list order.
    Due,
    /// Slot `slot` of wheel level `level`.
    Slot { level: u8, slot: u8 },
    /// Further away than the top level reaches; re-filed as time advances.
    Overflow,
}

/// One timer.
pub(crate) struct Entry<T> {
    /// The caller's payload, handed back when the timer fires or is cancelled.
    pub(crate) value: T,
    /// When it is due, never earlier than the wheel's now when it was filed.
    pub(crate) deadline: u64,
    /// Distinguishes this entry from earlier ones that used the same slab index.
    pub(crate) generation: u32,
    /// The list it is on.
    pub(crate) location: Location,
    /// Previous entry on the same list, or `NIL`.
    prev: u32,
    /// Next entry on the same list, or `NIL`.
    next: u32,
}

impl<T> Entry<T> {
    /// A new entry on no list yet; [`Lists::push_back`] links it.
    pub(crate) fn new(value: T, deadline: u64, generation: u32) -> Self {
        Entry {
            value,
            deadline,
            generation,
            location: Location::Due,
            prev: NIL,
            next: NIL,
        }
    }
}

/// The two ends of one list.
#[derive(Clone, Copy, Debug)]
pub(crate) struct List {
    /// First entry, or `NIL` when empty.
    pub(crate) head: u32,
    /// Last entry, or `NIL` when empty.
    tail: u32,
}

impl List {
    /// An empty list.
    const EMPTY: List = List {
        head: NIL,
        tail: NIL,
    };

    /// Whether no entry is on the list.
    pub(crate) fn is_empty(&self) -> bool {
        self.head == NIL
    }
}

/// One level of the wheel: 64 slots and a bitmap of which are non-empty.
struct Level {
    /// Bit `s` is set iff `slots[s]` is non-empty.
    occupied: u64,
    /// The lists, one per slot.
    slots: [List; SLOTS],
}

/// Every list of the wheel. The slab is passed in separately so the two can be
/// borrowed mutably at once.
pub(crate) struct Lists {
    /// Entries whose deadline equals now, in the order they must fire.
    due: List,
    /// Level `L` has slots `64^L` ticks wide.
    levels: [Level; NUM_LEVELS],
    /// Entries beyond the top level.
    overflow: List,
}

impl Lists {
    /// All lists empty.
    pub(crate) fn new() -> Self {
        Lists {
            due: List::EMPTY,
            levels: core::array::from_fn(|_| Level {
                occupied: 0,
                slots: [List::EMPTY; SLOTS],
            }),
            overflow: List::EMPTY,
        }
    }

    /// The list at `location`.
    fn list_mut(&mut self, location: Location) -> &mut List {
        match location {
            Location::Due => &mut self.due,
            Location::Slot { level, slot } => &mut self.levels[level as usize].slots[slot as usize],
            Location::Overflow => &mut self.overflow,
        }
    }

    /// The list at `location`, read-only.
    pub(crate) fn list(&self, location: Location) -> List {
        match location {
            Location::Due => self.due,
            Location::Slot { level, slot } => self.levels[level as usize].slots[slot as usize],
            Location::Overflow => self.overflow,
        }
    }

    /// The occupancy bitmap of `level`.
    pub(crate) fn occupied(&self, level: usize) -> u64 {
        self.levels[level].occupied
    }

    /// Appends entry `index` (on no list) to the list at `location`.
    pub(crate) fn push_back<T>(
        &mut self,
        entries: &mut Slab<Entry<T>>,
        location: Location,
        index: u32,
    ) {
        let list = self.list_mut(location);
        let old_tail = list.tail;
        if old_tail == NIL {
            list.head = index;
        } else {
            entries[old_tail as usize].next = index;
        }
        list.tail = index;
        let entry = &mut entries[index as usize];
        entry.location = location;
        entry.prev = old_tail;
        entry.next = NIL;
        if let Location::Slot { level, slot } = location {
            self.levels[level as usize].occupied |= 1 << slot;
        }
    }

    /// Removes entry `index` from whatever list it is on.
    pub(crate) fn unlink<T>(&mut self, entries: &mut Slab<Entry<T>>, index: u32) {
        let (location, prev, next) = {
            let entry = &entries[index as usize];
            (entry.location, entry.prev, entry.next)
        };
        if prev != NIL {
            entries[prev as usize].next = next;
        }
        if next != NIL {
            entries[next as usize].prev = prev;
        }
        let list = self.list_mut(location);
        if prev == NIL {
            debug_assert_eq!(
                list.head, index,
                "entry {index} has no prev but is not head of {location:?}"
            );
            list.head = next;
        }
        if next == NIL {
            debug_assert_eq!(
                list.tail, index,
                "entry {index} has no next but is not tail of {location:?}"
            );
            list.tail = prev;
        }
        let now_empty = list.is_empty();
        if let (Location::Slot { level, slot }, true) = (location, now_empty) {
            self.levels[level as usize].occupied &= !(1 << slot);
        }
        let entry = &mut entries[index as usize];
        entry.prev = NIL;
        entry.next = NIL;
    }

    /// Detaches the whole list at `location` and returns its first entry. The
    /// entries keep their links, so the detached chain can be walked with
    /// [`Lists::next`], reading each successor *before* re-linking an entry.
    pub(crate) fn take(&mut self, location: Location) -> u32 {
        let list = core::mem::replace(self.list_mut(location), List::EMPTY);
        if let Location::Slot { level, slot } = location {
            self.levels[level as usize].occupied &= !(1 << slot);
        }
        list.head
    }

    /// The entry after `index` on its list (or its detached chain), or `NIL`.
    pub(crate) fn next<T>(entries: &Slab<Entry<T>>, index: u32) -> u32 {
        entries[index as usize].next
    }
}
