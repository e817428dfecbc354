//! # DistLog: a log distributed over servers
//!
//! Port of `DistLog.tla` and `DistLogMC.tla` from will62794/raft-by-refinement (commit
//! c738726). Every server keeps its own log, a sequence of values. An index is **chosen** when
//! every server holds the same value there (the spec's `Choosers` is the single group of all
//! servers); a chosen entry may never be removed or contradicted. There is no message passing:
//! actions read the whole state atomically.
//!
//! | action | guard | effect |
//! |---|---|---|
//! | `WriteNewEntry(s, v)` | no value is chosen at `Len(log[s]) + 1` | append `v` to `log[s]` |
//! | `AppendEntry(s, t)` | `log[t]` is longer than `log[s]` | append `log[t]`'s next entry to `log[s]` |
//! | `RemoveEntry(s)` | no value is chosen at `Len(log[s])` | drop the last entry of `log[s]` |
//!
//! `RemoveEntry` on an empty log is enabled (nothing is chosen at index 0) and changes nothing:
//! a stuttering step, which TLC generates and so do we.
//!
//! ## Refinement: DistLog -> Log
//!
//! [`ChosenMapping`] maps a DistLog state to the Log state whose `chosen` set is
//! `AllChosen`, the pairs `(i, v)` such that every server has `v` at index `i`. A DistLog step
//! chooses at most one new index, so it maps to a stutter or to Log's `Next` for a one-index
//! block. The upper Log's index range is `MaxLogLen + 1`, so that steps into states just outside
//! the state constraint (which the checker generates and checks) are mapped faithfully too.
//!
//! ## Bounds
//!
//! `--servers` (default 3), `--values` (default 3), `--max-log-len` (default 3): the
//! `DistLogMC.cfg` model. The state constraint keeps every log at most `MaxLogLen` long.

pub mod copy;

use log_abstract::{Choose, Log, LogState};
use serde::{Serialize, Serializer};
use spec_core::action_text::{self, ParseActionError};
use spec_core::itf::{self, Map, ReadError, Record};
use spec_core::Server;
use spec_core::{
    permutations, Action, Bound, Invariant, Layer, Parameter, Params, ParamsError, Refinement, Seq,
    Spec, StepMapping,
};
use std::fmt;
use std::str::FromStr;

/// The most servers this encoding holds.
pub const MAX_SERVERS: usize = 8;
/// The longest log this encoding holds: `MaxLogLen + 1`, for successors outside the constraint.
pub const LOG_CAPACITY: usize = 15;

/// One server's log: values `0..V` (named v1..vV).
pub type ServerLog = Seq<LOG_CAPACITY>;

/// DistLog at given bounds.
#[derive(Clone, Debug)]
pub struct DistLog {
    servers: usize,
    values: usize,
    max_log_len: usize,
    mutation: Option<Mutation>,
}

spec_core::mutations! {
    /// A deliberate bug, for teaching and for testing that the checker catches it (none is in
    /// force unless [`DistLog::with_mutation`] is called).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Mutation {
        /// `RemoveEntry` without its guard: a chosen entry may be removed. (WriteNewEntry's guard
        /// cannot be broken the same way: an index is chosen only when every log reaches it, so
        /// the next free index of a log is never chosen and that guard is always true.)
        RemoveChosen = "remove-chosen" =>
            "RemoveEntry drops its guard, so a chosen entry can be removed",
        /// The state constraint (`MaxLogLen`) dropped: the model is unbounded, logs grow until
        /// one outgrows the state encoding (`LOG_CAPACITY` entries), and the successor function
        /// panics there. The checker reports the panic with the shortest trace to that log,
        /// instead of hanging or crashing without one.
        NoStateConstraint = "no-state-constraint" =>
            "the MaxLogLen constraint is dropped: logs outgrow the state encoding and the \
             successor function panics",
    }
}

/// A state of DistLog: `log[s]` for each server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct DistLogState {
    /// The logs of servers `0..n`; the slots past `n` stay empty.
    pub log: [ServerLog; MAX_SERVERS],
    servers: u8,
}

impl DistLogState {
    /// The servers' logs.
    pub fn logs(&self) -> &[ServerLog] {
        &self.log[..self.servers as usize]
    }
}

spec_core::impl_pack!(DistLogState { log, servers });

