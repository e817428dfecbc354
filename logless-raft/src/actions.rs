//! The four actions of MongoLoglessDynamicRaft, each as a guard (`*_enabled`) and an effect
//! (`*_effect`) over the [`ConfigVars`] and [`ConfigVarsMut`] traits, so that a composed state
//! can run them, and as one method of [`LoglessRaft`] on [`State`] (guard then effect).
//!
//! Every guard is the conjunction of the conjuncts the TLA+ action lists; [`Mutation`] names
//! each conjunct, and every guard takes the mutation in force (`None` for the real protocol),
//! so that a mutation test can drop exactly one of them. An effect reads only `pre` and writes
//! only what the TLA+ action assigns into `next`.

use std::fmt;

use spec_core::itf::server_name;
use spec_core::{Server, ServerSet};

use crate::state::{
    config_quorum_check, config_quorum_witnesses, is_majority, is_newer_config,
    is_newer_or_equal_config, joint_quorum_check, quorums_overlap, term_quorum_check,
    term_quorum_witnesses, ConfigVars, ConfigVarsMut, Role, State,
};
use crate::LoglessRaft;

/// One step of MongoLoglessDynamicRaft: an action with the values its quantifiers bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `Reconfig(i, newConfig)`: primary `i` installs `new_config`.
    Reconfig {
        /// The primary.
        i: Server,
        /// The config it installs.
        new_config: ServerSet,
    },
    /// `SendConfig(i, j)`: `j` adopts the newer config of `i`.
    SendConfig {
        /// The sender.
        i: Server,
        /// The receiver.
        j: Server,
    },
    /// `BecomeLeader(i, voteQuorum)`: `i` is elected in the next term by `vote_quorum`.
    BecomeLeader {
        /// The candidate.
        i: Server,
        /// The voters, a quorum of `config[i]`.
        vote_quorum: ServerSet,
    },
    /// `UpdateTerms(i, j)`: `j` learns the newer term of `i` and steps down.
    UpdateTerms {
        /// The server with the newer term.
        i: Server,
        /// The server that adopts it.
        j: Server,
    },
}

/// The action names, in the order `Next` lists them.
pub const ACTION_NAMES: &[&str] = &["Reconfig", "SendConfig", "BecomeLeader", "UpdateTerms"];

impl spec_core::Action for Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Reconfig { .. } => "Reconfig",
            Action::SendConfig { .. } => "SendConfig",
            Action::BecomeLeader { .. } => "BecomeLeader",
            Action::UpdateTerms { .. } => "UpdateTerms",
        }
    }
}

/// Writes a set of servers in TLA+ notation, such as `{n1, n3}`.
pub(crate) fn write_set(f: &mut fmt::Formatter<'_>, set: ServerSet) -> fmt::Result {
    f.write_str("{")?;
    for (k, s) in set.iter().enumerate() {
        if k > 0 {
            f.write_str(", ")?;
        }
        f.write_str(&server_name(s))?;
    }
    f.write_str("}")
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = spec_core::Action::name(self);
        match *self {
            Action::Reconfig { i, new_config: set }
            | Action::BecomeLeader {
                i,
                vote_quorum: set,
            } => {
                write!(f, "{name}({}, ", server_name(i as usize))?;
                write_set(f, set)?;
                f.write_str(")")
            }
            Action::SendConfig { i, j } | Action::UpdateTerms { i, j } => write!(
                f,
                "{name}({}, {})",
                server_name(i as usize),
                server_name(j as usize)
            ),
        }
    }
}

/// Reads the text `Display` writes: `Reconfig(n1, {n1, n2})`, `SendConfig(n1, n2)`,
/// `BecomeLeader(n1, {n1, n2})`, `UpdateTerms(n2, n1)`. Any server number below 256 is read;
/// whether the model has it is `Spec::step`'s question.
impl std::str::FromStr for Action {
    type Err = spec_core::ParseActionError;

