//! Multi-Paxos with the roles of "Paxos Made Moderately Complex" (van Renesse and Altinbuken,
//! 2015), as a message-passing executable specification.
//!
//! Five kinds of processes cooperate. **Replicas** receive clients' commands, assign each to a
//! slot and *propose* it to every leader; they *perform* decided commands slot by slot.
//! **Leaders** each own ballots `(round, leader)`; for a ballot a leader spawns a **scout**,
//! which runs phase 1 (p1a/p1b) with the **acceptors**; once a majority promised, the scout's
//! leader is *adopted*: it takes, for each slot, the command of the greatest ballot any of
//! those acceptors accepted (`pmax`), and spawns one **commander** per slot, which runs phase 2
//! (p2a/p2b) and, once a majority accepted, sends the *decision* to every replica. A scout or
//! commander that hears of a greater ballot *preempts* its leader, which later tries a greater
//! ballot.
//!
//! The state ([`State`]) is every process's variables plus the messages in flight, a bounded
//! multiset; every step ([`Action`]) is one process acting on its own variables: it handles
//! one delivered message, or takes a local step (a replica proposes, a leader starts a ballot
//! or spawns a commander); the network may lose a message or, within a
//! budget, duplicate one.
//!
//! No-op filling: a replica whose next slot to perform is a gap (nothing decided, nothing
//! proposed there by it) while a later slot is decided proposes `noop` for it
//! ([`Action::ProposeNoop`]). The leader treats it as any proposal, so a command that may have
//! been chosen there still wins through `pmax`.
//!
//! Invariants ([`MultiPaxos::invariants`]): OneValuePerSlot (at most one command chosen per
//! slot, "chosen" meaning accepted by a quorum in one ballot), ReplicasAgree,
//! DecisionsAreChosen, and the Paxos facts that carry the argument: AcceptedBelowPromised,
//! P2aUnique, ProposalsAreSafe, ActiveLeadersAdopted, PromisesAreTruthful; action properties
//! PromisesOnlyGrow and DecisionsAreFinal. The mapping to `log-abstract` is
//! [`ChosenLog::prefix`]: the chosen slots, as a prefix log.
//!
//! Symmetry: acceptors are interchangeable ([`MultiPaxos::canonical`] renames them exactly).
//! Leaders are not (ballots order them), nor, in this reduction, replicas.
//!
//! ```
//! use multi_paxos::MultiPaxos;
//! use spec_core::{Layer, Params, Spec};
//!
//! let spec = MultiPaxos::from_params(&Params::default()).unwrap();
//! let init = spec.init_states();
//! let mut next = Vec::new();
//! spec.next_states(&init[0], &mut next);
//! // Replica r1 may propose c1 or c3, r2 may propose c2, and either leader may start a ballot.
//! assert_eq!(next.len(), 5);
//! ```

pub mod actions;
mod read;
pub mod refinement;
pub mod state;
mod symmetry;

pub use actions::{Action, ACTION_NAMES};
pub use refinement::{ChosenLog, Gaps, Source};
pub use state::{
    Ballot, Commander, Envelope, Leader, Message, Network, PValue, Phase, Replica, State, Value,
};

use spec_core::{ActionProperty, Bound, Invariant, Layer, Parameter, Params, ParamsError, Spec};

/// The bounds of a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bounds {
    /// Acceptors (`--servers`).
    pub acceptors: usize,
    /// Leaders, and replicas: one of each per proposer node (`--leaders`, [`LEADERS`]).
    pub leaders: usize,
    /// The greatest ballot round a leader may start (`--max-term`).
    pub max_round: usize,
    /// Slots (`--max-log-len`).
    pub slots: usize,
    /// Client commands, each at one replica from the start (`--values`).
    pub commands: usize,
    /// Messages in flight, a state constraint (`--max-messages`).
    pub max_messages: usize,
    /// Duplications a behaviour may contain (`--duplicates`).
    pub duplicates: usize,
    /// Whether the network may lose messages (`--loss 1`, [`LOSS`]).
    pub lossy: bool,
}