impl DistLogState {
    /// Reads a state of a model of `servers` servers and `values` values back from the ITF
    /// JSON `Serialize` writes: `log`, one sequence of value names per server.
    pub fn read_itf(
        value: &itf::Value,
        servers: usize,
        values: usize,
    ) -> Result<DistLogState, ReadError> {
        if servers > MAX_SERVERS {
            return Err(ReadError::state(format!(
                "{servers} servers are more than the {MAX_SERVERS} the encoding holds"
            )));
        }
        let vars = Record::new(value, &["log"])?;
        let logs = vars.var("log", |v| {
            itf::each_server(&itf::per_server(v, Some(servers))?, |log| {
                let entries = itf::each(itf::seq(log)?, |entry| {
                    let value = itf::value(entry)?;
                    if value < values {
                        Ok(value as u8)
                    } else {
                        Err(format!(
                            "{} is not a value of this {values}-value model",
                            itf::value_name(value)
                        ))
                    }
                })?;
                if entries.len() > LOG_CAPACITY {
                    return Err(format!(
                        "a log of {} entries is longer than the {LOG_CAPACITY} the encoding holds",
                        entries.len()
                    ));
                }
                Ok(ServerLog::from_slice(&entries))
            })
        })?;
        let mut state = DistLogState {
            servers: servers as u8,
            ..DistLogState::default()
        };
        state.log[..servers].copy_from_slice(&logs);
        Ok(state)
    }
}

/// Reads what `Serialize` writes, the number of servers taken from `log` and any value
/// `v1..v256` accepted ([`DistLogState::read_itf`]; `Spec::read_state` checks both against a
/// model's).
impl<'de> serde::Deserialize<'de> for DistLogState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        itf::deserialize_with(deserializer, |v| {
            DistLogState::read_itf(v, itf::servers_of(v, "log")?, 256)
        })
    }
}

impl Serialize for DistLogState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Vars {
            log: Map<String, Vec<String>>,
        }
        let log = Map(self
            .logs()
            .iter()
            .enumerate()
            .map(|(s, l)| {
                let entries = l
                    .as_slice()
                    .iter()
                    .map(|v| itf::value_name(*v as usize))
                    .collect();
                (itf::server_name(s), entries)
            })
            .collect());
        Vars { log }.serialize(serializer)
    }
}

/// A step of DistLog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DistLogAction {
    /// Server `s` appends value `v`.
    WriteNewEntry {
        /// The server.
        s: Server,
        /// The value.
        v: u8,
    },
    /// Server `s` copies the next entry of server `t`'s longer log.
    AppendEntry {
        /// The server that appends.
        s: Server,
        /// The server copied from.
        t: Server,
    },
    /// Server `s` removes its last entry.
    RemoveEntry {
        /// The server.
        s: Server,
    },
}

impl fmt::Display for DistLogAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = |s: u8| itf::server_name(s as usize);
        match *self {
            DistLogAction::WriteNewEntry { s, v } => {
                write!(
                    f,
                    "WriteNewEntry({}, {})",
                    n(s),
                    itf::value_name(v as usize)
                )
            }
            DistLogAction::AppendEntry { s, t } => write!(f, "AppendEntry({}, {})", n(s), n(t)),
            DistLogAction::RemoveEntry { s } => write!(f, "RemoveEntry({})", n(s)),
        }
    }
}

/// Reads the text `Display` writes: `WriteNewEntry(n1, v2)`, `AppendEntry(n2, n1)`,
/// `RemoveEntry(n3)`.
impl FromStr for DistLogAction {
    type Err = ParseActionError;

    fn from_str(text: &str) -> Result<DistLogAction, ParseActionError> {
        fn byte(k: usize, what: &str) -> Result<u8, String> {
            u8::try_from(k).map_err(|_| format!("{what} {} is past 256", k + 1))
        }
        let server = action_text::server;
        action_text::parse(text, |name, args| match (name, args) {
            ("WriteNewEntry", [s, v]) => Ok(DistLogAction::WriteNewEntry {
                s: server(s)?,
                v: byte(action_text::value(v)?, "value")?,
            }),
            ("AppendEntry", [s, t]) => Ok(DistLogAction::AppendEntry {
                s: server(s)?,
                t: server(t)?,
            }),
            ("RemoveEntry", [s]) => Ok(DistLogAction::RemoveEntry { s: server(s)? }),
            _ => Err(action_text::unknown(
                name,
                args,
                &["WriteNewEntry(s, v)", "AppendEntry(s, t)", "RemoveEntry(s)"],
            )),
        })
    }
}

