//! Just-In-Time Paxos (kuujo/just-in-time-paxos, `JustInTimePaxos.tla` at commit `9b28ff9`) as
//! an executable specification, ported action by action, with TLC's state counts reproduced
//! exactly (see the crate README for the figures and the model).
//!
//! Clients do the ordering: a client stamps each request with a time from a synchronized clock
//! and sends it to the quorum of its view. A replica appends a request whose timestamp is
//! later than its last entry's and answers with its whole log as a checksum; a client that
//! gets successful replies with one checksum from exactly the view's quorum has *committed*
//! the request (it keeps the primary's reply in `cCommits`). Replies that disagree make the
//! client send a reconcile request, and a replica that cannot answer one from the prefix it
//! knows to be the primary's (`rSyncIndex`) repairs its log from the primary. A view change
//! moves everyone to a new view whose primary collects the replicas' logs (the view-change
//! replies: the promises) and starts the view with the log of the latest view it hears of.
//!
//! # The level
//!
//! | action | guard | effect |
//! |---|---|---|
//! | `ClientRequest(c, v)` | | tick `cTime`, new `cReqID`; send the request to `Quorum(cViewID[c])` |
//! | `HandleClientRequest` | replica Normal | same view: append if newer, reply with the log; later view: enter view change, reject, promise to its primary; earlier view: reject |
//! | `HandleClientReply`, `HandleReconcileReply` | | other view: update the client's view; same view: record, then commit, reconcile or wait |
//! | `HandleReconcileRequest` | Normal, same view | answer from the synced prefix, or ask the primary for a repair |
//! | `HandleRepairRequest` | the Normal primary of the view | send its log up to the index |
//! | `HandleRepairReply` | Repair, same view | take the primary's prefix, Normal, answer the client |
//! | `ChangeView(r)` | | ask every replica to move to `rViewID[r] + 1` |
//! | `HandleViewChange` | | a replica behind the view joins it and promises its log to the primary |
//! | `HandleViewChangeReply` | the primary of the view, in view change | record; with a local quorum, start the view with the latest view's log |
//! | `HandleStartView` | behind the view, or in its view change | Normal in the view; a quorum member takes the log |
//! | `DropMessage` | | lose a message |
//!
//! Invariants ([`JitPaxos::invariants`]): the spec's `Inv`, and two this port adds about
//! commits ([`state::commit_matches_checksum`], [`state::committed_prefixes_agree`]). The
//! bound is the spec's own `messageCount`: the state constraint `messageCount <= N`, with N
//! given as `--max-message-count` ([`MESSAGE_COUNT`]: messages sent over the whole behaviour,
//! acks included, not messages in flight as the message-passing layers' `--max-messages`). No
//! symmetry: the primary of a view depends on the replicas' order.
//!
//! The mapping to `log-abstract` is [`CommitsAreChosen`]: every commit chooses the entries of
//! its checksum up to its index.
//!
//! ```
//! use jit_paxos::JitPaxos;
//! use spec_core::Spec;
//!
//! let spec = JitPaxos::new(3, 1, 4).unwrap();
//! let init = spec.init_states();
//! let mut next = Vec::new();
//! spec.next_states(&init[0], &mut next);
//! // One client request (1 client, 1 value) and a view change from each of 3 replicas.
//! assert_eq!(next.len(), 4);
//! ```

pub mod actions;
mod pack;
pub mod refinement;
pub mod state;
pub mod text;

pub use actions::Action;
pub use refinement::CommitsAreChosen;
pub use state::{Entry, Log, Message, Reply, State, Status};

use spec_core::{Bound, Invariant, Layer, Parameter, Params, ParamsError, Spec};

/// The most replicas (replica sets are bytes).
pub const MAX_REPLICAS: usize = 5;
/// The most clients.
pub const MAX_CLIENTS: usize = 3;
/// The largest `messageCount` bound (counts, timestamps and log lengths are bytes).
pub const MAX_MESSAGE_COUNT: usize = 60;
/// The bound on `messageCount`, this layer's own: `--max-message-count`.
pub const MESSAGE_COUNT: Bound = Bound::Named("--max-message-count");
/// The most values.
pub const MAX_VALUES: usize = 4;

