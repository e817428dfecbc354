//! Reading a state back from the ITF JSON its `Serialize` writes ([`spec_core::Spec::read_state`]),
//! checked against the model's bounds: a name, slot, ballot or command outside the model is an
//! error naming the variable, never a panic.

use spec_core::action_text::set_items;
use spec_core::itf::{self, ReadError, Record, Value as J};
use spec_core::ServerSet;

use crate::actions::{ballot_of, envelope, pvalue_of, value_of, well_formed};
use crate::state::{Ballot, Commander, PValue, Phase, RoleKind, State, Value, MAX_SLOTS};
use crate::Bounds;

type Read<T> = Result<T, String>;

/// The variables, in the order `Serialize` writes them.
const VARIABLES: [&str; 15] = [
    "ballotNum",
    "accepted",
    "leaderBallot",
    "leaderPhase",
    "leaderProposals",
    "scoutPromisedBy",
    "scoutPvalues",
    "commanders",
    "slotIn",
    "slotOut",
    "requests",
    "replicaProposals",
    "decisions",
    "network",
    "duplicatesLeft",
];

/// A function from the `n` nodes of `role` to values, as the values in node order.
fn per_node(v: &J, role: RoleKind, n: usize) -> Read<Vec<&J>> {
    let pairs = itf::map(v)?;
    let mut out: Vec<Option<&J>> = vec![None; n];
    for (key, value) in pairs {
        let name = itf::string(key)?;
        let i = role.index(name).filter(|&i| i < n).ok_or_else(|| {
            format!(
                "{name} is not one of {}..{}",
                role.name(0),
                role.name(n - 1)
            )
        })?;
        if out[i].replace(value).is_some() {
            return Err(format!("{name} appears twice"));
        }
    }
    out.into_iter()
        .enumerate()
        .map(|(i, v)| v.ok_or_else(|| format!("{} is missing", role.name(i))))
        .collect()
}

fn ballot(v: &J, b: &Bounds) -> Read<Ballot> {
    let t = itf::tup_of(v, 2)?;
    let round = itf::int(&t[0])?;
    let leader = itf::string(&t[1])?;
    if round == 0 && leader == "None" {
        return Ok(Ballot::NONE);
    }
    let text = format!("{round}.{leader}");
    let ballot = ballot_of(&text)?;
    if !ballot.in_model(b.leaders, b.max_round) {
        return Err(format!("ballot {text} is not one of this model's"));
    }
    Ok(ballot)
}

fn command(text: &str, b: &Bounds) -> Read<Value> {
    let v = value_of(text)?;
    if v.is_none() || (v.is_command() && v.index() >= b.commands) {
        return Err(format!("{text} is not a command of this model"));
    }
    Ok(v)
}

fn slot(v: &J, b: &Bounds) -> Read<u8> {
    let s = itf::int(v)?;
    if !(1..=b.slots as i64).contains(&s) {
        return Err(format!("slot {s} is outside 1..{}", b.slots));
    }
    Ok(s as u8)
}

/// A function from slots to `read` of their values; slots not listed get `default`.
fn per_slot<T: Copy>(
    v: &J,
    b: &Bounds,
    default: T,
    mut read: impl FnMut(&J) -> Read<T>,
) -> Read<[T; MAX_SLOTS]> {
    let mut out = [default; MAX_SLOTS];
    for (key, value) in itf::map(v)? {
        out[slot(key, b)? as usize - 1] = read(value)?;
    }
    Ok(out)
}

fn acceptor_set(names: impl IntoIterator<Item = impl AsRef<str>>, b: &Bounds) -> Read<ServerSet> {
    let mut set = ServerSet::EMPTY;
    for name in names {
        let name = name.as_ref();
        let a = RoleKind::Acceptor
            .index(name)
            .filter(|&a| a < b.acceptors)
            .ok_or_else(|| format!("{name} is not an acceptor of this model"))?;
        set = set.with(a);
    }
    Ok(set)
}

fn commands(v: &J, b: &Bounds) -> Read<u8> {
    let mut mask = 0;
    for c in itf::set(v)? {
        let c = command(itf::string(c)?, b)?;
        if !c.is_command() {
            return Err("noop is not a client command".into());
        }
        mask |= c.bit();
    }
    Ok(mask)
}

