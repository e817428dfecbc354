//! The quorum conditions of the refinement chain, and the safety conditions of
//! `MongoSafeWeakRaft.tla`.
//!
//! MongoStaticRaft is safe because any two quorums overlap: the **StrictQuorumCondition**
//! ([`strict_quorum_condition`]) says so of every pair of configs, and that configs never change.
//! MongoWeakRaft drops it, and is unsafe. What the static proof really needs from overlap is
//! weaker, and says nothing about quorums overlapping each other, only about what each quorum a
//! server could use *now* overlaps: the **WeakQuorumCondition** ([`weak_quorum_condition`]), for
//! every server `s` and quorum `Q` of `config[s]`:
//!
//! - QC_1 ([`qc_1`]): if `s` could be elected by `Q`, some member of `Q` has already reached the
//!   term of every past election (so a second leader of an old term is impossible);
//! - QC_2 ([`qc_2`]): if `s` could be elected by `Q`, some member of `Q` holds each committed
//!   entry (so a new leader's log cannot miss one);
//! - QC_3 ([`qc_3`]): if `s` could commit with `Q`, some member of `Q` has reached the term of
//!   every past election (so an old primary can no longer commit).
//!
//! MongoSafeWeakRaft is MongoWeakRaft restricted to the steps whose next state satisfies the
//! WeakQuorumCondition, from initial states that satisfy it.
//!
//! The enumeration of MongoSafeWeakRaft evaluates the condition on every successor. Since a step
//! changes only one server's config, and the condition is a conjunction over servers of a
//! predicate of the server's config and the other variables, [`QuorumContext`] precomputes
//! everything that does not depend on configs once per protocol step, and then tests each
//! config change in a few bit operations. The unit tests check it against the definition.

use crate::actions::{become_leader_enabled, commit_entry_enabled, set_name};
use crate::guard::{Conjuncts, Holds};
use crate::state::{election_safety, in_log, leader_completeness, Role, State, MAX_SERVERS};
use spec_core::itf::server_name;
use spec_core::ServerSet;

/// QC_1(s, Q): if `s` is electable with `Q`, then for every past election some member of `Q`
/// has a term at least the election's term.
pub fn qc_1(st: &State, s: usize, q: ServerSet) -> bool {
    !become_leader_enabled(st, s, q)
        || st
            .elections
            .iter()
            .all(|e| q.iter().any(|t| st.current_term[t] >= e.term))
}

/// QC_2(s, Q): if `s` is electable with `Q`, then every committed entry is in the log of some
/// member of `Q`.
pub fn qc_2(st: &State, s: usize, q: ServerSet) -> bool {
    !become_leader_enabled(st, s, q)
        || st
            .committed
            .iter()
            .all(|c| q.iter().any(|t| in_log(c.index, c.entry_term, &st.log[t])))
}

/// QC_3(s, Q): if `s` can commit with `Q` (`ENABLED CommitEntry(s, Q)`), then for every past
/// election some member of `Q` has a term at least the election's term.
pub fn qc_3(st: &State, s: usize, q: ServerSet) -> bool {
    !commit_entry_enabled(st, s, q)
        || st
            .elections
            .iter()
            .all(|e| q.iter().any(|t| st.current_term[t] >= e.term))
}

/// WeakQuorumCondition, as its conjuncts: QC_1, QC_2 and QC_3 for every server and every
/// quorum of its config (`QuorumsAt(s)`). A false conjunct is described primed, as in
/// MongoSafeWeakRaft's `Next == MWR!Next /\ WeakQuorumCondition'`, where the condition is a
/// guard on the next state: `QC_1(n2, {n2, n3})'`.
pub fn weak_quorum_condition_guard(st: &State, g: &mut impl Conjuncts) -> bool {
    st.server_ids().all(|s| {
        st.config[s].quorums().all(|q| {
            let instance = |qc: &str| format!("{qc}({}, {})'", server_name(s), set_name(q));
            g.conjunct(qc_1(st, s, q), || instance("QC_1"))
                && g.conjunct(qc_2(st, s, q), || instance("QC_2"))
                && g.conjunct(qc_3(st, s, q), || instance("QC_3"))
        })
    })
}

/// WeakQuorumCondition: QC_1, QC_2 and QC_3 hold for every server and every quorum of its
/// config (`QuorumsAt(s)`).
pub fn weak_quorum_condition(st: &State) -> bool {
    weak_quorum_condition_guard(st, &mut Holds)
}

