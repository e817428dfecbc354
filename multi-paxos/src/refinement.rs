//! The refinement Multi-Paxos -> Log (`multi-paxos -> log-abstract`): the chosen slots, as a
//! prefix log.
//!
//! A command is *chosen* in a slot when a quorum of acceptors accepted it in one ballot
//! ([`State::is_chosen`]); acceptors never forget what they accepted, so chosen pairs only
//! accumulate. Log's `chosen` is the longest prefix of slots `1..k` that are all chosen, each
//! with its command ([`ChosenLog::prefix`]): a slot chosen after a gap is invisible to Log until
//! the gap is chosen too, and then Log chooses the whole block (the gap up to the end of the new
//! prefix) in one `Next` step: the block widening Log was given for Raft's commits serves
//! Multi-Paxos's out-of-order slots. Client command `ck` is Log's value `vk`; `noop` is the
//! value after the last command (`v3` with two commands).
//!
//! [`ChosenLog::every_slot`] keeps the gaps instead (Log's `chosen` may have holes: its `Next`
//! only asks that the block's own indices be unchosen); it holds too. The prefix is the
//! registered edge: it is what a replica can perform, and it shows the block step.
//!
//! [`ChosenLog::decided`] reads the replicas instead of the acceptors: the prefix of slots some
//! replica decided, with every command decided there.
//!
//! A step chooses nothing new in the prefix (a stutter), or extends it by a block. A second
//! command chosen in a slot of the prefix maps to a block over a chosen index, which Log's
//! `Next` refuses: the edge checks OneValuePerSlot at the log level.

use log_abstract::{Choose, Log, LogState};
use spec_core::{ParamsError, Refinement, StepMapping};

use crate::state::{State, Value, MAX_VALUES};
use crate::{Action, MultiPaxos};

/// How slots chosen after a gap map to Log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gaps {
    /// Only the longest all-chosen prefix of slots is Log's `chosen`.
    Prefix,
    /// Every chosen slot is in Log's `chosen`, gaps and all.
    EverySlot,
}

/// What counts as a slot's command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The command chosen there: accepted by a majority of acceptors in one ballot.
    Chosen,
    /// The commands replicas decided there (any replica's decision).
    Decided,
}

/// Multi-Paxos -> Log by the chosen (or decided) slots.
#[derive(Clone, Debug)]
pub struct ChosenLog {
    lower: MultiPaxos,
    upper: Log,
    gaps: Gaps,
    source: Source,
}

impl ChosenLog {
    /// The prefix mapping (the default edge).
    pub fn prefix(lower: MultiPaxos) -> Result<Self, ParamsError> {
        Self::new(lower, Gaps::Prefix)
    }

    /// The mapping that keeps gaps.
    pub fn every_slot(lower: MultiPaxos) -> Result<Self, ParamsError> {
        Self::new(lower, Gaps::EverySlot)
    }

    /// The prefix of slots some replica decided, with every command a replica decided there:
    /// the replicas' view instead of the acceptors'. It holds too (decisions are chosen), and
    /// it is the edge that sees a commander announcing what no majority accepted, once a
    /// replica decides another command in the same slot.
    pub fn decided(lower: MultiPaxos) -> Result<Self, ParamsError> {
        let mut mapping = Self::new(lower, Gaps::Prefix)?;
        mapping.source = Source::Decided;
        Ok(mapping)
    }

    /// The mapping for this instance: Log with one value per command plus `noop`, and indices
    /// `1..=slots`.
    pub fn new(lower: MultiPaxos, gaps: Gaps) -> Result<Self, ParamsError> {
        let upper = Log::new(lower.bounds().commands + 1, lower.bounds().slots)?;
        Ok(ChosenLog {
            lower,
            upper,
            gaps,
            source: Source::Chosen,
        })
    }

    /// Log's value (0-based) for a command.
    pub fn value_of(&self, v: Value) -> usize {
        if v == Value::NOOP {
            self.lower.bounds().commands
        } else {
            v.index()
        }
    }
}

impl Refinement for ChosenLog {
    type Lower = MultiPaxos;
    type Upper = Log;

    fn lower(&self) -> &MultiPaxos {
        &self.lower
    }

    fn upper(&self) -> &Log {
        &self.upper
    }

    fn map_state(&self, state: &State) -> LogState {
        let mut chosen = LogState::empty(self.upper.values());
        for slot in state.slot_numbers() {
            let values = match self.source {
                Source::Chosen => state.chosen_values(slot),
                Source::Decided => state
                    .leader_ids()
                    .map(|r| state.replica[r].decisions[slot as usize - 1])
                    .filter(|v| !v.is_none())
                    .fold(0, |mask, v| mask | 1 << v.index()),
            };
            if values == 0 && self.gaps == Gaps::Prefix {
                break;
            }
            for v in (0..MAX_VALUES).filter(|v| values & (1 << v) != 0) {
                chosen.choose(slot as usize, self.value_of(Value(v as u8 + 1)));
            }
        }
        chosen
    }

    /// A step that extends the chosen prefix chooses the new block.
    fn map_step(&self, state: &State, _: &Action, next: &State) -> StepMapping<Choose> {
        Log::step_between(&self.map_state(state), &self.map_state(next))
    }
}
