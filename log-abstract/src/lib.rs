//! # Log: the most abstract replicated log
//!
//! Port of `Log.tla` from will62794/raft-by-refinement (commit c738726, the final version of
//! 2020-01-20). A log is modelled as the set `chosen` of `(index, value)` pairs that have been
//! decided. A set rather than a sequence, so that the one property every log must keep can even
//! be stated: **ChosenSafety**, no two different values are ever chosen at the same index.
//!
//! The only action, `Next`, chooses a whole block of indices `i..j` at once, giving each a
//! value; every index of the block must be unchosen. Choosing a block rather than one index is
//! the widening the seed notes made so that lower levels which decide several entries in one
//! atomic step (a Raft commit of index `k` commits everything before it) still refine Log.
//!
//! ## Bounds
//!
//! | bound | TLA+ | meaning |
//! |---|---|---|
//! | `--values V` | `Value = {v1..vV}` | values that may be chosen |
//! | `--max-log-len N` | `Nat = {1..N}` | the index range `i, j` range over |
//!
//! The model overrides `Nat` with `1..N`, so `i > j` is possible: the block `i..j` is then
//! empty and `Next` is a stuttering step. TLC generates those steps and so do we, one per
//! `(i, j)` pair with `i > j`, so that generated counts agree with TLC.

pub mod committed;
pub use committed::{CommitHistory, CommittedAreChosen};

use serde::{Serialize, Serializer};
use spec_core::action_text::{self, ParseActionError};
use spec_core::itf::{self, Set, Tup};
use spec_core::itf::{ReadError, Record};
use spec_core::{
    Action, Bound, Invariant, Layer, Parameter, Params, ParamsError, Spec, StepMapping,
};
use std::fmt;
use std::str::FromStr;

/// Log at given bounds.
#[derive(Clone, Debug)]
pub struct Log {
    values: usize,
    max_index: usize,
}

/// A state of Log: the chosen `(index, value)` pairs, as a bitmask with bit
/// `(index - 1) * values + value`.
///
/// It has no `serde::Deserialize`: the bitmask's layout depends on the model's number of values,
/// which the `chosen` set does not say (a set with no pair, or none of value `v2`, is the same
/// JSON in a model of 2 values and of 3). [`Spec::read_state`] on a [`Log`] reads it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct LogState {
    chosen: u64,
    values: u8,
}

impl LogState {
    /// The empty log for `values` values.
    pub fn empty(values: usize) -> Self {
        LogState {
            chosen: 0,
            values: values as u8,
        }
    }

    fn bit(&self, index: usize, value: usize) -> u64 {
        1u64 << ((index - 1) * self.values as usize + value)
    }

    /// Whether `(index, value)` is chosen (index is 1-based, value 0-based).
    pub fn is_chosen(&self, index: usize, value: usize) -> bool {
        self.chosen & self.bit(index, value) != 0
    }

    /// Whether some value is chosen at `index`.
    pub fn index_chosen(&self, index: usize) -> bool {
        (0..self.values as usize).any(|v| self.is_chosen(index, v))
    }

    /// Adds `(index, value)` to the chosen set.
    pub fn choose(&mut self, index: usize, value: usize) {
        self.chosen |= self.bit(index, value);
    }

    /// The chosen pairs, ordered by index then value.
    pub fn pairs(&self) -> Vec<(usize, usize)> {
        let v = self.values as usize;
        (0..64)
            .filter(|b| self.chosen & (1u64 << b) != 0)
            .map(|b| (b / v + 1, b % v))
            .collect()
    }
}

spec_core::impl_pack!(LogState { chosen, values });

impl Serialize for LogState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Vars {
            chosen: Set<Tup<mixed::Elem>>,
        }
        let chosen = Set(self
            .pairs()
            .into_iter()
            .map(|(i, v)| {
                Tup(vec![
                    mixed::Elem::Int(i),
                    mixed::Elem::Name(itf::value_name(v)),
                ])
            })
            .collect());
        Vars { chosen }.serialize(serializer)
    }
}

/// Elements of the `<<index, value>>` tuples, which mix an integer and a name.
mod mixed {
    use serde::{Serialize, Serializer};

    /// An integer or a name.
    pub enum Elem {
        Int(usize),
        Name(String),
    }