/// Reads a state of the model with bounds `b` from its ITF record.
pub fn read_itf(value: &J, b: &Bounds) -> Result<State, ReadError> {
    let vars = Record::new(value, &VARIABLES)?;
    let mut s = State::initial(b.acceptors, b.leaders, b.slots, 0, 0);
    let (na, nl) = (b.acceptors, b.leaders);
    for (a, v) in vars
        .var("ballotNum", |v| per_node(v, RoleKind::Acceptor, na))?
        .into_iter()
        .enumerate()
    {
        s.promised[a] = vars.var("ballotNum", |_| ballot(v, b))?;
    }
    let accepted = vars.var("accepted", |v| {
        let mut votes = s.votes;
        for (a, pvalues) in per_node(v, RoleKind::Acceptor, na)?.into_iter().enumerate() {
            for p in itf::set(pvalues)? {
                let t = itf::tup_of(p, 3)?;
                let ballot = ballot(&t[0], b)?;
                if ballot.is_none() {
                    return Err("a pvalue has no ballot".into());
                }
                let slot = slot(&t[1], b)?;
                let value = command(itf::string(&t[2])?, b)?;
                let set = &mut votes[ballot.index()][slot as usize - 1][value.index()];
                *set = set.with(a);
            }
        }
        Ok(votes)
    })?;
    s.votes = accepted;
    let leaders = |name: &str| vars.var(name, |v| per_node(v, RoleKind::Leader, nl));
    for (l, v) in leaders("leaderBallot")?.into_iter().enumerate() {
        s.leader[l].ballot = vars.var("leaderBallot", |_| ballot(v, b))?;
    }
    for (l, v) in leaders("leaderPhase")?.into_iter().enumerate() {
        s.leader[l].phase = vars.var("leaderPhase", |_| match itf::string(v)? {
            "Idle" => Ok(Phase::Idle),
            "Scouting" => Ok(Phase::Scouting),
            "Active" => Ok(Phase::Active),
            other => Err(format!("{other} is not a phase Idle, Scouting or Active")),
        })?;
    }
    for (l, v) in leaders("leaderProposals")?.into_iter().enumerate() {
        s.leader[l].proposals = vars.var("leaderProposals", |_| {
            per_slot(v, b, Value::NONE, |c| command(itf::string(c)?, b))
        })?;
    }
    for (l, v) in leaders("scoutPromisedBy")?.into_iter().enumerate() {
        s.leader[l].promised_by = vars.var("scoutPromisedBy", |_| {
            let names: Read<Vec<&str>> = itf::set(v)?.iter().map(itf::string).collect();
            acceptor_set(names?, b)
        })?;
    }
    for (l, v) in leaders("scoutPvalues")?.into_iter().enumerate() {
        s.leader[l].pvalues = vars.var("scoutPvalues", |_| {
            per_slot(v, b, PValue::NONE, |p| {
                let p = pvalue_of(itf::string(p)?)?;
                if p.ballot.is_none() || !p.ballot.in_model(b.leaders, b.max_round) {
                    return Err(format!("{p} has no ballot of this model"));
                }
                command(&p.value.to_string(), b)?;
                Ok(p)
            })
        })?;
    }
    for (l, v) in leaders("commanders")?.into_iter().enumerate() {
        s.leader[l].commanders = vars.var("commanders", |_| {
            per_slot(v, b, Commander::NotStarted, |c| match itf::string(c)? {
                "NotStarted" => Ok(Commander::NotStarted),
                "Done" => Ok(Commander::Done),
                text => {
                    let set = text
                        .strip_prefix("Waiting(")
                        .and_then(|t| t.strip_suffix(')'))
                        .ok_or_else(|| {
                            format!("{text} is not NotStarted, Waiting({{...}}) or Done")
                        })?;
                    Ok(Commander::Waiting(acceptor_set(set_items(set)?, b)?))
                }
            })
        })?;
    }
    let replicas = |name: &str| vars.var(name, |v| per_node(v, RoleKind::Replica, nl));
    let position = |v: &J| -> Read<u8> {
        let k = itf::int(v)?;
        if !(1..=b.slots as i64 + 1).contains(&k) {
            return Err(format!("{k} is outside 1..{}", b.slots + 1));
        }
        Ok(k as u8)
    };
    for (r, v) in replicas("slotIn")?.into_iter().enumerate() {
        s.replica[r].slot_in = vars.var("slotIn", |_| position(v))?;
    }
    for (r, v) in replicas("slotOut")?.into_iter().enumerate() {
        s.replica[r].slot_out = vars.var("slotOut", |_| position(v))?;
    }
    for (r, v) in replicas("requests")?.into_iter().enumerate() {
        s.replica[r].requests = vars.var("requests", |_| commands(v, b))?;
    }
    for (r, v) in replicas("replicaProposals")?.into_iter().enumerate() {
        s.replica[r].proposals = vars.var("replicaProposals", |_| {
            per_slot(v, b, Value::NONE, |c| command(itf::string(c)?, b))
        })?;
    }
    for (r, v) in replicas("decisions")?.into_iter().enumerate() {
        s.replica[r].decisions = vars.var("decisions", |_| {
            per_slot(v, b, Value::NONE, |c| command(itf::string(c)?, b))
        })?;
    }
    let network = vars.var("network", |v| {
        let mut network = crate::Network::EMPTY;
        for m in itf::set(v)? {
            let e = envelope(itf::string(m)?)?;
            if !well_formed(&s, b, e) {
                return Err(format!("{e} is not a message of this model"));
            }
            if network.len() == crate::state::NETWORK_CAPACITY {
                return Err("more messages than a network holds".into());
            }
            network.insert(e);
        }
        Ok(network)
    })?;
    s.network = network;
    s.duplicates_left = vars.var("duplicatesLeft", |v| itf::small(v, 9))?;
    Ok(s)
}