spec_core::mutations! {
    /// A bug planted on purpose, to see which property catches it (none is in force unless
    /// [`JitPaxos::with_mutation`] is called).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Mutation {
        /// HandleClientRequest: a replica handles a request of an earlier view as if it were of its
        /// own view, and answers in the request's view. Its promise (it joined a later view and
        /// sent its log to that view's primary) is broken: an acceptor accepting a lower ballot.
        AcceptStaleView = "accept-stale-view" =>
            "a replica accepts a request of an earlier view than the one it promised \
                (an acceptor accepting a lower ballot): breaks Inv",
        /// HandleViewChangeReply: the new primary starts the view with the log of the reply that
        /// completed its quorum, ignoring which replies come from the latest view: a leader that
        /// ignores the values in the promises.
        StartViewFromLastReply = "start-view-from-last-reply" =>
            "a new primary starts its view with the last promise's log, not the latest \
                view's (a leader ignoring the values in promises): breaks Inv",
        /// HandleClientReply: a client commits once the view's quorum succeeded, whatever their
        /// checksums: the replicas' agreement on the whole log is dropped.
        CommitIgnoresChecksums = "commit-ignores-checksums" =>
            "a client commits on a quorum of successes whatever their checksums: breaks Inv",
    }
}

/// Just-In-Time Paxos at given bounds, as a [`Spec`].
#[derive(Clone, Debug)]
pub struct JitPaxos {
    replicas: usize,
    clients: usize,
    values: usize,
    max_message_count: u8,
    mutation: Option<Mutation>,
}

impl JitPaxos {
    /// The default number of replicas.
    pub const DEFAULT_REPLICAS: usize = 3;
    /// The default number of values.
    pub const DEFAULT_VALUES: usize = 1;
    /// The default bound on `messageCount`.
    pub const DEFAULT_MAX_MESSAGE_COUNT: usize = 12;

    /// The spec with `replicas` replicas, one client, `values` values, explored while
    /// `messageCount <= max_message_count`; fails on bounds the state encoding cannot hold.
    pub fn new(
        replicas: usize,
        values: usize,
        max_message_count: usize,
    ) -> Result<Self, ParamsError> {
        let mut params = Params {
            servers: Some(replicas),
            values: Some(values),
            ..Params::default()
        };
        params.set(MESSAGE_COUNT, max_message_count);
        Self::from_params(&params)
    }

    /// The same spec with `clients` clients (1 to [`MAX_CLIENTS`]; the command line's models
    /// have one, as the TLC model does).
    ///
    /// # Panics
    ///
    /// If `clients` is 0 or more than [`MAX_CLIENTS`].
    #[must_use = "with_clients returns the spec with more clients; check that one"]
    pub fn with_clients(mut self, clients: usize) -> Self {
        assert!(
            (1..=MAX_CLIENTS).contains(&clients),
            "jit-paxos models 1 to {MAX_CLIENTS} clients, not {clients}"
        );
        self.clients = clients;
        self
    }

    /// The same spec with `mutation` in force.
    #[must_use = "with_mutation returns the mutated spec; check that one"]
    pub fn with_mutation(mut self, mutation: Mutation) -> Self {
        self.mutation = Some(mutation);
        self
    }

    /// The mutation in force, if any.
    pub fn mutation(&self) -> Option<Mutation> {
        self.mutation
    }
    /// The number of replicas.
    pub fn replicas(&self) -> usize {
        self.replicas
    }
    /// The number of clients.
    pub fn clients(&self) -> usize {
        self.clients
    }
    /// The number of values.
    pub fn values(&self) -> usize {
        self.values
    }
    /// The bound on `messageCount`.
    pub fn max_message_count(&self) -> usize {
        self.max_message_count as usize
    }
}

impl Spec for JitPaxos {
    type State = State;
    type Action = Action;

    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> Params {
        let mut params = Params {
            servers: Some(self.replicas),
            values: Some(self.values),
            ..Params::default()
        };
        params.set(MESSAGE_COUNT, self.max_message_count as usize);
        params
    }