impl Bounds {
    /// The defaults: 3 acceptors, 2 leaders and replicas, rounds 1 and 2, 2 slots, 3 commands
    /// (`c1` and `c3` at `r1`, `c2` at `r2`), 3 messages in flight, no duplication, no loss:
    /// 54,185 distinct states with symmetry, in seconds.
    pub const DEFAULT: Bounds = Bounds {
        acceptors: 3,
        leaders: 2,
        max_round: 2,
        slots: 2,
        commands: 3,
        max_messages: 3,
        duplicates: 0,
        lossy: false,
    };

    /// Each bound's value, in the order of [`MultiPaxos`]'s `Layer::PARAMETERS`.
    fn values(&self) -> [usize; 8] {
        [
            self.acceptors,
            self.commands,
            self.slots,
            self.max_round,
            self.max_messages,
            self.duplicates,
            self.leaders,
            self.lossy as usize,
        ]
    }
}

impl Default for Bounds {
    /// [`Bounds::DEFAULT`].
    fn default() -> Self {
        Bounds::DEFAULT
    }
}

/// The number of leaders (and replicas), this layer's own bound: `--leaders`.
pub const LEADERS: Bound = Bound::Named("--leaders");
/// Whether the network may lose messages (1) or not (0), this layer's own bound: `--loss`.
pub const LOSS: Bound = Bound::Named("--loss");

spec_core::mutations! {
    /// A bug planted on purpose, to see which property catches it (none is in force unless
    /// [`MultiPaxos::with_mutation`] is called).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Mutation {
        /// An acceptor accepts a p2a whatever ballot it promised (its promise stays the greater).
        AcceptLowerBallot = "accept-lower-ballot" =>
            "an acceptor accepts a p2a of a ballot below its promise: a new leader's phase 1 \
                misses a value chosen later in a lower ballot (breaks ProposalsAreSafe)",
        /// An adopted leader keeps its own proposals, ignoring the pvalues in the promises (no
        /// `pmax`).
        IgnorePromisedValues = "ignore-promised-values" =>
            "an adopted leader ignores the values in the promises (no pmax) and proposes its \
                own command where another may be chosen (breaks ProposalsAreSafe)",
        /// A commander counts a p2b carrying a greater ballot (a rejection) as an acceptance.
        CommanderCountsRejections = "commander-counts-rejections" =>
            "a commander counts a rejecting p2b as an acceptance and decides what no quorum \
                accepted (breaks DecisionsAreChosen)",
        /// A p2b counts for the leader's current commander of its slot, whichever ballot's p2a it
        /// answers: a late reply to an older ballot's p2a passes for an acceptance of the new one.
        RepliesToCurrentCommander = "replies-to-current-commander" =>
            "a p2b answering an older ballot's p2a counts for the leader's current commander \
                of that slot, so a decision goes out for what no quorum accepted in that ballot \
                (breaks DecisionsAreChosen)",
        /// A scout reports adoption once half the acceptors (rounded down) promised, not a
        /// majority.
        AdoptWithoutMajority = "adopt-without-majority" =>
            "a scout is adopted by a minority of acceptors, so two leaders run phase 2 \
                unaware of each other (breaks ActiveLeadersAdopted)",
    }
}

/// Multi-Paxos at given bounds, as a [`Spec`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiPaxos {
    bounds: Bounds,
    mutation: Option<Mutation>,
}

impl MultiPaxos {
    /// The spec with these bounds, or why they are out of range (the ranges of its
    /// `Layer::PARAMETERS`).
    pub fn new(bounds: Bounds) -> Result<MultiPaxos, ParamsError> {
        for (p, value) in Self::PARAMETERS.iter().zip(bounds.values()) {
            if value < p.min || value > p.max {
                return Err(ParamsError::OutOfRange {
                    layer: Self::NAME,
                    bound: p.bound,
                    value,
                    min: p.min,
                    max: p.max,
                    why: p.help,
                });
            }
        }
        Ok(MultiPaxos {
            bounds,
            mutation: None,
        })
    }

