//! A bounded buffer for what waits for a server: it holds at most its
//! capacity, and when full a new item pushes the oldest out. Nothing goes
//! silently: every item pushed out is counted, and [`Queue::unsaid`] gives
//! the count since it was last asked, for a periodic report on stderr.

use std::collections::VecDeque;

/// A bounded buffer that drops the oldest when full.
#[derive(Debug, Clone)]
pub struct Queue<T> {
    items: VecDeque<T>,
    capacity: usize,
    dropped: u64,
    said: u64,
}

impl<T> Queue<T> {
    /// A buffer of at most `capacity` items (at least 1).
    pub fn new(capacity: usize) -> Queue<T> {
        let capacity = capacity.max(1);
        Queue { items: VecDeque::with_capacity(capacity.min(4096)), capacity, dropped: 0, said: 0 }
    }

    /// Adds an item at the back; when full, the oldest is dropped (and
    /// counted) first. Whether one was dropped.
    pub fn push(&mut self, item: T) -> bool {
        let full = self.items.len() >= self.capacity;
        if full {
            self.items.pop_front();
            self.dropped += 1;
        }
        self.items.push_back(item);
        full
    }

    /// How many wait.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether none wait.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether it is full: the next push drops the oldest.
    pub fn is_full(&self) -> bool {
        self.items.len() >= self.capacity
    }

    /// The most it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The items, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    /// Takes the oldest item out.
    pub fn pop(&mut self) -> Option<T> {
        self.items.pop_front()
    }

    /// Removes the `n` oldest items (delivered, or given up on by the
    /// caller, who counts them); fewer when fewer wait. How many went.
    pub fn remove_front(&mut self, n: usize) -> usize {
        let n = n.min(self.items.len());
        self.items.drain(..n);
        n
    }

    /// Items dropped because it was full, in all.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Items dropped since the last call, when any (to be said on stderr).
    pub fn unsaid(&mut self) -> Option<u64> {
        let new = self.dropped - self.said;
        self.said = self.dropped;
        (new > 0).then_some(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn drops_the_oldest_and_says_so_once() {
        let mut q = Queue::new(3);
        for i in 0..5 {
            q.push(i);
        }
        assert_eq!(q.iter().copied().collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!((q.dropped(), q.unsaid(), q.unsaid()), (2, Some(2), None));
        assert!(q.is_full());
        assert_eq!(q.remove_front(2), 2);
        assert_eq!(q.pop(), Some(4));
        assert!(q.is_empty());
        assert_eq!(Queue::<u8>::new(0).capacity(), 1);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push,
        Pop,
        Remove(usize),
        Say,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![6 => Just(Op::Push), 1 => Just(Op::Pop), 1 => (0usize..10).prop_map(Op::Remove), 1 => Just(Op::Say)]
    }

    proptest! {
        /// Against a model: the newest items are kept in order, never more than the
        /// capacity, and every item is either held, taken out, or counted dropped.
        #[test]
        fn bounded_ordered_and_counted(cap in 1usize..20, ops in proptest::collection::vec(op(), 0..300)) {
            let mut q = Queue::new(cap);
            let mut model: VecDeque<u64> = VecDeque::new();
            let (mut pushed, mut taken, mut said) = (0u64, 0u64, 0u64);
            for o in ops {
                match o {
                    Op::Push => {
                        let dropped = q.push(pushed);
                        model.push_back(pushed);
                        pushed += 1;
                        prop_assert_eq!(dropped, model.len() > cap);
                        if model.len() > cap {
                            model.pop_front();
                        }
                    }
                    Op::Pop => {
                        let got = q.pop();
                        prop_assert_eq!(got, model.pop_front());
                        taken += u64::from(got.is_some());
                    }
                    Op::Remove(n) => {
                        let n = q.remove_front(n);
                        model.drain(..n);
                        taken += n as u64;
                    }
                    Op::Say => said += q.unsaid().unwrap_or(0),
                }
                prop_assert!(q.len() <= cap);
                prop_assert_eq!(q.is_full(), q.len() == cap);
                prop_assert!(q.iter().copied().eq(model.iter().copied()));
                prop_assert_eq!(pushed, q.len() as u64 + taken + q.dropped());
            }
            said += q.unsaid().unwrap_or(0);
            prop_assert_eq!(said, q.dropped(), "every drop is said exactly once");
        }
    }
}