    impl Serialize for Elem {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            match self {
                Elem::Int(i) => serializer.serialize_u64(*i as u64),
                Elem::Name(n) => serializer.serialize_str(n),
            }
        }
    }
}

/// Log's one action: choose values `values[k]` for the indices `first + k` of the block
/// `first..=last` (empty, a stutter, when `first > last`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Choose {
    /// The first index of the block (TLA+'s `i`).
    pub first: u8,
    /// The last index of the block (TLA+'s `j`).
    pub last: u8,
    /// The value chosen at each index of the block, 0-based.
    pub values: Vec<u8>,
}

impl fmt::Display for Choose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let block: Vec<String> = self
            .values
            .iter()
            .enumerate()
            .map(|(k, v)| {
                format!(
                    "{} :> {}",
                    self.first as usize + k,
                    itf::value_name(*v as usize)
                )
            })
            .collect();
        write!(
            f,
            "Next({}..{}, [{}])",
            self.first,
            self.last,
            block.join(", ")
        )
    }
}

/// Reads the text [`Choose`]'s `Display` writes: `Next(1..2, [1 :> v1, 2 :> v2])`, or
/// `Next(3..2, [])` for an empty block. The function's keys must be the block's indices in
/// order.
impl FromStr for Choose {
    type Err = ParseActionError;

    fn from_str(text: &str) -> Result<Choose, ParseActionError> {
        action_text::parse(text, |name, args| match (name, args) {
            ("Next", [block, function]) => {
                let (first, last) = block
                    .split_once("..")
                    .ok_or_else(|| format!("{block} is not a block i..j"))?;
                let index = |t: &str| -> Result<u8, String> {
                    u8::try_from(action_text::natural(t.trim())?)
                        .map_err(|_| format!("{t} is past the largest index 255"))
                };
                let (first, last) = (index(first)?, index(last)?);
                let body = function
                    .strip_prefix('[')
                    .and_then(|f| f.strip_suffix(']'))
                    .ok_or_else(|| format!("{function} is not a function [i :> v, ...]"))?;
                let mut values = Vec::new();
                for (k, pair) in action_text::split_top_level(body)?.into_iter().enumerate() {
                    let (key, value) = pair
                        .split_once(":>")
                        .ok_or_else(|| format!("{pair} is not a pair i :> v"))?;
                    if first as usize + k != index(key)? as usize {
                        return Err(format!(
                            "the function's keys must be the block's indices {first}, {}, ... in order",
                            first as usize + 1
                        ));
                    }
                    let v = action_text::value(value.trim())?;
                    values.push(u8::try_from(v).map_err(|_| format!("{value} is past v256"))?);
                }
                Ok(Choose {
                    first,
                    last,
                    values,
                })
            }
            _ => Err(action_text::unknown(
                name,
                args,
                &["Next(i..j, [i :> v, ...])"],
            )),
        })
    }
}

impl Action for Choose {
    fn name(&self) -> &'static str {
        "Next"
    }
}

impl Log {
    /// Log with `values` values and indices `1..=max_index`.
    pub fn new(values: usize, max_index: usize) -> Result<Self, ParamsError> {
        let p = Params {
            values: Some(values),
            max_log_len: Some(max_index),
            ..Params::default()
        };
        Self::from_params(&p)
    }

    /// The number of values.
    pub fn values(&self) -> usize {
        self.values
    }

    /// The largest index.
    pub fn max_index(&self) -> usize {
        self.max_index
    }

    /// The state with exactly these chosen `(index, value)` pairs.
    pub fn state_with(&self, pairs: impl IntoIterator<Item = (usize, usize)>) -> LogState {
        let mut s = LogState::empty(self.values);
        for (i, v) in pairs {
            s.choose(i, v);
        }
        s
    }

    /// How a lower step that can only add chosen pairs (a Raft commit, say) maps to Log: a
    /// stutter if it adds none, else `Next` for the block of indices it adds, with their values.
    /// When the lower step chose a second value at a chosen index, the block overlaps chosen
    /// indices, so that `Next` is not enabled and the refinement check reports the step.
    pub fn step_between(before: &LogState, after: &LogState) -> StepMapping<Choose> {
        if before == after {
            return StepMapping::Stutter;
        }
        let added: Vec<(usize, usize)> = after
            .pairs()
            .into_iter()
            .filter(|&(i, v)| !before.is_chosen(i, v))
            .collect();
        match (added.first(), added.last()) {
            (Some(&(first, _)), Some(&(last, _))) => StepMapping::Step(Choose {
                first: first as u8,
                last: last as u8,
                values: added.iter().map(|&(_, v)| v as u8).collect(),
            }),
            _ => StepMapping::Search,
        }
    }