    fn from_str(text: &str) -> Result<Action, spec_core::ParseActionError> {
        use spec_core::action_text::{parse, server_set, unknown};
        let server = spec_core::action_text::server;
        parse(text, |name, args| {
            Ok(match (name, args) {
                ("Reconfig", [i, c]) => Action::Reconfig {
                    i: server(i)?,
                    new_config: server_set(c)?,
                },
                ("SendConfig", [i, j]) => Action::SendConfig {
                    i: server(i)?,
                    j: server(j)?,
                },
                ("BecomeLeader", [i, q]) => Action::BecomeLeader {
                    i: server(i)?,
                    vote_quorum: server_set(q)?,
                },
                ("UpdateTerms", [i, j]) => Action::UpdateTerms {
                    i: server(i)?,
                    j: server(j)?,
                },
                _ => {
                    return Err(unknown(
                        name,
                        args,
                        &[
                            "Reconfig(i, newConfig)",
                            "SendConfig(i, j)",
                            "BecomeLeader(i, voteQuorum)",
                            "UpdateTerms(i, j)",
                        ],
                    ))
                }
            })
        })
    }
}

/// Whether `action` is a binding of `Next` in a state with `servers` servers: the servers it
/// names are among them, Reconfig's `newConfig` is in `SUBSET Server`, and BecomeLeader's
/// `voteQuorum` is one of `Quorums(config[i])`. The guards say the rest.
pub fn in_model<V: ConfigVars + ?Sized>(v: &V, servers: usize, action: Action) -> bool {
    let server = |s: u8| (s as usize) < servers;
    match action {
        Action::Reconfig { i, new_config } => {
            server(i) && new_config.is_subset(ServerSet::all(servers))
        }
        Action::SendConfig { i, j } | Action::UpdateTerms { i, j } => server(i) && server(j),
        Action::BecomeLeader { i, vote_quorum } => {
            server(i) && {
                let config = v.config(i as usize);
                vote_quorum.is_subset(config) && is_majority(vote_quorum.len(), config)
            }
        }
    }
}