    fn action_names(&self) -> &'static [&'static str] {
        actions::ACTION_NAMES
    }

    /// `Init`: no message, every client in view 1, every replica Normal in view 1 with an empty
    /// log.
    fn init_states(&self) -> Vec<State> {
        vec![State::initial(self.replicas, self.clients)]
    }

    fn next_states(&self, state: &State, out: &mut Vec<(Action, State)>) {
        actions::next(state, self.values, self.mutation, out);
    }

    /// [`text::read_state`] at this model's numbers of replicas, clients and values.
    fn read_state(
        &self,
        value: &spec_core::itf::Value,
    ) -> Result<State, spec_core::itf::ReadError> {
        text::read_state(value, self.replicas, self.clients, self.values)
    }

    fn step(&self, state: &State, action: &Action) -> Option<State> {
        actions::step(state, self.values, action, self.mutation)
    }

    fn invariants(&self) -> Vec<Invariant<Self>> {
        vec![
            Invariant {
                name: "Inv",
                holds: |_, s| state::inv(s),
            },
            Invariant {
                name: "CommitMatchesChecksum",
                holds: |_, s| state::commit_matches_checksum(s),
            },
            Invariant {
                name: "CommittedPrefixesAgree",
                holds: |_, s| state::committed_prefixes_agree(s),
            },
            Invariant {
                name: "CommittedTimestampsNameOneValue",
                holds: |_, s| state::committed_timestamps_name_one_value(s),
            },
        ]
    }

    /// The model's state constraint: `messageCount <= N`.
    fn within_constraint(&self, state: &State) -> bool {
        state.message_count <= self.max_message_count
    }
}

