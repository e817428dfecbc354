//! The mappings into AsyncReconfig and out of it.
//!
//! - [`CommittedAreChosen`]: AsyncReconfig -> Log, `chosen <- committed`, as raft-reconfig's
//!   and message-raft's edges to Log: this level's safety, checked at the top of the chain.
//! - [`HistoryMapping`]: a lower level whose states show each server's MongoRaftReconfig
//!   variables (a [`Recordable`] spec) -> AsyncReconfig. The lower level runs with the history
//!   variables added ([`WithHistory`]: each step records the facts of the state it reaches,
//!   [`History::record`], exactly as AsyncReconfig's own steps do), and its states map to the
//!   servers' variables plus that history. message-raft and raft-reconfig are both mapped this
//!   way; [`FromRaftReconfig`] is raft-reconfig's.

use log_abstract::{Choose, Log, LogState};
use raft_reconfig::RaftReconfig;
use serde::{Serialize, Serializer};
use spec_core::symmetry::Rename;
use spec_core::{Pack, Params, ParamsError, Refinement, Spec, StepMapping};

use crate::state::{History, MAX_SERVERS};
use crate::{Action, AsyncReconfig, State};

/// AsyncReconfig -> Log by `chosen <- {<<c.entry[1], c.entry[2]>> : c \in committed}`.
#[derive(Clone, Debug)]
pub struct CommittedAreChosen {
    lower: AsyncReconfig,
    upper: Log,
}

impl CommittedAreChosen {
    /// The mapping for this instance (Log's values `1..=MaxTerm + 1`, indices `1..=MaxLogLen +
    /// 1`, so that successors just outside the constraint map too).
    pub fn new(lower: AsyncReconfig) -> Result<Self, ParamsError> {
        let upper = Log::new(lower.max_term() + 1, lower.max_log_len() + 1)?;
        Ok(CommittedAreChosen { lower, upper })
    }
}

impl Refinement for CommittedAreChosen {
    type Lower = AsyncReconfig;
    type Upper = Log;

    fn lower(&self) -> &AsyncReconfig {
        &self.lower
    }

    fn upper(&self) -> &Log {
        &self.upper
    }

    fn map_state(&self, state: &State) -> LogState {
        self.upper.state_with(
            state
                .core
                .committed
                .iter()
                .map(|c| (c.index as usize, c.entry_term as usize - 1)),
        )
    }

    /// A commit chooses its index as a one-index block; every other step stutters.
    fn map_step(&self, state: &State, _: &Action, next: &State) -> StepMapping<Choose> {
        Log::step_between(&self.map_state(state), &self.map_state(next))
    }
}

/// A spec whose states show each server's MongoRaftReconfig variables and a `votedFor`.
pub trait Recordable: Spec {
    /// Each server's `currentTerm`, `state`, `config`, `configVersion`, `configTerm`, `log`,
    /// and `committed`.
    fn core(&self, state: &Self::State) -> raft_reconfig::State;
    /// Each server's `votedFor` (plus one; 0 for none) after the step `state -[action]->
    /// next`, given the value before (for a spec that has no such variable, an auxiliary one).
    fn voted_for(
        &self,
        state: &Self::State,
        voted_for: [u8; MAX_SERVERS],
        action: &Self::Action,
        next: &Self::State,
    ) -> [u8; MAX_SERVERS];
    /// `votedFor` in an initial state.
    fn initial_voted_for(&self, state: &Self::State) -> [u8; MAX_SERVERS];
    /// `state` with server `i` renamed `rename[i]`, for the symmetry reduction of
    /// [`WithHistory`], which it has when the spec has one ([`Spec::has_symmetry`]). The
    /// renaming must commute with [`Recordable::core`] and [`Recordable::voted_for`].
    fn permute(&self, state: &Self::State, rename: &Rename) -> Self::State;
}

/// A state of [`WithHistory`]: the lower state, `votedFor`, and the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Recorded<S> {
    /// The lower level's state.
    pub lower: S,
    /// `votedFor` (plus one; 0 for none).
    pub voted_for: [u8; MAX_SERVERS],
    /// The facts of every state reached so far.
    pub history: History,
}