spec_core::mutations! {
    /// One guard conjunct to drop, making a mutant of the spec: a teaching and testing device
    /// for showing what each condition protects. [`LoglessRaft::with_mutation`] puts one in
    /// force; the spec has none unless asked. Each variant names the conjunct it drops, except the
    /// last two, which get one assignment of a joint action's effect wrong (to show that
    /// MongoRaftReconfig, which runs these effects as one half of a joint step, sees the bug).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Mutation {
        /// Reconfig without `state[i] = Primary`: any server may reconfigure.
        ReconfigSkipsPrimaryCheck = "reconfig-skips-primary-check" =>
            "any server may reconfigure, not only a primary",
        /// Reconfig without `ConfigQuorumCheck(i)`: a primary may reconfigure before its current
        /// config is committed (held by a quorum of it).
        ReconfigSkipsConfigQuorumCheck = "reconfig-skips-config-quorum-check" =>
            "a primary may reconfigure before a quorum holds its current config",
        /// Reconfig without `TermQuorumCheck(i)`: a primary may reconfigure before a quorum of its
        /// config has learned its term, so a deposed primary can still reconfigure.
        ReconfigSkipsTermQuorumCheck = "reconfig-skips-term-quorum-check" =>
            "a primary may reconfigure before a quorum of its config has its term",
        /// Reconfig with a weakened `TermQuorumCheck(i)`: a quorum member passes with
        /// `currentTerm[t] >= currentTerm[i]`, not `=` ([`has_term_of`](crate::has_term_of)), so a
        /// primary deposed by a newer term may still reconfigure. The same test is the term half of
        /// [`joint_quorum_check`], which the edge `logless-raft ->
        /// dynamic-raft` uses in its place.
        TermQuorumCheckWeakened = "term-quorum-check-weakened" =>
            "TermQuorumCheck asks a quorum in a term >= the primary's, not = (a deposed \
                primary may reconfigure)",
        /// Reconfig without `QuorumsOverlap(config[i], newConfig)`: the new config's quorums need
        /// not meet the old one's.
        ReconfigSkipsQuorumsOverlap = "reconfig-skips-quorums-overlap" =>
            "the new config's quorums need not overlap the old config's",
        /// Reconfig without `i \in newConfig`: a primary may install a config without itself (the
        /// empty config included).
        ReconfigMayRemoveSelf = "reconfig-may-remove-self" =>
            "a primary may install a config without itself",
        /// SendConfig without `state[j] = Secondary`: a primary may adopt another's config.
        SendConfigToPrimary = "send-config-to-primary" =>
            "a primary may adopt another server's config",
        /// SendConfig without `IsNewerConfig(i, j)`: a server may adopt an older or equal config.
        SendConfigSkipsNewerCheck = "send-config-skips-newer-check" =>
            "a server may adopt an older or equal config",
        /// BecomeLeader without `i \in config[i]`: a server outside its own config may be elected.
        LeaderOutsideConfig = "leader-outside-config" =>
            "a server outside its own config may be elected",
        /// BecomeLeader without `i \in voteQuorum`: the candidate need not vote for itself.
        LeaderOutsideQuorum = "leader-outside-quorum" =>
            "the candidate need not be in its vote quorum",
        /// BecomeLeader without the term half of `CanVoteForConfig` (`currentTerm[v] < term`): a
        /// server may vote twice in one term.
        VoteIgnoresTerm = "vote-ignores-term" =>
            "a server may vote twice in one term",
        /// BecomeLeader without the config half of `CanVoteForConfig`
        /// (`IsNewerOrEqualConfig(i, v)`): voters need not check that the candidate's config is up
        /// to date.
        VoteIgnoresConfig = "vote-ignores-config" =>
            "voters need not check the candidate's config is up to date",
        /// UpdateTerms without `currentTerm[i] > currentTerm[j]`: a server may adopt an older term.
        UpdateTermsSkipsNewerCheck = "update-terms-skips-newer-check" =>
            "a server may adopt an older term",
        /// Not a dropped conjunct but a wrong assignment: BecomeLeader's effect moves only the
        /// candidate to the new term, the other voters keep their older terms (a wrong
        /// `currentTerm'`), so they can vote again in that term. In MongoRaftReconfig the oplog
        /// machine's half of the joint step writes the right terms, and the halves disagree.
        VotersKeepTheirTerm = "voters-keep-their-term" =>
            "BecomeLeader moves only the candidate to the new term (effect): a voter may \
                vote twice in one term",
        /// Not a dropped conjunct but a missing assignment: UpdateTerms' effect adopts the newer
        /// term without stepping down (no `state'`), so a primary stays Primary in a term that has
        /// its own primary. In MongoRaftReconfig the halves of the joint step disagree on `state`.
        UpdateTermsKeepsRole = "update-terms-keeps-role" =>
            "UpdateTerms does not step a primary down (effect)",
        /// A missing assignment: BecomeLeader does not stamp the new primary's config with its term
        /// (no `configTerm'`), so the config keeps the term of an older primary, and configs of
        /// different primaries compare as if from one term. Needs a reconfig after two elections:
        /// found from 3 servers with MaxTerm 3 (see the README's table of smallest bounds).
        BecomeLeaderKeepsConfigTerm = "become-leader-keeps-config-term" =>
            "BecomeLeader does not stamp the new primary's config with its term (effect)",
    }
}

/// `condition`, unless `mutation` drops it: the conjunct of a guard that [`Mutation`] `this`
/// names.
fn conjunct(mutation: Option<Mutation>, this: Mutation, condition: bool) -> bool {
    mutation == Some(this) || condition
}

// ---------------------------------------------------------------------------------------------
// Reconfig(i, newConfig)
// ---------------------------------------------------------------------------------------------

/// The quorum checks of Reconfig's guard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum QuorumChecks {
    /// MongoLoglessDynamicRaft as written: `ConfigQuorumCheck(i) /\ TermQuorumCheck(i)`, each
    /// with a quorum of its own.
    #[default]
    Independent,
    /// The generalization the edge `logless-raft -> dynamic-raft` checks (see
    /// [`crate::refinement`]): `JointQuorumCheck(i)` ([`joint_quorum_check`]) in their place,
    /// one quorum whose members pass both checks' per-member tests.
    Joint,
}

/// How many successors TLC generates for each enabled `Reconfig(i, newConfig)`; zero when the
/// part of the guard that does not depend on the new config is false.
///
/// That part is: `i` is Primary, and both quorum checks hold in `config[i]`, independently of
/// each other: one quorum has `i`'s config (version and term), one quorum (maybe another) is in
/// `i`'s term. The quorum checks are existential guards (`\E Q \in Quorums(config[i])`), and
/// TLC's enumeration of an action yields one successor per witness, so the count is the number
/// of config-quorum witnesses times the number of term-quorum witnesses (a dropped check counts
/// as one). A composition that reproduces TLC's "generated" counts multiplies its own
/// witnesses by this.
pub fn reconfig_witnesses<V: ConfigVars + ?Sized>(
    v: &V,
    i: usize,
    mutation: Option<Mutation>,
) -> usize {
    reconfig_witnesses_with(v, i, QuorumChecks::Independent, mutation)
}