impl Layer for JitPaxos {
    const NAME: &'static str = "jit-paxos";
    const DESCRIPTION: &'static str = "JustInTimePaxos";
    const PARAMETERS: &'static [Parameter] = &[
        Parameter::new(
            Bound::Servers,
            Self::DEFAULT_REPLICAS,
            (1, MAX_REPLICAS),
            "replica sets are bytes and quorums are computed for up to 5 replicas",
        ),
        Parameter::new(
            Bound::Values,
            Self::DEFAULT_VALUES,
            (1, MAX_VALUES),
            "values are named v1..v4",
        ),
        Parameter::new(
            MESSAGE_COUNT,
            Self::DEFAULT_MAX_MESSAGE_COUNT,
            (0, MAX_MESSAGE_COUNT),
            "the bound is on messageCount, messages sent and acknowledged over the whole \
             behaviour; counts, timestamps and log lengths are bytes",
        ),
    ];

    fn from_params(params: &Params) -> Result<Self, ParamsError> {
        let [replicas, values, max_message_count] =
            params.resolve::<3>(Self::NAME, Self::PARAMETERS)?;
        Ok(JitPaxos {
            replicas,
            clients: 1,
            values,
            max_message_count: max_message_count as u8,
            mutation: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spec_core::Pack;

    /// `(generated, distinct, depth)` by a plain breadth-first search (the checker lives
    /// elsewhere): TLC's way, states past the constraint generated but neither stored nor
    /// expanded.
    fn tlc_counts(spec: &JitPaxos) -> (u64, u64, usize) {
        use std::collections::HashSet;
        let init = spec.init_states();
        let mut generated = init.len() as u64;
        let mut seen: HashSet<State> = init.iter().cloned().collect();
        let mut level = init;
        let mut depth = 1;
        let mut succ = Vec::new();
        loop {
            let mut next_level = Vec::new();
            for s in &level {
                succ.clear();
                spec.next_states(s, &mut succ);
                generated += succ.len() as u64;
                for (_, t) in succ.drain(..) {
                    if spec.within_constraint(&t) && seen.insert(t.clone()) {
                        next_level.push(t);
                    }
                }
            }
            if next_level.is_empty() {
                return (generated, seen.len() as u64, depth);
            }
            depth += 1;
            level = next_level;
        }
    }

    /// TLC's figures at the smallest bounds (the harness's tests pin larger ones).
    #[test]
    fn small_models_have_tlcs_counts() {
        for (n, expected) in [
            (2, (13, 2, 2)),
            (3, (71, 9, 3)),
            (4, (287, 36, 4)),
            (5, (823, 103, 5)),
            (6, (2_085, 240, 6)),
        ] {
            let spec = JitPaxos::new(3, 1, n).unwrap();
            assert_eq!(tlc_counts(&spec), expected, "messageCount <= {n}");
        }
    }

    /// Every state of a small model packs and unpacks to itself, prints as ITF, and every
    /// action prints and parses back and is `step`'s successor.
    #[test]
    fn states_pack_and_actions_read_back() {
        let spec = JitPaxos::new(3, 1, 8).unwrap();
        let states = spec_core::reachable_states(&spec, usize::MAX);
        assert!(states.len() > 1_000, "{}", states.len());
        let mut succ = Vec::new();
        for s in &states {
            let json = serde_json::to_value(s).unwrap();
            assert_eq!(spec.read_state(&json).as_ref(), Ok(s), "{json}");
            let mut bytes = Vec::new();
            s.pack(&mut bytes);
            let mut input = &bytes[..];
            assert_eq!(State::unpack(&mut input).as_ref(), Some(s));
            assert!(input.is_empty());
            assert!(bytes.len() <= State::MAX_PACKED);
            succ.clear();
            spec.next_states(s, &mut succ);
            for (a, t) in &succ {
                assert_eq!(spec.step(s, a).as_ref(), Some(t), "{a}");
            }
        }
        // Every action taken in the model at N = 10 (TLC: 153,027 generated, one of them the
        // initial state); N = 12 (1,122,165) names the same actions and two more, the repair
        // handlers, but takes ten times as long.
        let spec = JitPaxos::new(3, 1, 10).unwrap();
        let checked = spec_core::action_text::check_round_trips(&spec, usize::MAX).unwrap();
        assert_eq!(checked.actions as u64, 153_027 - 1);
        assert_eq!(checked.names.len(), 10, "{:?}", checked.names);
    }

    #[test]
    fn bad_states_are_named_not_read() {
        let spec = JitPaxos::new(2, 1, 8).unwrap();
        let s = actions::client_request(&spec.init_states()[0], 0, 0);
        let mut bad = serde_json::to_value(&s).unwrap();
        bad["rViewID"]["#map"][1][0] = serde_json::json!("r3");
        assert_eq!(
            spec.read_state(&bad).unwrap_err().to_string(),
            "variable rViewID: r3 is not one of r1..r2"
        );
        let mut bad = serde_json::to_value(&s).unwrap();
        bad["messages"]["#set"][0]["value"] = serde_json::json!("v2");
        assert_eq!(
            spec.read_state(&bad).unwrap_err().to_string(),
            "variable messages: v2 is not one of v1..v1"
        );
    }

    #[test]
    fn bounds_are_validated() {
        assert!(JitPaxos::new(6, 1, 4).is_err());
        assert!(JitPaxos::new(3, 1, 61).is_err());
        assert!(JitPaxos::new(3, 5, 4).is_err());
        let e = JitPaxos::from_params(&Params {
            max_term: Some(2),
            ..Params::default()
        })
        .unwrap_err();
        assert!(matches!(e, ParamsError::Unused { .. }), "{e}");
        let spec = JitPaxos::from_params(&Params::default()).unwrap();
        assert_eq!(
            (
                spec.replicas(),
                spec.clients(),
                spec.values(),
                spec.max_message_count()
            ),
            (3, 1, 1, 12)
        );
    }

    #[test]
    fn mutation_names_round_trip() {
        for m in Mutation::ALL {
            assert_eq!(Mutation::from_name(m.name()), Some(m));
        }
        assert_eq!(Mutation::from_name("none"), None);
    }

    #[test]
    fn actions_print_as_in_the_spec() {
        let spec = JitPaxos::new(3, 1, 4).unwrap();
        let s0 = &spec.init_states()[0];
        let s1 = actions::client_request(s0, 0, 0);
        let m = s1.messages.iter().next().unwrap().clone();
        let a = Action::Handle(m);
        assert_eq!(
            a.to_string(),
            "HandleClientRequest(r1, c1, [dest |-> r1, reqID |-> 1, src |-> c1, timestamp |-> 1, \
             type |-> MClientRequest, value |-> v1, viewID |-> 1])"
        );
        assert_eq!(a.to_string().parse::<Action>(), Ok(a));
        assert_eq!(
            "ChangeView(r4)"
                .parse::<Action>()
                .map(|a| spec.step(s0, &a)),
            Ok(None)
        );
    }
}