    /// The guard of `Next` for the block `first..=last`: no index of the block is chosen yet,
    /// one conjunct per index, `~\E e \in chosen : e[1] = k`. With `why`, every false conjunct
    /// is described there; without, the first false one ends the evaluation (the successor
    /// function's use).
    pub fn block_unchosen(
        state: &LogState,
        first: u8,
        last: u8,
        mut why: Option<&mut Vec<String>>,
    ) -> bool {
        let mut unchosen = true;
        for k in first..=last {
            if state.index_chosen(k as usize) {
                unchosen = false;
                match why.as_deref_mut() {
                    Some(why) => why.push(format!("~\\E e \\in chosen : e[1] = {k}")),
                    None => return false,
                }
            }
        }
        unchosen
    }

    /// `Next` for the block `first..=last` with the given values: enabled iff no index of the
    /// block is chosen yet ([`Log::block_unchosen`]).
    pub fn next(&self, state: &LogState, action: &Choose) -> Option<LogState> {
        if !Self::block_unchosen(state, action.first, action.last, None) {
            return None;
        }
        let mut next = *state;
        for (k, v) in action.values.iter().enumerate() {
            next.choose(action.first as usize + k, *v as usize);
        }
        Some(next)
    }
}

fn chosen_safety(_: &Log, s: &LogState) -> bool {
    let pairs = s.pairs();
    pairs.windows(2).all(|w| w[0].0 != w[1].0)
}

impl Spec for Log {
    type State = LogState;
    type Action = Choose;

    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> Params {
        Params {
            values: Some(self.values),
            max_log_len: Some(self.max_index),
            ..Params::default()
        }
    }

    fn action_names(&self) -> &'static [&'static str] {
        &["Next"]
    }

    fn init_states(&self) -> Vec<LogState> {
        vec![LogState::empty(self.values)]
    }

    fn next_states(&self, state: &LogState, out: &mut Vec<(Choose, LogState)>) {
        let n = self.max_index as u8;
        for first in 1..=n {
            for last in 1..=n {
                if first > last {
                    // The block is empty: one function from the empty set, a stutter.
                    let action = Choose {
                        first,
                        last,
                        values: Vec::new(),
                    };
                    out.push((action, *state));
                    continue;
                }
                if !Self::block_unchosen(state, first, last, None) {
                    continue;
                }
                let len = (last - first + 1) as u32;
                let combos = (self.values as u64).pow(len);
                for code in 0..combos {
                    let mut rest = code;
                    let mut values = Vec::with_capacity(len as usize);
                    let mut next = *state;
                    for k in 0..len as usize {
                        let v = (rest % self.values as u64) as usize;
                        rest /= self.values as u64;
                        values.push(v as u8);
                        next.choose(first as usize + k, v);
                    }
                    out.push((
                        Choose {
                            first,
                            last,
                            values,
                        },
                        next,
                    ));
                }
            }
        }
    }

    /// [`Log::next`], after the binding's own conditions: both ends in `1..MaxLogLen`, one value
    /// per index of the block, each value one of the model's.
    fn step(&self, state: &LogState, action: &Choose) -> Option<LogState> {
        let n = self.max_index;
        let in_range = |end: u8| (1..=n).contains(&(end as usize));
        let len = (action.last as usize + 1).saturating_sub(action.first as usize);
        let bound = in_range(action.first)
            && in_range(action.last)
            && action.values.len() == len
            && action.values.iter().all(|&v| (v as usize) < self.values);
        if bound {
            self.next(state, action)
        } else {
            None
        }
    }

    /// `chosen`: a set of `<<index, value>>` tuples, indices in `1..MaxLogLen`, values among the
    /// model's.
    fn read_state(&self, value: &itf::Value) -> Result<LogState, ReadError> {
        let vars = Record::new(value, &["chosen"])?;
        vars.var("chosen", |v| {
            let mut state = LogState::empty(self.values);
            for pair in itf::set(v)? {
                let pair = itf::tup_of(pair, 2)?;
                let index = itf::int(&pair[0])?;
                if !(1..=self.max_index as i64).contains(&index) {
                    return Err(format!(
                        "index {index} is outside this model's indices 1..{}",
                        self.max_index
                    ));
                }
                let value = itf::value(&pair[1])?;
                if value >= self.values {
                    return Err(format!(
                        "{} is not a value of this {}-value model",
                        itf::value_name(value),
                        self.values
                    ));
                }
                state.choose(index as usize, value);
            }
            Ok(state)
        })
    }

    /// The indices of the block that are already chosen ([`Log::block_unchosen`]), after the
    /// binding's own conditions when the action lies outside `\E i, j \in Nat : \E f \in
    /// [i..j -> Value]` (the model's `Nat` is `1..MaxLogLen`).
    fn disabled_because(&self, state: &LogState, action: &Choose) -> Vec<String> {
        let mut why = Vec::new();
        let n = self.max_index;
        for end in [action.first, action.last] {
            if !(1..=n).contains(&(end as usize)) {
                why.push(format!("{end} \\in 1..{n}"));
            }
        }
        let len = (action.last as usize + 1).saturating_sub(action.first as usize);
        if action.values.len() != len {
            why.push(format!(
                "DOMAIN f = {}..{} (f has {} values)",
                action.first,
                action.last,
                action.values.len()
            ));
        }
        for v in action.values.iter().filter(|&&v| v as usize >= self.values) {
            why.push(format!("{} \\in Value", itf::value_name(*v as usize)));
        }
        Self::block_unchosen(state, action.first, action.last, Some(&mut why));
        why
    }

    fn invariants(&self) -> Vec<Invariant<Self>> {
        vec![Invariant {
            name: "ChosenSafety",
            holds: chosen_safety,
        }]
    }
}