/// [`reconfig_witnesses`] with the quorum checks `checks`. With [`QuorumChecks::Joint`] the
/// guard's quorum condition is [`joint_quorum_check`] alone (it implies both of the spec's);
/// where it holds, the count stays the spec's product of the witnesses of the two checks, so the
/// joint variant generates exactly the spec's Reconfig steps that have a joint quorum (the
/// counts the edge's TLC cross-check produced).
pub fn reconfig_witnesses_with<V: ConfigVars + ?Sized>(
    v: &V,
    i: usize,
    checks: QuorumChecks,
    mutation: Option<Mutation>,
) -> usize {
    let primary = conjunct(
        mutation,
        Mutation::ReconfigSkipsPrimaryCheck,
        v.role(i) == Role::Primary,
    );
    if !primary || (checks == QuorumChecks::Joint && !joint_quorum_check(v, i, mutation)) {
        return 0;
    }
    let config_witnesses = if mutation == Some(Mutation::ReconfigSkipsConfigQuorumCheck) {
        1
    } else {
        config_quorum_witnesses(v, i)
    };
    let term_witnesses = if mutation == Some(Mutation::ReconfigSkipsTermQuorumCheck) {
        1
    } else {
        term_quorum_witnesses(v, i, mutation)
    };
    config_witnesses * term_witnesses
}

/// The part of Reconfig's guard about the new config: its quorums all meet the quorums of
/// `config[i]` (`QuorumsOverlap`), and it contains `i`.
pub fn reconfig_new_config_ok<V: ConfigVars + ?Sized>(
    v: &V,
    i: usize,
    new_config: ServerSet,
    mutation: Option<Mutation>,
) -> bool {
    conjunct(
        mutation,
        Mutation::ReconfigSkipsQuorumsOverlap,
        quorums_overlap(v.config(i), new_config),
    ) && conjunct(
        mutation,
        Mutation::ReconfigMayRemoveSelf,
        new_config.contains(i),
    )
}

/// Guard of `Reconfig(i, newConfig)`: `i` is Primary, its config is committed (held by a quorum
/// of it, `ConfigQuorumCheck`), its term is known to a quorum of it (`TermQuorumCheck`), the
/// new config's quorums overlap the old one's, and the new config contains `i`.
pub fn reconfig_enabled<V: ConfigVars + ?Sized>(
    v: &V,
    i: usize,
    new_config: ServerSet,
    mutation: Option<Mutation>,
) -> bool {
    reconfig_enabled_with(v, i, new_config, QuorumChecks::Independent, mutation)
}

/// [`reconfig_enabled`] with the quorum checks `checks` (see [`QuorumChecks`]).
pub fn reconfig_enabled_with<V: ConfigVars + ?Sized>(
    v: &V,
    i: usize,
    new_config: ServerSet,
    checks: QuorumChecks,
    mutation: Option<Mutation>,
) -> bool {
    reconfig_witnesses_with(v, i, checks, mutation) > 0
        && reconfig_new_config_ok(v, i, new_config, mutation)
}

/// Effect of `Reconfig(i, newConfig)`: `config[i]` becomes `new_config`, `configVersion[i]` goes
/// up by one and `configTerm[i]` becomes `currentTerm[i]`. Unchanged: currentTerm, state.
pub fn reconfig_effect<P, N>(pre: &P, next: &mut N, i: usize, new_config: ServerSet)
where
    P: ConfigVars + ?Sized,
    N: ConfigVarsMut + ?Sized,
{
    next.set_config_term(i, pre.current_term(i));
    next.set_config_version(i, pre.config_version(i) + 1);
    next.set_config(i, new_config);
}

// ---------------------------------------------------------------------------------------------
// SendConfig(i, j)
// ---------------------------------------------------------------------------------------------