impl<S: Pack> Pack for Recorded<S> {
    const MAX_PACKED: usize = S::MAX_PACKED + <[u8; MAX_SERVERS]>::MAX_PACKED + History::MAX_PACKED;
    fn pack_into(&self, out: &mut [u8]) -> usize {
        let mut len = self.lower.pack_into(out);
        len += self.voted_for.pack_into(&mut out[len..]);
        len += self.history.pack_into(&mut out[len..]);
        len
    }
    fn unpack(input: &mut &[u8]) -> Option<Self> {
        Some(Recorded {
            lower: S::unpack(input)?,
            voted_for: Pack::unpack(input)?,
            history: Pack::unpack(input)?,
        })
    }
}

/// The lower state's variables, then `votedFor` and `history`.
impl<S: Serialize> Serialize for Recorded<S> {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        #[derive(Serialize)]
        struct View<'a, S> {
            #[serde(flatten)]
            lower: &'a S,
            #[serde(rename = "votedFor")]
            voted_for: &'a [u8; MAX_SERVERS],
            history: &'a History,
        }
        View {
            lower: &self.lower,
            voted_for: &self.voted_for,
            history: &self.history,
        }
        .serialize(serializer)
    }
}

/// A [`Recordable`] spec with AsyncReconfig's history variables added: the same steps, each
/// recording the facts of the state it reaches. (More distinct states than the spec alone: two
/// behaviours that reach one state with different pasts are told apart.)
#[derive(Clone, Debug)]
pub struct WithHistory<L> {
    spec: L,
    servers: usize,
}

impl<L: Recordable> WithHistory<L> {
    /// `spec` with the history.
    pub fn new(spec: L) -> Self {
        let servers = spec.params().servers.unwrap_or(0);
        WithHistory { spec, servers }
    }

    /// The spec underneath.
    pub fn spec(&self) -> &L {
        &self.spec
    }

    fn recorded(
        &self,
        lower: L::State,
        voted_for: [u8; MAX_SERVERS],
        history: History,
    ) -> Recorded<L::State> {
        let mut history = history;
        history.record(&self.spec.core(&lower), &voted_for);
        Recorded {
            lower,
            voted_for,
            history,
        }
    }
}

impl<L: Recordable> Spec for WithHistory<L>
where
    L::State: Copy,
{
    type State = Recorded<L::State>;
    type Action = L::Action;

    fn name(&self) -> &'static str {
        self.spec.name()
    }

    fn params(&self) -> Params {
        self.spec.params()
    }

    fn action_names(&self) -> &'static [&'static str] {
        self.spec.action_names()
    }

    fn init_states(&self) -> Vec<Self::State> {
        self.spec
            .init_states()
            .into_iter()
            .map(|s| {
                let voted_for = self.spec.initial_voted_for(&s);
                self.recorded(s, voted_for, History::default())
            })
            .collect()
    }

    fn next_states(&self, state: &Self::State, out: &mut Vec<(L::Action, Self::State)>) {
        let mut lower = Vec::new();
        self.spec.next_states(&state.lower, &mut lower);
        for (action, next) in lower {
            let voted_for = self
                .spec
                .voted_for(&state.lower, state.voted_for, &action, &next);
            out.push((action, self.recorded(next, voted_for, state.history)));
        }
    }

    fn copies(&self, state: &Self::State, action: &L::Action) -> u64 {
        self.spec.copies(&state.lower, action)
    }

    fn within_constraint(&self, state: &Self::State) -> bool {
        self.spec.within_constraint(&state.lower)
    }

    /// The spec's symmetry, with the history renamed too: the history's facts are indexed by
    /// server and name servers as the spec's variables do (see [`crate::symmetry`]).
    fn has_symmetry(&self) -> bool {
        self.spec.has_symmetry()
    }

    /// The renaming of the lower state, `votedFor` and the history whose packed bytes are
    /// least.
    fn canonical(&self, state: &Self::State) -> Self::State {
        let (lower, voted_for, history) = crate::symmetry::least_renaming(
            self.servers,
            |rename| self.spec.permute(&state.lower, rename),
            &state.voted_for,
            &state.history,
        );
        Recorded {
            lower,
            voted_for,
            history,
        }
    }
}

/// A [`Recordable`] spec (with the history) -> AsyncReconfig: each server's variables, `votedFor`
/// and the history; the checker searches each step's witness among AsyncReconfig's steps.
#[derive(Clone, Debug)]
pub struct HistoryMapping<L> {
    lower: WithHistory<L>,
    upper: AsyncReconfig,
}

impl<L: Recordable> HistoryMapping<L> {
    /// The mapping from `lower` (run with the history) to `upper`.
    pub fn new(lower: L, upper: AsyncReconfig) -> Self {
        HistoryMapping {
            lower: WithHistory::new(lower),
            upper,
        }
    }
}

