//! The refinement Just-In-Time Paxos -> Log (`jit-paxos -> log-abstract`): what clients commit
//! is chosen.
//!
//! A commit is the primary's reply to a request that the view's whole quorum acknowledged with
//! one checksum (the replica's log after the request). So a commit decides more than its own
//! entry: the quorum agreed on the log up to the commit's index. The mapping sends every commit
//! `e` to the pairs `<<k, e.checksum[k]>>` for `k` in `1..e.index`, an entry being named by its
//! `(value, timestamp)`. Log's value for an entry is its timestamp, less one: the clients'
//! clock ticks once per request, so a timestamp names one request and so one value. The layer
//! checks that fact where the mapping relies on it, as the invariant
//! `CommittedTimestampsNameOneValue` (no two committed entries share a timestamp with different
//! values), so a disagreement in values alone cannot hide behind the naming.
//!
//! Commits only grow, and every commit's prefix extends what is chosen (prefixes, once
//! chosen, are a prefix `1..k` of the indices), so a step chooses nothing (a stutter) or a
//! block of new indices right after the chosen ones: Log's `Next` for that block. A commit
//! that disagrees with a chosen entry would need Log to choose a second value at an index,
//! which it cannot: the edge checks that commits agree.
//!
//! Log's bounds: a commit's timestamp is at most the number of client requests sent within the
//! constraint, `N / quorum size`, so Log has `N / quorum size` values; an index is
//! at most the longest log a commit can carry, bounded the same way (plus the entries a repair
//! repeats), and Log takes indices up to what its encoding holds. Bounds whose entries do not
//! fit Log's 8 values are refused with a [`ParamsError`].

use crate::state::committed_prefix;
use crate::{Action, Entry, JitPaxos, State};
use log_abstract::{Choose, Log, LogState};
use spec_core::{ParamsError, Refinement, StepMapping};

/// Just-In-Time Paxos -> Log by `chosen <- the committed prefixes`.
#[derive(Clone, Debug)]
pub struct CommitsAreChosen {
    lower: JitPaxos,
    upper: Log,
}

impl CommitsAreChosen {
    /// The mapping for this instance, or why its bounds do not fit Log's encoding.
    pub fn new(lower: JitPaxos) -> Result<Self, ParamsError> {
        let quorum_size = lower.replicas() / 2 + 1;
        let timestamps = (lower.max_message_count() / quorum_size).max(1);
        let values = timestamps;
        if values > 8 {
            let largest = 8 * quorum_size + quorum_size - 1;
            return Err(ParamsError::OutOfRange {
                layer: "jit-paxos -> log-abstract",
                bound: crate::MESSAGE_COUNT,
                value: lower.max_message_count(),
                min: 0,
                max: largest,
                why: "Log's values name the committed entries by their timestamps, N / quorum \
                      size of them, and Log names at most 8 values",
            });
        }
        // The longest index Log's 64-bit mask and its successor bound allow for these values.
        let max_index = (1..=64 / values)
            .take_while(|&n| {
                log_abstract::successors_of_empty_log(values, n)
                    <= log_abstract::MAX_SUCCESSORS_OF_ONE_STATE
            })
            .last()
            .unwrap_or(1);
        let upper = Log::new(values, max_index)?;
        Ok(CommitsAreChosen { lower, upper })
    }

    /// Log's value for an entry: its timestamp, less one (a timestamp names one request).
    pub fn value_of(&self, entry: Entry) -> usize {
        entry.timestamp as usize - 1
    }
}

impl Refinement for CommitsAreChosen {
    type Lower = JitPaxos;
    type Upper = Log;

    fn lower(&self) -> &JitPaxos {
        &self.lower
    }

    fn upper(&self) -> &Log {
        &self.upper
    }

    fn map_state(&self, state: &State) -> LogState {
        let mut chosen = LogState::empty(self.upper.values());
        for e in state.c_commits.iter().flatten() {
            for (k, entry) in committed_prefix(e) {
                chosen.choose(k, self.value_of(entry));
            }
        }
        chosen
    }

    /// A step that commits chooses the new indices of its prefix as one block.
    fn map_step(&self, state: &State, _: &Action, next: &State) -> StepMapping<Choose> {
        Log::step_between(&self.map_state(state), &self.map_state(next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_whose_entries_do_not_fit_log_are_refused() {
        let e = CommitsAreChosen::new(JitPaxos::new(3, 1, 18).unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "layer jit-paxos -> log-abstract: --max-message-count 18 is out of range 0..=17 (Log's \
             values name the committed entries by their timestamps, N / quorum size of them, \
             and Log names at most 8 values)"
        );
        let m = CommitsAreChosen::new(JitPaxos::new(3, 1, 12).unwrap()).unwrap();
        assert_eq!(m.upper().values(), 6);
        let two_values = CommitsAreChosen::new(JitPaxos::new(3, 2, 12).unwrap()).unwrap();
        assert_eq!(
            two_values.upper().values(),
            6,
            "values do not multiply Log's values"
        );
        assert_eq!(
            m.value_of(Entry {
                value: 0,
                timestamp: 2
            }),
            1
        );
    }
}