/// Guard of `SendConfig(i, j)`: `j` is Secondary and `i`'s config is newer than `j`'s.
pub fn send_config_enabled<V: ConfigVars + ?Sized>(
    v: &V,
    i: usize,
    j: usize,
    mutation: Option<Mutation>,
) -> bool {
    conjunct(
        mutation,
        Mutation::SendConfigToPrimary,
        v.role(j) == Role::Secondary,
    ) && conjunct(
        mutation,
        Mutation::SendConfigSkipsNewerCheck,
        is_newer_config(v, i, j),
    )
}

/// Effect of `SendConfig(i, j)`: `j` takes `i`'s config, config version and config term.
/// Unchanged: currentTerm, state.
pub fn send_config_effect<P, N>(pre: &P, next: &mut N, i: usize, j: usize)
where
    P: ConfigVars + ?Sized,
    N: ConfigVarsMut + ?Sized,
{
    next.set_config_version(j, pre.config_version(i));
    next.set_config_term(j, pre.config_term(i));
    next.set_config(j, pre.config(i));
}

// ---------------------------------------------------------------------------------------------
// BecomeLeader(i, voteQuorum)
// ---------------------------------------------------------------------------------------------

/// `CanVoteForConfig(v, i, term)`: voter `voter`'s term is below `term` and candidate `i`'s
/// config is newer than or equal to the voter's.
pub fn can_vote_for_config<V: ConfigVars + ?Sized>(
    v: &V,
    voter: usize,
    i: usize,
    term: u8,
    mutation: Option<Mutation>,
) -> bool {
    conjunct(
        mutation,
        Mutation::VoteIgnoresTerm,
        v.current_term(voter) < term,
    ) && conjunct(
        mutation,
        Mutation::VoteIgnoresConfig,
        is_newer_or_equal_config(v, i, voter),
    )
}

/// Guard of `BecomeLeader(i, voteQuorum)`: `i` is in its own config and in the quorum, and every
/// member of the quorum can vote for `i` in the term after `i`'s. The quorum ranges over
/// `Quorums(config[i])` in the caller.
pub fn become_leader_enabled<V: ConfigVars + ?Sized>(
    v: &V,
    i: usize,
    vote_quorum: ServerSet,
    mutation: Option<Mutation>,
) -> bool {
    let new_term = v.current_term(i) + 1;
    conjunct(
        mutation,
        Mutation::LeaderOutsideConfig,
        v.config(i).contains(i),
    ) && conjunct(
        mutation,
        Mutation::LeaderOutsideQuorum,
        vote_quorum.contains(i),
    ) && vote_quorum
        .iter()
        .all(|voter| can_vote_for_config(v, voter, i, new_term, mutation))
}

/// Effect of `BecomeLeader(i, voteQuorum)`: an atomic election. Every voter moves to the term
/// after `i`'s ([`Mutation::VotersKeepTheirTerm`] moves `i` only); `i` becomes Primary and the
/// other voters Secondary; `i`'s config is stamped with the new term (`configTerm[i]`).
/// Unchanged: config, configVersion.
///
/// On the shared variables (`currentTerm`, `state`, `config`) this writes what
/// MongoStaticRaft's BecomeLeader writes; MongoRaftReconfig's joint step exists only where the
/// two agree.
pub fn become_leader_effect<P, N>(
    pre: &P,
    next: &mut N,
    i: usize,
    vote_quorum: ServerSet,
    mutation: Option<Mutation>,
) where
    P: ConfigVars + ?Sized,
    N: ConfigVarsMut + ?Sized,
{
    let new_term = pre.current_term(i) + 1;
    for voter in vote_quorum.iter() {
        if voter == i || mutation != Some(Mutation::VotersKeepTheirTerm) {
            next.set_current_term(voter, new_term);
        }
        next.set_role(voter, Role::Secondary);
    }
    next.set_role(i, Role::Primary);
    if mutation != Some(Mutation::BecomeLeaderKeepsConfigTerm) {
        next.set_config_term(i, new_term);
    }
}

// ---------------------------------------------------------------------------------------------
// UpdateTerms(i, j)
// ---------------------------------------------------------------------------------------------

/// Guard of `UpdateTerms(i, j)`: `i`'s term is newer than `j`'s.
pub fn update_terms_enabled<V: ConfigVars + ?Sized>(
    v: &V,
    i: usize,
    j: usize,
    mutation: Option<Mutation>,
) -> bool {
    conjunct(
        mutation,
        Mutation::UpdateTermsSkipsNewerCheck,
        v.current_term(i) > v.current_term(j),
    )
}