    /// The same spec with a planted bug.
    #[must_use = "with_mutation returns the mutated spec; check that one"]
    pub fn with_mutation(self, mutation: Mutation) -> MultiPaxos {
        MultiPaxos {
            mutation: Some(mutation),
            ..self
        }
    }

    /// The planted bug, if any.
    pub fn mutation(&self) -> Option<Mutation> {
        self.mutation
    }

    /// The bounds.
    pub fn bounds(&self) -> &Bounds {
        &self.bounds
    }
}

impl Spec for MultiPaxos {
    type State = State;
    type Action = Action;

    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> Params {
        let b = &self.bounds;
        let mut params = Params {
            servers: Some(b.acceptors),
            values: Some(b.commands),
            max_log_len: Some(b.slots),
            max_term: Some(b.max_round),
            max_messages: Some(b.max_messages),
            duplicates: Some(b.duplicates),
            ..Params::default()
        };
        params.set(LEADERS, b.leaders);
        params.set(LOSS, b.lossy as usize);
        params
    }

    fn action_names(&self) -> &'static [&'static str] {
        actions::action_names(self.bounds.lossy, self.bounds.duplicates > 0)
    }

    /// One initial state: each client command at one replica (see [`State::initial`]),
    /// nothing promised, accepted or decided, every leader idle, nothing in flight.
    fn init_states(&self) -> Vec<State> {
        let b = &self.bounds;
        vec![State::initial(
            b.acceptors,
            b.leaders,
            b.slots,
            b.commands,
            b.duplicates as u8,
        )]
    }

    fn next_states(&self, state: &State, out: &mut Vec<(Action, State)>) {
        actions::next(state, &self.bounds, self.mutation, out);
    }

    /// The ITF this state's `Serialize` writes, read back at this model's bounds.
    fn read_state(
        &self,
        value: &spec_core::itf::Value,
    ) -> Result<State, spec_core::itf::ReadError> {
        read::read_itf(value, &self.bounds)
    }

    fn step(&self, state: &State, action: &Action) -> Option<State> {
        actions::step(state, &self.bounds, self.mutation, *action)
    }

    fn invariants(&self) -> Vec<Invariant<Self>> {
        vec![
            Invariant {
                name: "OneValuePerSlot",
                holds: |_, s| state::one_value_per_slot(s),
            },
            Invariant {
                name: "ReplicasAgree",
                holds: |_, s| state::replicas_agree(s),
            },
            Invariant {
                name: "DecisionsAreChosen",
                holds: |_, s| state::decisions_are_chosen(s),
            },
            Invariant {
                name: "AcceptedBelowPromised",
                holds: |_, s| state::accepted_below_promised(s),
            },
            Invariant {
                name: "P2aUnique",
                holds: |_, s| state::p2a_unique(s),
            },
            Invariant {
                name: "ProposalsAreSafe",
                holds: |_, s| state::proposals_are_safe(s),
            },
            Invariant {
                name: "ActiveLeadersAdopted",
                holds: |_, s| state::active_leaders_adopted(s),
            },
            Invariant {
                name: "PromisesAreTruthful",
                holds: |_, s| state::promises_are_truthful(s),
            },
        ]
    }

    fn action_properties(&self) -> Vec<ActionProperty<Self>> {
        vec![
            ActionProperty {
                name: "PromisesOnlyGrow",
                holds: |_, pre, _, next| state::promises_only_grow(pre, next),
            },
            ActionProperty {
                name: "DecisionsAreFinal",
                holds: |_, pre, _, next| state::decisions_are_final(pre, next),
            },
        ]
    }

    /// At most `MaxMessages` messages in flight. (Rounds, slots and commands are bounded by
    /// the actions' guards: no step goes past them.)
    fn within_constraint(&self, state: &State) -> bool {
        state::within_bounds(state, self.bounds.max_messages as u8)
    }

    fn has_symmetry(&self) -> bool {
        true
    }

    fn canonical(&self, state: &State) -> State {
        symmetry::canonical(state)
    }
}