impl Action for DistLogAction {
    fn name(&self) -> &'static str {
        match self {
            DistLogAction::WriteNewEntry { .. } => "WriteNewEntry",
            DistLogAction::AppendEntry { .. } => "AppendEntry",
            DistLogAction::RemoveEntry { .. } => "RemoveEntry",
        }
    }
}

impl DistLog {
    /// DistLog with this many servers, values and maximum log length.
    pub fn new(servers: usize, values: usize, max_log_len: usize) -> Result<Self, ParamsError> {
        Self::from_params(&Params {
            servers: Some(servers),
            values: Some(values),
            max_log_len: Some(max_log_len),
            ..Params::default()
        })
    }

    /// The same specification with a deliberate bug.
    #[must_use = "with_mutation returns the mutated specification"]
    pub fn with_mutation(mut self, mutation: Mutation) -> Self {
        self.mutation = Some(mutation);
        self
    }

    /// The number of servers.
    pub fn servers(&self) -> usize {
        self.servers
    }

    /// The number of values.
    pub fn values(&self) -> usize {
        self.values
    }

    /// The maximum log length of the state constraint.
    pub fn max_log_len(&self) -> usize {
        self.max_log_len
    }

    /// The state with these logs.
    pub fn state_with(&self, logs: &[&[u8]]) -> DistLogState {
        let mut s = DistLogState {
            servers: self.servers as u8,
            ..DistLogState::default()
        };
        for (i, l) in logs.iter().enumerate() {
            s.log[i] = ServerLog::from_slice(l);
        }
        s
    }

    /// `ChosenAt(index, v)`: every server has value `v` at `index`.
    pub fn chosen_at(&self, state: &DistLogState, index: usize, v: u8) -> bool {
        state.logs().iter().all(|l| l.at(index) == Some(v))
    }

    /// `\E c \in Value : ChosenAt(index, c)`.
    pub fn some_chosen_at(&self, state: &DistLogState, index: usize) -> bool {
        match state.logs().first().and_then(|l| l.at(index)) {
            Some(v) => self.chosen_at(state, index, v),
            None => false,
        }
    }

    /// WriteNewEntry(s, v): append any value at an index where nothing is chosen yet.
    pub fn write_new_entry(&self, state: &DistLogState, s: usize, v: u8) -> Option<DistLogState> {
        if self.some_chosen_at(state, state.log[s].len() + 1) {
            return None;
        }
        let mut next = *state;
        next.log[s].push(v);
        Some(next)
    }

    /// AppendEntry(s, t): copy the next entry of a longer log.
    pub fn append_entry(&self, state: &DistLogState, s: usize, t: usize) -> Option<DistLogState> {
        let (mine, theirs) = (&state.log[s], &state.log[t]);
        if theirs.len() <= mine.len() {
            return None;
        }
        let entry = theirs.at(mine.len() + 1)?;
        let mut next = *state;
        next.log[s].push(entry);
        Some(next)
    }

    /// RemoveEntry(s): drop the last entry unless it is chosen. On an empty log this is a
    /// stutter (the spec's `SubSeq(<<>>, 1, -1)` is empty).
    pub fn remove_entry(&self, state: &DistLogState, s: usize) -> Option<DistLogState> {
        let guard = !self.some_chosen_at(state, state.log[s].len());
        if !guard && self.mutation != Some(Mutation::RemoveChosen) {
            return None;
        }
        let mut next = *state;
        next.log[s].pop();
        Some(next)
    }

    /// `AllChosen` as a Log state over indices `1..=max_index`.
    pub fn all_chosen(&self, state: &DistLogState, max_index: usize) -> LogState {
        let mut chosen = LogState::empty(self.values);
        for index in 1..=max_index {
            for v in 0..self.values as u8 {
                if self.chosen_at(state, index, v) {
                    chosen.choose(index, v as usize);
                }
            }
        }
        chosen
    }
}

fn chosen_safety(m: &DistLog, s: &DistLogState) -> bool {
    (1..=LOG_CAPACITY).all(|i| {
        (0..m.values as u8)
            .filter(|v| m.chosen_at(s, i, *v))
            .count()
            <= 1
    })
}