/// Effect of `UpdateTerms(i, j)` (`UpdateTermsExpr`): `j` adopts `i`'s term and steps down to
/// Secondary (keeps its role under [`Mutation::UpdateTermsKeepsRole`]). Unchanged:
/// configVersion, configTerm, config. The same effect as MongoStaticRaft's UpdateTerms.
pub fn update_terms_effect<P, N>(
    pre: &P,
    next: &mut N,
    i: usize,
    j: usize,
    mutation: Option<Mutation>,
) where
    P: ConfigVars + ?Sized,
    N: ConfigVarsMut + ?Sized,
{
    next.set_current_term(j, pre.current_term(i));
    if mutation != Some(Mutation::UpdateTermsKeepsRole) {
        next.set_role(j, Role::Secondary);
    }
}

// ---------------------------------------------------------------------------------------------
// Any action
// ---------------------------------------------------------------------------------------------

/// Whether `action` is enabled in `v`.
#[inline]
pub fn enabled<V: ConfigVars + ?Sized>(v: &V, action: Action, mutation: Option<Mutation>) -> bool {
    let server = |s: u8| s as usize;
    match action {
        Action::Reconfig { i, new_config } => reconfig_enabled(v, server(i), new_config, mutation),
        Action::SendConfig { i, j } => send_config_enabled(v, server(i), server(j), mutation),
        Action::BecomeLeader { i, vote_quorum } => {
            become_leader_enabled(v, server(i), vote_quorum, mutation)
        }
        Action::UpdateTerms { i, j } => update_terms_enabled(v, server(i), server(j), mutation),
    }
}