/// `QuorumsOverlap(x, y)`: every quorum of `x` intersects every quorum of `y` (spec-core's,
/// tested against this definition).
pub use spec_core::servers::quorums_overlap;

/// StrictQuorumCondition, the action property `[][...]_vars` over the step `pre -> next`: the
/// step is a stutter, or every two servers' configs have overlapping quorums and no config
/// changes. MongoStaticRaft satisfies it; MongoWeakRaft and MongoSafeWeakRaft do not.
pub fn strict_quorum_condition(pre: &State, next: &State) -> bool {
    pre == next
        || pre.server_ids().all(|s| {
            pre.config[s] == next.config[s]
                && pre
                    .server_ids()
                    .all(|t| quorums_overlap(pre.config[s], pre.config[t]))
        })
}

// ---------------------------------------------------------------------------------------------
// TermSafetyCondition and the history-graph invariant of MongoSafeWeakRaft
// ---------------------------------------------------------------------------------------------

/// TS2: once an election happened in term `T`, no primary of a term below `T` can commit with
/// any quorum of its config.
pub fn ts2(st: &State) -> bool {
    let newest = st.elections.max_term();
    st.server_ids()
        .filter(|&s| st.state[s] == Role::Primary && st.current_term[s] < newest)
        .all(|s| {
            st.config[s]
                .quorums()
                .all(|q| !commit_entry_enabled(st, s, q))
        })
}

/// TermSafetyCondition: TS1 (one leader per term: ElectionSafety), TS2 ([`ts2`]) and TS3 (a
/// primary holds every entry committed in an earlier term: LeaderCompleteness).
pub fn term_safety_condition(st: &State) -> bool {
    election_safety(st) && ts2(st) && leader_completeness(st)
}

/// The node key of a log entry `<<index, term>>` in the history graph: 8 terms per index.
fn node(index: usize, term: u8) -> usize {
    (index - 1) * 8 + term as usize
}

/// CommittedEntryImpliesLesserSiblingTerms: in the history graph whose edges link consecutive
/// entries of some log (`HistoryEdges`), if an entry `c1` is committed, every entry `c2` on
/// another branch (`Siblings(c1, c2)`: they have a common ancestor and neither is an ancestor of
/// the other) has a lower term.
///
/// Ancestry is reachability along edges; an entry is its own ancestor. The TLC model bounds the
/// paths it searches by `MaxLogLen` entries (`Seq <- BoundedSeq`); that bound only matters in
/// states outside the constraint, where this port follows the definition without the bound.
pub fn committed_entry_implies_lesser_sibling_terms(st: &State) -> bool {
    const NODES: usize = crate::state::LOG_CAPACITY * 8;
    // Which entries are nodes (endpoints of an edge), and each node's successors.
    let mut nodes: u64 = 0;
    let mut succ = [0u64; NODES];
    for s in st.server_ids() {
        let log = st.log[s].as_slice();
        for k in 1..log.len() {
            let (a, b) = (node(k, log[k - 1]), node(k + 1, log[k]));
            nodes |= (1 << a) | (1 << b);
            succ[a] |= 1 << b;
        }
    }
    if nodes == 0 {
        return true;
    }
    // Descendants (including itself) of every node; edges go from index k to k + 1, so nodes in
    // decreasing key order see their successors' sets complete.
    let mut desc = [0u64; NODES];
    for a in (0..NODES).rev().filter(|&a| nodes & (1 << a) != 0) {
        let mut d = 1u64 << a;
        let mut rest = succ[a];
        while rest != 0 {
            let b = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            d |= desc[b];
        }
        desc[a] = d;
    }
    let ancestor = |a: usize, b: usize| desc[a] & (1 << b) != 0;
    let members = |set: u64| (0..NODES).filter(move |&k| set & (1 << k) != 0);
    let siblings = |c1: usize, c2: usize| {
        members(nodes).any(|ca| ancestor(ca, c1) && ancestor(ca, c2))
            && !ancestor(c1, c2)
            && !ancestor(c2, c1)
    };
    let term_of = |c: usize| (c % 8) as u8;
    members(nodes)
        .filter(|&c1| {
            let (index, term) = ((c1 / 8 + 1) as u8, term_of(c1));
            st.committed.contains_entry(index, term)
        })
        .all(|c1| members(nodes).all(|c2| !siblings(c1, c2) || term_of(c2) < term_of(c1)))
}

