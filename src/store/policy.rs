//! When to save a checkpoint: on a new best, every k rounds, at most every t clock units.

/// A write policy: decides, once per round (an epoch, a batch of online steps), whether to
/// save a checkpoint, so that flash wear follows the policy rather than the training rate.
///
/// A save is **due** on a new best (if `on_best`) or when `every_rounds` rounds have passed
/// since the last save (if non-zero); a due save is **allowed** when at least `min_interval`
/// clock units have passed since the last save (the clock is the caller's: milliseconds, RTC
/// seconds, step counts; no `std` time). A new best that comes while saves are not allowed
/// stays pending and is saved at the first allowed round. `min_interval` bounds the wear: at
/// most `86 400 / t` saves a day with `t` in seconds, whatever the other two do (see the
/// [store's wear formula](super#erases-and-wear)).
///
/// ```
/// use npoa::store::WritePolicy;
///
/// // Every 10 rounds or on a new best, but at most once a minute (clock in seconds).
/// let mut policy = WritePolicy::new(10, 60, true);
/// assert!(policy.should_save(0, true)); // first best: save
/// policy.saved(0);
/// assert!(!policy.should_save(5, true)); // a better model 5 s later: too soon, pending
/// assert!(policy.should_save(61, false)); // the pending best is saved at 61 s
/// policy.saved(61);
/// for t in 62..71 {
///     assert!(!policy.should_save(t, false)); // rounds 1..9 after the save
/// }
/// assert!(!policy.should_save(71, false)); // round 10, but only 10 s after the last save
/// assert!(policy.should_save(121, false)); // due and allowed
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WritePolicy {
    every_rounds: u32,
    min_interval: u64,
    on_best: bool,
    /// Rounds since the last save.
    rounds: u32,
    /// Clock value of the last save.
    last: Option<u64>,
    /// A new best not saved yet.
    pending_best: bool,
}

impl WritePolicy {
    /// A policy saving every `every_rounds` rounds (0: never by count), on a new best if
    /// `on_best`, and at most once per `min_interval` clock units (0: no limit).
    pub const fn new(every_rounds: u32, min_interval: u64, on_best: bool) -> Self {
        WritePolicy {
            every_rounds,
            min_interval,
            on_best,
            rounds: 0,
            last: None,
            pending_best: false,
        }
    }

    /// Counts one round at clock value `now` (`new_best`: this round's model is the best so
    /// far) and says whether to save now. Call [`WritePolicy::saved`] once the save succeeded;
    /// until then the save stays due.
    pub fn should_save(&mut self, now: u64, new_best: bool) -> bool {
        self.rounds = self.rounds.saturating_add(1);
        if new_best && self.on_best {
            self.pending_best = true;
        }
        let due = self.pending_best || (self.every_rounds != 0 && self.rounds >= self.every_rounds);
        // A clock that went backwards (a reset RTC) allows a save rather than blocking them.
        let allowed = match self.last {
            None => true,
            Some(last) => now < last || now - last >= self.min_interval,
        };
        due && allowed
    }

    /// Records a successful save at clock value `now`.
    pub fn saved(&mut self, now: u64) {
        self.rounds = 0;
        self.last = Some(now);
        self.pending_best = false;
    }
}