impl Layer for MultiPaxos {
    const NAME: &'static str = "multi-paxos";
    const DESCRIPTION: &'static str = "Multi-Paxos (PMMC roles, by messages)";
    /// `--servers` acceptors, `--values` commands, `--max-log-len` slots, `--max-term` the
    /// greatest round, `--max-messages`, `--duplicates`, `--leaders` (and replicas), `--loss`
    /// (defaults: [`Bounds::DEFAULT`]).
    const PARAMETERS: &'static [Parameter] = &[
        Parameter::new(
            Bound::Servers,
            Bounds::DEFAULT.acceptors,
            (1, state::MAX_ACCEPTORS),
            "acceptor arrays hold 5 acceptors",
        ),
        Parameter::new(
            Bound::Values,
            Bounds::DEFAULT.commands,
            (1, state::MAX_COMMANDS),
            "commands c1..c3 and noop are packed in 3 bits",
        ),
        Parameter::new(
            Bound::MaxLogLen,
            Bounds::DEFAULT.slots,
            (1, state::MAX_SLOTS),
            "per-slot arrays and p1b summaries hold 3 slots",
        ),
        Parameter::new(
            Bound::MaxTerm,
            Bounds::DEFAULT.max_round,
            (1, state::MAX_ROUND),
            "ballots are rounds 1..=3 of each leader, packed in 4 bits",
        ),
        Parameter::new(
            Bound::MaxMessages,
            Bounds::DEFAULT.max_messages,
            (1, state::MAX_MESSAGES_BOUND),
            "the network holds MaxMessages plus one broadcast and one duplicate, 18 messages",
        ),
        Parameter::new(
            Bound::Duplicates,
            Bounds::DEFAULT.duplicates,
            (0, 9),
            "a budget beyond 9 duplications only multiplies states",
        ),
        Parameter::new(
            LEADERS,
            Bounds::DEFAULT.leaders,
            (1, state::MAX_LEADERS),
            "leaders (and replicas, one of each per proposer) are 1..=3: ballots hold a leader \
             in 2 bits",
        ),
        Parameter::new(
            LOSS,
            Bounds::DEFAULT.lossy as usize,
            (0, 1),
            "1: the network may lose messages; 0: it does not",
        ),
    ];

    fn from_params(params: &Params) -> Result<Self, ParamsError> {
        let [acceptors, commands, slots, max_round, max_messages, duplicates, leaders, loss] =
            params.resolve::<8>(Self::NAME, Self::PARAMETERS)?;
        MultiPaxos::new(Bounds {
            acceptors,
            leaders,
            max_round,
            slots,
            commands,
            max_messages,
            duplicates,
            lossy: loss == 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn spec(b: Bounds) -> MultiPaxos {
        MultiPaxos::new(b).unwrap()
    }

    /// `Next` by definition: every binding of every action tried with [`actions::step`], each
    /// enabled step once.
    fn next_by_definition(spec: &MultiPaxos, s: &State) -> HashSet<(Action, State)> {
        actions::every_binding(s, spec.bounds())
            .into_iter()
            .filter_map(|a| spec.step(s, &a).map(|t| (a, t)))
            .collect()
    }

    #[test]
    fn next_yields_exactly_the_enabled_steps() {
        let small = Bounds {
            max_round: 2,
            duplicates: 1,
            lossy: true,
            ..Bounds::default()
        };
        // The model on its first 20,000 states, each mutation on its first 2,000 (a mutation
        // changes one handler; the test's cost is the enumeration by definition).
        let mut specs = vec![(spec(small), 20_000)];
        specs.extend(Mutation::ALL.map(|m| (spec(small).with_mutation(m), 2_000)));
        for (spec, limit) in specs {
            let states = spec_core::reachable_states(&spec, limit);
            assert_eq!(states.len(), limit);
            for s in states {
                let mut fast = Vec::new();
                spec.next_states(&s, &mut fast);
                let as_set: HashSet<(Action, State)> = fast.iter().copied().collect();
                assert_eq!(as_set.len(), fast.len(), "no step twice: {s:?}");
                assert_eq!(as_set, next_by_definition(&spec, &s), "{s:?}");
            }
        }
    }

    /// Every action of the default model prints and parses back; bad names are refused.
    #[test]
    fn actions_parse_back() {
        let spec = MultiPaxos::from_params(&Params::default()).unwrap();
        let checked = spec_core::action_text::check_round_trips(&spec, 20_000).unwrap();
        assert!(checked.actions > 20_000, "{}", checked.actions);
        let bad = "Deliver(l1 -> a2: Vote(2))".parse::<Action>().unwrap_err();
        assert!(bad.to_string().contains("no message Vote"), "{bad}");
        let bad = "Deliver(l1 -> l2: P1a(1.l1))"
            .parse::<Action>()
            .unwrap_err();
        assert!(bad.to_string().contains("l2 is not a name a1"), "{bad}");
        let bad = "StartBallot(l300)".parse::<Action>().unwrap_err();
        assert!(bad.to_string().contains("l300 is not a name l1"), "{bad}");
        let ok = "Deliver(a2 -> l1: P1b(1.l1, 1.l2, [none, 1.l1 noop, none]))"
            .parse::<Action>()
            .unwrap();
        assert_eq!(
            ok.to_string(),
            "Deliver(a2 -> l1: P1b(1.l1, 1.l2, [none, 1.l1 noop]))"
        );
    }

    #[test]
    fn bounds_are_validated() {
        let d = Bounds::default();
        for bad in [
            Bounds { acceptors: 6, ..d },
            Bounds { max_round: 4, ..d },
            Bounds { slots: 4, ..d },
            Bounds { commands: 4, ..d },
            Bounds {
                max_messages: 13,
                ..d
            },
            Bounds { leaders: 4, ..d },
        ] {
            assert!(MultiPaxos::new(bad).is_err(), "{bad:?}");
        }
        let e = MultiPaxos::from_params(&Params {
            restarts: Some(1),
            ..Params::default()
        })
        .unwrap_err();
        assert!(matches!(e, ParamsError::Unused { .. }), "{e}");
        assert_eq!(
            MultiPaxos::from_params(&Params::default()).unwrap(),
            spec(d)
        );
    }

    #[test]
    fn mutation_names_round_trip() {
        for m in Mutation::ALL {
            assert_eq!(Mutation::from_name(m.name()), Some(m));
        }
        assert_eq!(Mutation::from_name("none"), None);
    }

    /// Every reachable state of the default model (and the successors just outside its
    /// constraint) packs and unpacks to itself, and reads back from the ITF it writes; bad
    /// values are errors naming the variable.
    #[test]
    fn states_pack_and_read_back_from_their_itf() {
        use spec_core::Pack;
        let spec = spec(Bounds::default());
        let states = spec_core::reachable_states(&spec, usize::MAX);
        for s in &states {
            let mut bytes = Vec::new();
            s.pack(&mut bytes);
            assert_eq!(State::unpack(&mut bytes.as_slice()).as_ref(), Some(s));
        }
        // JSON is slow: every 7th state, which samples every depth.
        for s in states.iter().step_by(7) {
            let value = serde_json::to_value(s).unwrap();
            assert_eq!(spec.read_state(&value).as_ref(), Ok(s), "{value}");
        }
        // The checker's 134,189 distinct states (no symmetry), and those just outside.
        let inside = states.iter().filter(|s| spec.within_constraint(s)).count();
        assert_eq!((inside, states.len()), (134_189, 326_531));
        let mut bad = serde_json::to_value(states[0]).unwrap();
        bad["slotIn"]["#map"][0][0] = serde_json::json!("r3");
        assert_eq!(
            spec.read_state(&bad).unwrap_err().to_string(),
            "variable slotIn: r3 is not one of r1..r2"
        );
        let mut bad = serde_json::to_value(states[0]).unwrap();
        bad["network"] = serde_json::json!({"#set": ["l1 -> a4: P1a(1.l1)"]});
        assert_eq!(
            spec.read_state(&bad).unwrap_err().to_string(),
            "variable network: l1 -> a4: P1a(1.l1) is not a message of this model"
        );
    }
}