impl Layer for Log {
    const NAME: &'static str = "log-abstract";
    const DESCRIPTION: &'static str = "Log";
    /// `--max-log-len` is declared with its range at one value (64 indices); more values
    /// narrow it (see [`successors_of_empty_log`]).
    const PARAMETERS: &'static [Parameter] = &[
        Parameter::new(Bound::Values, 2, (1, 8), "values are named v1..v8"),
        Parameter::new(
            Bound::MaxLogLen,
            3,
            (1, 64),
            "the chosen set is a 64-bit mask of (index, value) pairs, so indices times values \
             is at most 64; and one state has at most 2^22 successors, since Next chooses every \
             block of indices at once with every assignment of values",
        ),
    ];

    fn from_params(params: &Params) -> Result<Self, ParamsError> {
        params.only_declared(Self::NAME, Self::PARAMETERS)?;
        let [values_declared, max_index_declared] = Self::PARAMETERS else {
            unreachable!("two parameters are declared")
        };
        let values = params.value_of(Self::NAME, values_declared)?;
        // Next chooses a whole block of indices at once, so one state has exponentially many
        // successors: bounds whose successors of a single state would not fit in memory are
        // refused (a search cannot stop in the middle of generating them).
        let largest = (1..=64 / values)
            .take_while(|&n| successors_of_empty_log(values, n) <= MAX_SUCCESSORS_OF_ONE_STATE)
            .last()
            .unwrap_or(1);
        let max_index = params.value_of(Self::NAME, &max_index_declared.with_max(largest))?;
        Ok(Log { values, max_index })
    }
}

/// The most successors one state may have: each is generated before any is checked, so they
/// must fit in memory together (about 80 bytes each, so at most about 320 MiB).
pub const MAX_SUCCESSORS_OF_ONE_STATE: u128 = 1 << 22;