impl<L: Recordable> Refinement for HistoryMapping<L>
where
    L::State: Copy,
{
    type Lower = WithHistory<L>;
    type Upper = AsyncReconfig;

    fn lower(&self) -> &WithHistory<L> {
        &self.lower
    }

    fn upper(&self) -> &AsyncReconfig {
        &self.upper
    }

    fn map_state(&self, state: &Recorded<L::State>) -> State {
        State {
            core: self.lower.spec.core(&state.lower),
            voted_for: state.voted_for,
            history: state.history,
        }
    }

    /// The step [`crate::actions::witness`] finds; a search (which then reports the failure)
    /// if it finds none.
    fn map_step(
        &self,
        state: &Recorded<L::State>,
        _: &L::Action,
        next: &Recorded<L::State>,
    ) -> StepMapping<Action> {
        let (from, to) = (self.map_state(state), self.map_state(next));
        if from == to {
            return StepMapping::Stutter;
        }
        match crate::actions::witness(&from, &to, self.upper.mutation()) {
            Some(action) => StepMapping::Step(action),
            None => StepMapping::Search,
        }
    }

    /// [`Refinement::implements`] as its default computes it from [`Self::map_step`], but with
    /// each state mapped once (the default maps both states again in `map_step`) and the
    /// witness, which [`crate::actions::witness`] has already checked, not stepped again: the
    /// mapping and the witness were most of the edge's time per step.
    fn implements(
        &self,
        state: &Recorded<L::State>,
        action: &L::Action,
        next: &Recorded<L::State>,
    ) -> Result<Option<Action>, String> {
        let (from, to) = (self.map_state(state), self.map_state(next));
        if from == to {
            return Ok(None);
        }
        if let Some(witness) = crate::actions::witness(&from, &to, self.upper.mutation()) {
            return Ok(Some(witness));
        }
        let mut successors = Vec::new();
        self.upper.next_states(&from, &mut successors);
        successors
            .into_iter()
            .find(|(_, s)| *s == to)
            .map(|(a, _)| Some(a))
            .ok_or_else(|| {
                format!(
                    "{action} changes the mapped {name} state, and no {name} step leads from the mapped state to the mapped next state",
                    name = self.upper.name()
                )
            })
    }
}

/// raft-reconfig's variables are AsyncReconfig's; `votedFor` is auxiliary: an atomic election
/// records each voter's vote for the winner, and a server that moves to a newer term any other
/// way has no vote in it.
impl Recordable for RaftReconfig {
    fn core(&self, state: &raft_reconfig::State) -> raft_reconfig::State {
        *state
    }

    fn voted_for(
        &self,
        state: &raft_reconfig::State,
        mut voted_for: [u8; MAX_SERVERS],
        action: &raft_reconfig::Action,
        next: &raft_reconfig::State,
    ) -> [u8; MAX_SERVERS] {
        for j in state.server_ids() {
            if next.current_term[j] > state.current_term[j] {
                voted_for[j] = match *action {
                    raft_reconfig::Action::BecomeLeader { i, vote_quorum }
                        if vote_quorum.contains(j) =>
                    {
                        i + 1
                    }
                    _ => 0,
                };
            }
        }
        voted_for
    }

    fn initial_voted_for(&self, _: &raft_reconfig::State) -> [u8; MAX_SERVERS] {
        [0; MAX_SERVERS]
    }

    fn permute(&self, state: &raft_reconfig::State, rename: &Rename) -> raft_reconfig::State {
        raft_reconfig::symmetry::permute(state, &rename[..state.servers as usize])
    }
}

/// raft-reconfig -> AsyncReconfig: every synchronous step is one AsyncReconfig step (its own
/// atomic `Elect` for BecomeLeader), or a stutter. AsyncReconfig at raft-reconfig's bounds, with
/// every nonempty initial config.
pub type FromRaftReconfig = HistoryMapping<RaftReconfig>;

impl FromRaftReconfig {
    /// The mapping from `lower`.
    pub fn from_raft_reconfig(lower: RaftReconfig) -> Result<Self, ParamsError> {
        let upper = AsyncReconfig::new(
            lower.servers(),
            lower.max_log_len(),
            lower.max_term(),
            lower.max_config_version(),
        )?
        .with_initial_configs(crate::InitialConfigs::EveryNonempty);
        Ok(HistoryMapping::new(lower, upper))
    }
}