impl Spec for DistLog {
    type State = DistLogState;
    type Action = DistLogAction;

    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> Params {
        Params {
            servers: Some(self.servers),
            values: Some(self.values),
            max_log_len: Some(self.max_log_len),
            ..Params::default()
        }
    }

    fn action_names(&self) -> &'static [&'static str] {
        &["WriteNewEntry", "AppendEntry", "RemoveEntry"]
    }

    fn init_states(&self) -> Vec<DistLogState> {
        vec![DistLogState {
            servers: self.servers as u8,
            ..DistLogState::default()
        }]
    }

    fn next_states(&self, state: &DistLogState, out: &mut Vec<(DistLogAction, DistLogState)>) {
        let n = self.servers;
        for s in 0..n {
            for v in 0..self.values as u8 {
                if let Some(next) = self.write_new_entry(state, s, v) {
                    out.push((DistLogAction::WriteNewEntry { s: s as u8, v }, next));
                }
            }
        }
        for s in 0..n {
            for t in 0..n {
                if let Some(next) = self.append_entry(state, s, t) {
                    out.push((
                        DistLogAction::AppendEntry {
                            s: s as u8,
                            t: t as u8,
                        },
                        next,
                    ));
                }
            }
        }
        for s in 0..n {
            if let Some(next) = self.remove_entry(state, s) {
                out.push((DistLogAction::RemoveEntry { s: s as u8 }, next));
            }
        }
    }

    /// The action's own function, after checking its servers and value are the model's, and
    /// that an appended entry fits the encoding (a log outside the state constraint may be
    /// full).
    fn step(&self, state: &DistLogState, action: &DistLogAction) -> Option<DistLogState> {
        let server = |s: u8| (s as usize) < self.servers;
        let room = |s: u8| state.log[s as usize].len() < LOG_CAPACITY;
        match *action {
            DistLogAction::WriteNewEntry { s, v } => {
                (server(s) && (v as usize) < self.values && room(s))
                    .then(|| self.write_new_entry(state, s as usize, v))?
            }
            DistLogAction::AppendEntry { s, t } => (server(s) && server(t) && room(s))
                .then(|| self.append_entry(state, s as usize, t as usize))?,
            DistLogAction::RemoveEntry { s } => {
                server(s).then(|| self.remove_entry(state, s as usize))?
            }
        }
    }

    /// [`DistLogState::read_itf`] with this model's servers and values.
    fn read_state(&self, value: &itf::Value) -> Result<DistLogState, ReadError> {
        DistLogState::read_itf(value, self.servers, self.values)
    }

    fn invariants(&self) -> Vec<Invariant<Self>> {
        vec![Invariant {
            name: "ChosenSafety",
            holds: chosen_safety,
        }]
    }

    fn within_constraint(&self, state: &DistLogState) -> bool {
        self.mutation == Some(Mutation::NoStateConstraint)
            || state.logs().iter().all(|l| l.len() <= self.max_log_len)
    }

    fn has_symmetry(&self) -> bool {
        true
    }

    /// Servers are interchangeable and no variable names a server, so sorting the logs is an
    /// exact canonical form.
    fn canonical(&self, state: &DistLogState) -> DistLogState {
        let mut c = *state;
        c.log[..self.servers].sort();
        c
    }
}

impl Layer for DistLog {
    const NAME: &'static str = "distlog";
    const DESCRIPTION: &'static str = "DistLog";
    const PARAMETERS: &'static [Parameter] = &[
        Parameter::new(
            Bound::Servers,
            3,
            (1, MAX_SERVERS),
            "the state holds at most 8 server logs",
        ),
        Parameter::new(Bound::Values, 3, (1, 8), "values are named v1..v8"),
        Parameter::new(
            Bound::MaxLogLen,
            3,
            (0, LOG_CAPACITY - 1),
            "logs are stored inline with room for MaxLogLen + 1 entries",
        ),
    ];

    fn from_params(params: &Params) -> Result<Self, ParamsError> {
        let [servers, values, max_log_len] = params.resolve::<3>(Self::NAME, Self::PARAMETERS)?;
        // The mapped Log must hold indices 1..=MaxLogLen+1 of `values` values in 64 bits.
        if (max_log_len + 1) * values > 64 {
            return Err(ParamsError::OutOfRange {
                layer: Self::NAME,
                bound: Bound::MaxLogLen,
                value: max_log_len,
                min: 0,
                max: 64 / values - 1,
                why: "the mapped Log state holds (MaxLogLen + 1) * values pairs in 64 bits",
            });
        }
        Ok(DistLog {
            servers,
            values,
            max_log_len,
            mutation: None,
        })
    }
}