// ---------------------------------------------------------------------------------------------
// Fast evaluation of the WeakQuorumCondition across config changes
// ---------------------------------------------------------------------------------------------

/// Everything the WeakQuorumCondition needs from a state except its configs, so that the
/// condition can be tested for each config a step may set in a few bit operations.
#[derive(Clone, Debug)]
pub struct QuorumContext {
    /// For each candidate `s`, the servers that can vote for it in its next term: `s` is
    /// electable with `Q` iff `s ∈ Q ⊆ voters[s]`.
    voters: [ServerSet; MAX_SERVERS],
    /// For each server `s` whose commit guard holds apart from the quorum, the servers that hold
    /// its last entry in its term: it can commit with `Q` iff `Q ⊆ committers[s]`.
    committers: [Option<ServerSet>; MAX_SERVERS],
    /// The servers whose term is at least every election's term, if there was an election: QC_1
    /// and QC_3 ask a quorum to meet this set.
    newest: Option<ServerSet>,
    /// For each distinct committed entry, the servers that hold it: QC_2 asks a quorum to meet
    /// each of these sets.
    holders: [ServerSet; 32],
    /// How many of `holders` are used.
    holder_count: usize,
}

impl QuorumContext {
    /// The context of `st` (its configs are ignored).
    pub fn new(st: &State) -> QuorumContext {
        let mut ctx = QuorumContext {
            voters: [ServerSet::EMPTY; MAX_SERVERS],
            committers: [None; MAX_SERVERS],
            newest: None,
            holders: [ServerSet::EMPTY; 32],
            holder_count: 0,
        };
        for s in st.server_ids() {
            ctx.voters[s] = st
                .server_ids()
                .filter(|&v| crate::actions::can_vote_for_oplog(st, v, s, &mut Holds))
                .fold(ServerSet::EMPTY, ServerSet::with);
            let ind = st.log[s].len() as u8;
            let term = st.current_term[s];
            if ind > 0
                && st.state[s] == Role::Primary
                && st.log[s].last() == Some(term)
                && !st.committed.contains_entry(ind, term)
            {
                ctx.committers[s] = Some(
                    st.server_ids()
                        .filter(|&t| in_log(ind, term, &st.log[t]) && st.current_term[t] == term)
                        .fold(ServerSet::EMPTY, ServerSet::with),
                );
            }
        }
        if !st.elections.is_empty() {
            let newest = st.elections.max_term();
            ctx.newest = Some(
                st.server_ids()
                    .filter(|&t| st.current_term[t] >= newest)
                    .fold(ServerSet::EMPTY, ServerSet::with),
            );
        }
        let mut last = None;
        for c in st.committed.iter() {
            // Records are ordered by entry, so records of one entry are adjacent.
            if last == Some((c.index, c.entry_term)) {
                continue;
            }
            last = Some((c.index, c.entry_term));
            ctx.holders[ctx.holder_count] = st
                .server_ids()
                .filter(|&t| in_log(c.index, c.entry_term, &st.log[t]))
                .fold(ServerSet::EMPTY, ServerSet::with);
            ctx.holder_count += 1;
        }
        ctx
    }

    fn meets_newest(&self, q: ServerSet) -> bool {
        self.newest.is_none_or(|n| n.0 & q.0 != 0)
    }

    /// QC_1, QC_2 and QC_3 for server `s` and every quorum of `config`, in a state with this
    /// context in which `config[s] = config`.
    pub fn holds_for(&self, s: usize, config: ServerSet) -> bool {
        config.quorums().all(|q| {
            let electable = q.contains(s) && q.is_subset(self.voters[s]);
            let can_commit = self.committers[s].is_some_and(|c| q.is_subset(c));
            let qc_1_3 = !(electable || can_commit) || self.meets_newest(q);
            let qc_2 = !electable
                || self.holders[..self.holder_count]
                    .iter()
                    .all(|h| h.0 & q.0 != 0);
            qc_1_3 && qc_2
        })
    }

    /// The WeakQuorumCondition in `st`, whose context this is.
    pub fn holds(&self, st: &State) -> bool {
        st.server_ids().all(|s| self.holds_for(s, st.config[s]))
    }
}