/// Applies the effect of `action` (whose guard holds in `pre`) to `next`, with `mutation` in
/// force (`None` for the spec; only the effect mutations change an effect).
#[inline]
pub fn apply<P, N>(pre: &P, next: &mut N, action: Action, mutation: Option<Mutation>)
where
    P: ConfigVars + ?Sized,
    N: ConfigVarsMut + ?Sized,
{
    let server = |s: u8| s as usize;
    match action {
        Action::Reconfig { i, new_config } => reconfig_effect(pre, next, server(i), new_config),
        Action::SendConfig { i, j } => send_config_effect(pre, next, server(i), server(j)),
        Action::BecomeLeader { i, vote_quorum } => {
            become_leader_effect(pre, next, server(i), vote_quorum, mutation)
        }
        Action::UpdateTerms { i, j } => {
            update_terms_effect(pre, next, server(i), server(j), mutation)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The actions on State, and Next
// ---------------------------------------------------------------------------------------------

impl LoglessRaft {
    /// `Reconfig(i, newConfig)`: a primary whose config is committed and whose term a quorum of
    /// it knows installs a new config whose quorums overlap the old one's, stamped with its term
    /// and the next version. `None` when not enabled.
    pub fn reconfig(&self, s: &State, i: usize, new_config: ServerSet) -> Option<State> {
        reconfig_enabled_with(s, i, new_config, self.quorum_checks, self.mutation).then(|| {
            let mut next = *s;
            reconfig_effect(s, &mut next, i, new_config);
            next
        })
    }

    /// `SendConfig(i, j)`: secondary `j` adopts the newer config of `i`.
    pub fn send_config(&self, s: &State, i: usize, j: usize) -> Option<State> {
        send_config_enabled(s, i, j, self.mutation).then(|| {
            let mut next = *s;
            send_config_effect(s, &mut next, i, j);
            next
        })
    }

    /// `BecomeLeader(i, voteQuorum)`: `i` wins the election of the next term with the votes of
    /// `vote_quorum`, which must be one of `Quorums(config[i])` (not checked here).
    pub fn become_leader(&self, s: &State, i: usize, vote_quorum: ServerSet) -> Option<State> {
        become_leader_enabled(s, i, vote_quorum, self.mutation).then(|| {
            let mut next = *s;
            become_leader_effect(s, &mut next, i, vote_quorum, self.mutation);
            next
        })
    }

    /// `UpdateTerms(i, j)`: `j` adopts `i`'s newer term and becomes Secondary.
    pub fn update_terms(&self, s: &State, i: usize, j: usize) -> Option<State> {
        update_terms_enabled(s, i, j, self.mutation).then(|| {
            let mut next = *s;
            update_terms_effect(s, &mut next, i, j, self.mutation);
            next
        })
    }

    /// Appends one successor per satisfying binding of the quantifiers `Next` ranges over, in
    /// `Next`'s order: `Reconfig(s, newConfig)` for `s` in `Server` and `newConfig` in
    /// `SUBSET Server`; `SendConfig(s, t)`; `BecomeLeader(i, Q)` for `Q` in
    /// `Quorums(config[i])`; and `UpdateTerms(s, t)`. Equal successors of different bindings
    /// are all kept, as TLC counts them. TLC also generates a Reconfig step once per pair of
    /// witnesses of its two quorum checks: those copies are counted by `Spec::copies` (see
    /// [`reconfig_witnesses`]), not built.
    ///
    /// The result, each step repeated by its copies, is what trying every binding with
    /// [`enabled`] and [`apply`] gives (a unit test checks it); the enumeration only skips
    /// bindings that cannot be enabled.
    pub fn next(&self, s: &State, out: &mut Vec<(Action, State)>) {
        let mutation = self.mutation;
        let servers = s.server_ids();
        let all = s.server_set();
        for i in servers.clone() {
            if reconfig_witnesses_with(s, i, self.quorum_checks, mutation) == 0 {
                continue;
            }
            for new_config in all.subsets() {
                if reconfig_new_config_ok(s, i, new_config, mutation) {
                    let action = Action::Reconfig {
                        i: i as u8,
                        new_config,
                    };
                    let mut next = *s;
                    reconfig_effect(s, &mut next, i, new_config);
                    out.push((action, next));
                }
            }
        }
        for i in servers.clone() {
            for j in servers.clone() {
                if send_config_enabled(s, i, j, mutation) {
                    let action = Action::SendConfig {
                        i: i as u8,
                        j: j as u8,
                    };
                    let mut next = *s;
                    send_config_effect(s, &mut next, i, j);
                    out.push((action, next));
                }
            }
        }
        for i in servers.clone() {
            let config = s.config[i];
            if !conjunct(mutation, Mutation::LeaderOutsideConfig, config.contains(i)) {
                continue;
            }
            // The members of config[i] that can vote for i: every quorum of config[i] inside
            // this set (and holding i, unless that conjunct is dropped) satisfies the guard.
            let new_term = s.current_term[i] + 1;
            let mut voters = ServerSet::EMPTY;
            for v in config.iter() {
                if can_vote_for_config(s, v, i, new_term, mutation) {
                    voters = voters.with(v);
                }
            }
            let required = if mutation == Some(Mutation::LeaderOutsideQuorum) {
                ServerSet::EMPTY
            } else {
                ServerSet::single(i)
            };
            if !required.is_subset(voters) {
                continue;
            }
            // The subsets of `voters` in increasing bitmask order, from the empty set up.
            let mut q = 0u16;
            loop {
                let vote_quorum = ServerSet(q);
                if required.is_subset(vote_quorum) && is_majority(vote_quorum.len(), config) {
                    let action = Action::BecomeLeader {
                        i: i as u8,
                        vote_quorum,
                    };
                    let mut next = *s;
                    become_leader_effect(s, &mut next, i, vote_quorum, mutation);
                    out.push((action, next));
                }
                if q == voters.0 {
                    break;
                }
                q = q.wrapping_sub(voters.0) & voters.0;
            }
        }
        for i in servers.clone() {
            for j in servers.clone() {
                if update_terms_enabled(s, i, j, mutation) {
                    let action = Action::UpdateTerms {
                        i: i as u8,
                        j: j as u8,
                    };
                    let mut next = *s;
                    update_terms_effect(s, &mut next, i, j, mutation);
                    out.push((action, next));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Why an action is not enabled
// ---------------------------------------------------------------------------------------------

/// The conjuncts of `action`'s guard that are false in `v`, in TLA+ notation with the binding's
/// values (empty when it is enabled): what a refinement check prints when a mapping names a
/// logless-raft step that is not enabled. Each conjunct is the predicate the guard itself
/// evaluates, so the two cannot drift apart (a unit test checks that the list is empty exactly
/// for the bindings [`LoglessRaft::next`] yields); a conjunct a mutation drops is not listed.
pub fn false_conjuncts<V: ConfigVars + ?Sized>(
    v: &V,
    action: Action,
    checks: QuorumChecks,
    mutation: Option<Mutation>,
) -> Vec<String> {
    let name = |s: usize| server_name(s);
    let set = |q: ServerSet| {
        let members: Vec<String> = q.iter().map(server_name).collect();
        format!("{{{}}}", members.join(", "))
    };
    let mut out = Vec::new();
    let mut require = |holds: bool, conjunct: String| {
        if !holds {
            out.push(conjunct);
        }
    };
    match action {
        Action::Reconfig { i, new_config } => {
            let i = i as usize;
            require(
                conjunct(
                    mutation,
                    Mutation::ReconfigSkipsPrimaryCheck,
                    v.role(i) == Role::Primary,
                ),
                format!("state[{}] = Primary", name(i)),
            );
            match checks {
                QuorumChecks::Independent => {
                    require(
                        mutation == Some(Mutation::ReconfigSkipsConfigQuorumCheck)
                            || config_quorum_check(v, i),
                        format!("ConfigQuorumCheck({})", name(i)),
                    );
                    require(
                        mutation == Some(Mutation::ReconfigSkipsTermQuorumCheck)
                            || term_quorum_check(v, i, mutation),
                        format!("TermQuorumCheck({})", name(i)),
                    );
                }
                QuorumChecks::Joint => require(
                    joint_quorum_check(v, i, mutation),
                    format!("JointQuorumCheck({})", name(i)),
                ),
            }
            require(
                conjunct(
                    mutation,
                    Mutation::ReconfigSkipsQuorumsOverlap,
                    quorums_overlap(v.config(i), new_config),
                ),
                format!("QuorumsOverlap(config[{}], {})", name(i), set(new_config)),
            );
            require(
                conjunct(
                    mutation,
                    Mutation::ReconfigMayRemoveSelf,
                    new_config.contains(i),
                ),
                format!("{} \\in {}", name(i), set(new_config)),
            );
        }
        Action::SendConfig { i, j } => {
            let (i, j) = (i as usize, j as usize);
            require(
                conjunct(
                    mutation,
                    Mutation::SendConfigToPrimary,
                    v.role(j) == Role::Secondary,
                ),
                format!("state[{}] = Secondary", name(j)),
            );
            require(
                conjunct(
                    mutation,
                    Mutation::SendConfigSkipsNewerCheck,
                    is_newer_config(v, i, j),
                ),
                format!("IsNewerConfig({}, {})", name(i), name(j)),
            );
        }
        Action::BecomeLeader { i, vote_quorum } => {
            let i = i as usize;
            let new_term = v.current_term(i) + 1;
            require(
                v.config(i).quorums().any(|q| q == vote_quorum),
                format!("{} \\in Quorums(config[{}])", set(vote_quorum), name(i)),
            );
            require(
                conjunct(
                    mutation,
                    Mutation::LeaderOutsideConfig,
                    v.config(i).contains(i),
                ),
                format!("{} \\in config[{}]", name(i), name(i)),
            );
            require(
                conjunct(
                    mutation,
                    Mutation::LeaderOutsideQuorum,
                    vote_quorum.contains(i),
                ),
                format!("{} \\in {}", name(i), set(vote_quorum)),
            );
            for voter in vote_quorum.iter() {
                require(
                    conjunct(
                        mutation,
                        Mutation::VoteIgnoresTerm,
                        v.current_term(voter) < new_term,
                    ),
                    format!(
                        "CanVoteForConfig({}, {}, {new_term}): currentTerm[{}] < {new_term}",
                        name(voter),
                        name(i),
                        name(voter)
                    ),
                );
                require(
                    conjunct(
                        mutation,
                        Mutation::VoteIgnoresConfig,
                        is_newer_or_equal_config(v, i, voter),
                    ),
                    format!(
                        "CanVoteForConfig({}, {}, {new_term}): IsNewerOrEqualConfig({}, {})",
                        name(voter),
                        name(i),
                        name(i),
                        name(voter)
                    ),
                );
            }
        }
        Action::UpdateTerms { i, j } => {
            let (i, j) = (i as usize, j as usize);
            require(
                update_terms_enabled(v, i, j, mutation),
                format!("currentTerm[{}] > currentTerm[{}]", name(i), name(j)),
            );
        }
    }
    out
}