/// The refinement mapping DistLog -> Log: `chosen <- AllChosen`.
#[derive(Clone, Debug)]
pub struct ChosenMapping {
    lower: DistLog,
    upper: Log,
    broken: bool,
}

impl ChosenMapping {
    /// The mapping for this DistLog instance; the upper Log has indices `1..=MaxLogLen + 1`.
    pub fn new(lower: DistLog) -> Self {
        let upper = Log::new(lower.values, lower.max_log_len + 1)
            .expect("DistLog's bounds were checked to fit the mapped Log");
        ChosenMapping {
            lower,
            upper,
            broken: false,
        }
    }

    /// A deliberately wrong mapping for teaching: an index counts as chosen as soon as the
    /// first server has it, which Log cannot follow when that entry is later removed or differs.
    #[must_use = "broken returns the broken mapping"]
    pub fn broken(mut self) -> Self {
        self.broken = true;
        self
    }
}

impl Refinement for ChosenMapping {
    type Lower = DistLog;
    type Upper = Log;

    fn lower(&self) -> &DistLog {
        &self.lower
    }

    fn upper(&self) -> &Log {
        &self.upper
    }

    fn map_state(&self, state: &DistLogState) -> LogState {
        if self.broken {
            let mut chosen = LogState::empty(self.lower.values);
            for (i, v) in state.log[0].as_slice().iter().enumerate() {
                chosen.choose(i + 1, *v as usize);
            }
            return chosen;
        }
        self.lower.all_chosen(state, self.upper.max_index())
    }

    /// A step that changes the chosen set chooses the new indices as one block.
    fn map_step(
        &self,
        state: &DistLogState,
        _: &DistLogAction,
        next: &DistLogState,
    ) -> StepMapping<Choose> {
        let before = self.map_state(state);
        let after = self.map_state(next);
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
            // Entries only disappeared: no Log step can do that.
            _ => StepMapping::Search,
        }
    }
}