/// How many successors the empty log has (the most of any state): one stutter per empty block
/// `first > last`, and `values^len` assignments per block of `len` indices.
pub fn successors_of_empty_log(values: usize, max_index: usize) -> u128 {
    let n = max_index as u128;
    let stutters = n * n.saturating_sub(1) / 2;
    (1..=max_index as u32).fold(stutters, |total, len| {
        let blocks = n - len as u128 + 1;
        let assignments = (values as u128).saturating_pow(len);
        total.saturating_add(blocks.saturating_mul(assignments))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_block_is_a_stutter_and_blocks_need_unchosen_indices() {
        let log = Log::new(2, 2).unwrap();
        let mut succ = Vec::new();
        log.next_states(&LogState::empty(2), &mut succ);
        // (1,1): 2 values, (1,2): 4, (2,1): stutter, (2,2): 2.
        assert_eq!(succ.len(), 9);
        let s = log.state_with([(1, 0)]);
        succ.clear();
        log.next_states(&s, &mut succ);
        // Only (2,2) with 2 values, plus the stutter (2,1).
        assert_eq!(succ.len(), 3);
    }

    /// The reference check of `disabled_because`: in every reachable state (2 values, 3
    /// indices), for every block and every function from it to the values, it names no
    /// conjunct exactly when the action is one of `next_states`.
    #[test]
    fn a_chosen_index_is_named_exactly_when_a_block_is_not_enabled() {
        let log = Log::new(2, 3).unwrap();
        let mut bindings = Vec::new();
        for first in 1..=3u8 {
            for last in 1..=3u8 {
                let len = (last + 1).saturating_sub(first) as u32;
                for code in 0..2u32.pow(len) {
                    let values = (0..len).map(|k| (code >> k & 1) as u8).collect();
                    bindings.push(Choose {
                        first,
                        last,
                        values,
                    });
                }
            }
        }
        let mut states = log.init_states();
        let mut k = 0;
        while k < states.len() {
            let s = states[k];
            let mut next = Vec::new();
            log.next_states(&s, &mut next);
            for a in &bindings {
                let why = log.disabled_because(&s, a);
                let enabled = next.iter().any(|(b, _)| b == a);
                assert_eq!(why.is_empty(), enabled, "{a} in {s:?}: {why:?}");
            }
            for (_, t) in next {
                if !states.contains(&t) {
                    states.push(t);
                }
            }
            k += 1;
        }
        assert_eq!(states.len(), 27);
        let s = log.state_with([(2, 0)]);
        let block = Choose {
            first: 1,
            last: 2,
            values: vec![1, 4],
        };
        assert_eq!(
            log.disabled_because(&s, &block),
            [r"v5 \in Value", r"~\E e \in chosen : e[1] = 2"]
        );
    }

    #[test]
    fn bounds_whose_successors_cannot_fit_in_memory_are_refused() {
        // The count agrees with the enumeration.
        for (values, n) in [(1, 4), (2, 3), (3, 4)] {
            let log = Log::new(values, n).unwrap();
            let mut succ = Vec::new();
            log.next_states(&LogState::empty(values), &mut succ);
            assert_eq!(succ.len() as u128, successors_of_empty_log(values, n));
        }
        assert_eq!(successors_of_empty_log(2, 2), 9);
        let e = Log::new(2, 32).unwrap_err().to_string();
        assert!(e.contains("--max-log-len 32 is out of range 1..=19"), "{e}");
        assert!(successors_of_empty_log(2, 19) <= MAX_SUCCESSORS_OF_ONE_STATE);
        assert!(successors_of_empty_log(2, 20) > MAX_SUCCESSORS_OF_ONE_STATE);
        // The declared range is the one of a single value: the whole 64-bit mask.
        assert_eq!(Log::PARAMETERS[1].max, 64);
        assert!(successors_of_empty_log(1, 64) <= MAX_SUCCESSORS_OF_ONE_STATE);
        assert_eq!(Log::new(1, 64).unwrap().max_index(), 64);
        assert!(Log::new(2, 19).is_ok());
        assert!(Log::new(1, 64).is_ok());
    }

    /// Every `Next` binding of a model of `values` values and `n` indices, and some just outside
    /// it: ends in `0..=n + 1`, functions of one value too few, the right number and one too
    /// many, with values `0..=values` (the last one outside the model).
    fn candidate_actions(values: u8, n: u8) -> Vec<Choose> {
        let mut all = Vec::new();
        for first in 0..=n + 1 {
            for last in 0..=n + 1 {
                let len = (last as usize + 1).saturating_sub(first as usize);
                for count in len.saturating_sub(1)..=len + 1 {
                    let choices = (values as usize + 1).pow(count as u32);
                    for code in 0..choices {
                        let values = (0..count)
                            .map(|k| {
                                (code / (values as usize + 1).pow(k as u32) % (values as usize + 1))
                                    as u8
                            })
                            .collect();
                        all.push(Choose {
                            first,
                            last,
                            values,
                        });
                    }
                }
            }
        }
        all
    }

    /// `step`'s override is `step_by_successors` on every reachable state of a small model
    /// (2 values, 3 indices: 27 states) for every binding, in the model and out of it.
    #[test]
    fn step_is_the_successor_next_states_pairs_with_the_action() {
        let log = Log::new(2, 3).unwrap();
        let states = spec_core::reachable_states(&log, usize::MAX);
        assert_eq!(states.len(), 27);
        let actions = candidate_actions(2, 3);
        let (mut enabled, mut succ) = (0, Vec::new());
        for s in &states {
            succ.clear();
            log.next_states(s, &mut succ);
            for a in &actions {
                let expected = succ.iter().find(|(b, _)| b == a).map(|(_, t)| *t);
                assert_eq!(log.step(s, a), expected, "{a} in {s:?}");
                assert_eq!(spec_core::step_by_successors(&log, s, a), expected);
                enabled += expected.is_some() as usize;
            }
        }
        // Every generated successor is one (state, binding) pair.
        let generated: usize = states
            .iter()
            .map(|s| {
                succ.clear();
                log.next_states(s, &mut succ);
                succ.len()
            })
            .sum();
        assert_eq!(enabled, generated);
        let empty = log.init_states()[0];
        let outside = Choose {
            first: 4,
            last: 4,
            values: vec![0],
        };
        assert_eq!(log.step(&empty, &outside), None);
    }

    #[test]
    fn actions_print_and_parse_back() {
        let log = Log::new(2, 3).unwrap();
        let mut count = 0;
        for s in spec_core::reachable_states(&log, usize::MAX) {
            let mut succ = Vec::new();
            log.next_states(&s, &mut succ);
            for (a, _) in succ {
                assert_eq!(a.to_string().parse::<Choose>(), Ok(a.clone()), "{a}");
                count += 1;
            }
        }
        assert_eq!(count, 167);
        let err = |text: &str| text.parse::<Choose>().unwrap_err().to_string();
        assert_eq!(
            err("Next(1..2, [2 :> v1])"),
            "cannot read action `Next(1..2, [2 :> v1])`: the function's keys must be the block's indices 1, 2, ... in order"
        );
        assert_eq!(
            err("Choose(1)"),
            "cannot read action `Choose(1)`: no action Choose; the actions are: Next(i..j, [i :> v, ...])"
        );
        assert_eq!(
            err("Next(1, [])"),
            "cannot read action `Next(1, [])`: 1 is not a block i..j"
        );
    }

    #[test]
    fn states_read_back_from_their_itf() {
        let log = Log::new(2, 3).unwrap();
        let states = spec_core::reachable_states(&log, usize::MAX);
        for s in &states {
            let json = serde_json::to_value(s).unwrap();
            assert_eq!(log.read_state(&json), Ok(*s), "{json}");
        }
        let read = |text: &str| {
            log.read_state(&serde_json::from_str(text).unwrap())
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            read(r##"{"chosen": {"#set": [{"#tup": [{"#bigint": "2"}, "v2"]}]}}"##),
            Ok(log.state_with([(2, 1)]))
        );
        assert_eq!(
            read(r##"{"chosen": {"#set": [{"#tup": [4, "v1"]}]}}"##),
            Err("variable chosen: index 4 is outside this model's indices 1..3".into())
        );
        assert_eq!(
            read(r##"{"chosen": {"#set": [{"#tup": [1, "v3"]}]}}"##),
            Err("variable chosen: v3 is not a value of this 2-value model".into())
        );
        assert_eq!(
            read(r##"{"chosen": [[1, "v1"]]}"##),
            Err(r##"variable chosen: expected a set {"#set": [...]}, found [[1,"v1"]]"##.into())
        );
        assert_eq!(
            read(r##"{"chosen": {"#set": []}, "extra": 1}"##),
            Err("the variables are chosen; unknown: extra".into())
        );
    }

    #[test]
    fn bounds_are_validated() {
        assert!(Log::new(8, 9).is_err());
        let err = Log::from_params(&Params {
            servers: Some(3),
            ..Params::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("--values --max-log-len"), "{err}");
    }
}