/// Every permutation of the servers applied to a state; used by tests of the canonical form.
pub fn permuted_states(m: &DistLog, state: &DistLogState) -> Vec<DistLogState> {
    permutations(m.servers)
        .into_iter()
        .map(|p| {
            let mut s = *state;
            for (from, to) in p.iter().enumerate() {
                s.log[*to as usize] = state.log[from];
            }
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_on_empty_log_is_a_stutter() {
        let m = DistLog::new(2, 1, 2).unwrap();
        let init = m.init_states()[0];
        assert_eq!(m.remove_entry(&init, 0), Some(init));
    }

    #[test]
    fn chosen_entries_cannot_be_removed_or_overwritten() {
        let m = DistLog::new(2, 2, 2).unwrap();
        let s = m.state_with(&[&[0], &[0]]);
        assert!(m.remove_entry(&s, 0).is_none());
        let t = m.state_with(&[&[0, 1], &[0, 1]]);
        assert!(m.write_new_entry(&t, 0, 0).is_some(), "index 3 is free");
        assert!(m.some_chosen_at(&t, 2));
    }

    /// Every binding of every action for servers `0..=servers` and values `0..=values` (one
    /// past the model's each).
    fn candidate_actions(servers: u8, values: u8) -> Vec<DistLogAction> {
        let mut all = Vec::new();
        for s in 0..=servers {
            for v in 0..=values {
                all.push(DistLogAction::WriteNewEntry { s, v });
            }
            for t in 0..=servers {
                all.push(DistLogAction::AppendEntry { s, t });
            }
            all.push(DistLogAction::RemoveEntry { s });
        }
        all
    }

    /// The model of the tests: 2 servers, 2 values, logs of at most 2 entries.
    fn small() -> DistLog {
        DistLog::new(2, 2, 2).unwrap()
    }

    /// `step`'s override agrees with `step_by_successors` on every reachable state of a small
    /// model, for every binding in the model and one past it, with and without the mutation
    /// that drops RemoveEntry's guard.
    #[test]
    fn step_is_the_successor_next_states_pairs_with_the_action() {
        for m in [small(), small().with_mutation(Mutation::RemoveChosen)] {
            // The same states either way (those past the constraint included): removing a
            // chosen entry leads to a state the spec reaches by another path.
            let states = spec_core::reachable_states(&m, usize::MAX);
            assert_eq!(states.len(), 161, "{:?}", m.mutation);
            let mut enabled = 0;
            for s in &states {
                let mut succ = Vec::new();
                m.next_states(s, &mut succ);
                for a in candidate_actions(2, 2) {
                    let expected = succ.iter().find(|(b, _)| *b == a).map(|(_, t)| *t);
                    assert_eq!(m.step(s, &a), expected, "{a} in {s:?}");
                    enabled += expected.is_some() as usize;
                }
            }
            assert!(enabled > states.len());
        }
        let m = small();
        let full = m.state_with(&[&[0; LOG_CAPACITY], &[]]);
        let write = DistLogAction::WriteNewEntry { s: 0, v: 0 };
        assert_eq!(m.step(&full, &write), None, "no room in the encoding");
        let n3 = DistLogAction::RemoveEntry { s: 2 };
        assert_eq!(m.step(&m.init_states()[0], &n3), None, "no server n3");
    }

    #[test]
    fn actions_print_and_parse_back() {
        let m = small();
        let mut count = 0;
        for s in spec_core::reachable_states(&m, usize::MAX) {
            let mut succ = Vec::new();
            m.next_states(&s, &mut succ);
            for (a, _) in succ {
                assert_eq!(a.to_string().parse(), Ok(a), "{a}");
                count += 1;
            }
        }
        assert!(count > 100, "{count}");
        let err = |text: &str| text.parse::<DistLogAction>().unwrap_err().to_string();
        assert_eq!(
            err("RemoveEntry(n1, n2)"),
            "cannot read action `RemoveEntry(n1, n2)`: RemoveEntry takes other arguments than \
             the 2 given; the actions are: WriteNewEntry(s, v), AppendEntry(s, t), RemoveEntry(s)"
        );
        assert_eq!(
            err("WriteNewEntry(n1, 3)"),
            "cannot read action `WriteNewEntry(n1, 3)`: 3 is not a value name v1, v2, ..."
        );
    }

    #[test]
    fn states_read_back_from_their_itf() {
        let m = small();
        for s in spec_core::reachable_states(&m, usize::MAX) {
            let json = serde_json::to_value(s).unwrap();
            assert_eq!(m.read_state(&json), Ok(s), "{json}");
            assert_eq!(serde_json::from_value::<DistLogState>(json).unwrap(), s);
        }
        let read = |text: &str| {
            m.read_state(&serde_json::from_str(text).unwrap())
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            read(r##"{"log": {"#map": [["n2", ["v2"]], ["n1", []]]}}"##),
            Ok(m.state_with(&[&[], &[1]]))
        );
        assert_eq!(
            read(r##"{"log": {"#map": [["n1", []], ["n3", []]]}}"##),
            Err("variable log: n3 is not a server of this 2-server model".into())
        );
        assert_eq!(
            read(r##"{"log": {"#map": [["n1", []]]}}"##),
            Err("variable log: expected one value per server n1..n2, found 1".into())
        );
        assert_eq!(
            read(r##"{"log": {"#map": [["n1", ["v3"]], ["n2", []]]}}"##),
            Err("variable log: at n1: item 1: v3 is not a value of this 2-value model".into())
        );
        assert_eq!(
            read(r##"{"log": {"#map": [["n1", ["v1"]], ["n1", []]]}}"##),
            Err("variable log: n1 appears twice".into())
        );
        assert_eq!(
            read("[]"),
            Err("a state must be a record of variables, found []".into())
        );
    }

    #[test]
    fn canonical_form_is_the_same_for_every_permutation() {
        let m = DistLog::new(3, 2, 3).unwrap();
        let s = m.state_with(&[&[1, 0], &[0], &[]]);
        let c = m.canonical(&s);
        for p in permuted_states(&m, &s) {
            assert_eq!(m.canonical(&p), c);
        }
    }
}
