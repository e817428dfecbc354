//! The actions of `JustInTimePaxos.tla`, one function per action, named as in the spec: the
//! guard first, then the effect, then the network step (`Sends`, `Ack`, `Reply`, ...).
//!
//! Each handler takes the message it handles; the spec's `Next` tries every message of the
//! right type, and [`next`] does the same, in the spec's order of `Next`'s disjuncts. Every
//! action moves `stepCount` by one and `messageCount` by the number of messages it sends, or by
//! one for an `Ack` that sends nothing (the spec's `Ack` counts, `AckAndSends` does not count
//! the acknowledged message).

use crate::state::*;
use crate::Mutation;
use spec_core::action_text::ParseActionError;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// The names of the actions, in the order of the spec's `Next`.
pub const ACTION_NAMES: &[&str] = &[
    "ClientRequest",
    "ChangeView",
    "HandleClientRequest",
    "HandleClientReply",
    "HandleReconcileRequest",
    "HandleReconcileReply",
    "HandleRepairRequest",
    "HandleRepairReply",
    "HandleViewChange",
    "HandleViewChangeReply",
    "HandleStartView",
    "DropMessage",
];

/// One step of the spec: the action and the values its quantifiers bound (for a handler, the
/// message; its `src` and `dest` are the spec's other arguments).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `ClientRequest(c, v)`.
    ClientRequest {
        /// The client.
        client: Client,
        /// The value.
        value: u8,
    },
    /// `ChangeView(r)`.
    ChangeView {
        /// The replica.
        replica: Replica,
    },
    /// `Handle<Type>(m.dest, m.src, m)` for the message's type.
    Handle(Message),
    /// `NextDropMessage`: the network loses `m`.
    DropMessage(Message),
}

impl Action {
    /// The spec's name for handling `m`.
    pub fn handler_name(m: &Message) -> &'static str {
        match m {
            Message::ClientRequest(_) => "HandleClientRequest",
            Message::Reply(r) => match r.req {
                Request::Client(_) => "HandleClientReply",
                Request::Reconcile(_) => "HandleReconcileReply",
            },
            Message::Rejection(_) => "HandleClientReply",
            Message::ReconcileRequest(_) => "HandleReconcileRequest",
            Message::RepairRequest(_) => "HandleRepairRequest",
            Message::RepairReply(_) => "HandleRepairReply",
            Message::ViewChange(_) => "HandleViewChange",
            Message::ViewChangeReply(_) => "HandleViewChangeReply",
            Message::StartView(_) => "HandleStartView",
        }
    }
}

impl spec_core::Action for Action {
    fn name(&self) -> &'static str {
        match self {
            Action::ClientRequest { .. } => "ClientRequest",
            Action::ChangeView { .. } => "ChangeView",
            Action::Handle(m) => Action::handler_name(m),
            Action::DropMessage(_) => "DropMessage",
        }
    }
}

impl fmt::Display for Action {
    /// `ClientRequest(c1, v1)`, `ChangeView(r2)`, `HandleViewChange(r2, r1, [src |-> r1, ...])`
    /// (the spec's arguments: the message's `dest`, its `src`, the message),
    /// `DropMessage([...])`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::ClientRequest { client, value } => write!(
                f,
                "ClientRequest({}, {})",
                client_name(*client),
                value_name(*value)
            ),
            Action::ChangeView { replica } => write!(f, "ChangeView({})", replica_name(*replica)),
            Action::Handle(m) => {
                let json = message_json(m);
                write!(
                    f,
                    "{}({}, {}, {m})",
                    Action::handler_name(m),
                    json["dest"].as_str().unwrap_or("?"),
                    json["src"].as_str().unwrap_or("?"),
                )
            }
            Action::DropMessage(m) => write!(f, "DropMessage({m})"),
        }
    }
}

impl FromStr for Action {
    type Err = ParseActionError;
    /// Reads back what `Display` writes (see [`crate::text`]).
    fn from_str(text: &str) -> Result<Self, ParseActionError> {
        crate::text::parse_action(text)
    }
}

// ---------------------------------------------------------------------------------------------
// The network.

/// `Sends(ms)`: adds `ms`, counts each distinct message sent.
fn sends(s: &mut State, ms: impl IntoIterator<Item = Message>) {
    let ms: BTreeSet<Message> = ms.into_iter().collect();
    s.message_count += ms.len() as u8;
    s.step_count += 1;
    s.messages.extend(ms);
}

/// `Ack(m)`: removes `m`; counts one message.
fn ack(s: &mut State, m: &Message) {
    s.messages.remove(m);
    s.message_count += 1;
    s.step_count += 1;
}

/// `AckAndSends(m, ms)`: `(messages \cup ms) \ {m}`; counts the messages of `ms`.
fn ack_and_sends(s: &mut State, m: &Message, ms: impl IntoIterator<Item = Message>) {
    let ms: BTreeSet<Message> = ms.into_iter().collect();
    s.message_count += ms.len() as u8;
    s.step_count += 1;
    s.messages.extend(ms);
    s.messages.remove(m);
}

/// `Reply(req, resp)`: `AckAndSends(req, {resp})`.
fn reply(s: &mut State, m: &Message, resp: Message) {
    ack_and_sends(s, m, [resp]);
}

// ---------------------------------------------------------------------------------------------
// Clients.

/// `ClientRequest(c, v)`: client `c` sends `v`, with a new timestamp and request id, to the
/// quorum of its view.
pub fn client_request(s: &State, c: Client, v: u8) -> State {
    let n = s.replicas();
    let mut t = s.clone();
    t.c_time += 1;
    t.c_req_id[c as usize] += 1;
    let view = s.c_view_id[c as usize];
    let members = quorum(n, view);
    let (req_id, timestamp) = (t.c_req_id[c as usize], t.c_time);
    let requests = (0..n as Replica)
        .filter(|r| members & (1 << r) != 0)
        .map(|r| {
            Message::ClientRequest(ClientRequest {
                src: c,
                dest: r,
                view_id: view,
                req_id,
                value: v,
                timestamp,
            })
        });
    let requests: Vec<Message> = requests.collect();
    sends(&mut t, requests);
    t
}

/// `HandleClientReply(c, r, m)` (and `HandleReconcileReply`, the same action): a reply from
/// another view moves the client's view forward; a reply of the client's view is added to the
/// request's replies, and then the client commits (a quorum of the view succeeded with one
/// checksum), sends a reconcile request (the replies disagree and the primary's is among them),
/// or waits.
pub fn handle_client_reply(s: &State, m: &Message, mutation: Option<Mutation>) -> Option<State> {
    let n = s.replicas();
    let (reply_view, req_view, client) = match m {
        Message::Reply(r) => (r.view_id, r.req.view_id(), r.dest),
        Message::Rejection(r) => (r.view_id, r.req.view_id, r.dest),
        _ => return None,
    };
    let c = client as usize;
    let mut t = s.clone();
    if reply_view != req_view {
        if s.c_view_id[c] < reply_view {
            t.c_view_id[c] = reply_view;
        }
        ack(&mut t, m);
        return Some(t);
    }
    // The reply's view is its request's: only full replies have that (a rejection's view is
    // never its request's).
    let Message::Reply(m_reply) = m else {
        return None;
    };
    let view = s.c_view_id[c];
    if reply_view != view {
        return None;
    }
    let req_id = m_reply.req.req_id();
    let same_request =
        |x: &Reply| x.src == m_reply.src && x.view_id == view && x.req.req_id() == req_id;
    if m_reply.succeeded {
        // cReps[c] \ {n : the same replica and request, ~n.succeeded} \cup {m}
        t.c_reps[c].retain(|x| !same_request(x) || x.succeeded);
        t.c_reps[c].insert(m_reply.clone());
    } else {
        if s.c_reps[c].iter().any(|x| same_request(x) && x.succeeded) {
            return None;
        }
        t.c_reps[c].insert(m_reply.clone());
    }
    let reps: Vec<&Reply> = t.c_reps[c]
        .iter()
        .filter(|x| x.view_id == view && x.req.req_id() == req_id)
        .collect();
    let leader = primary(n, view);
    let succeeded_from = reps
        .iter()
        .filter(|x| x.succeeded)
        .fold(0u8, |acc, x| acc | 1 << x.src);
    let is_quorum = succeeded_from == quorum(n, view);
    let checksums_agree = reps.iter().all(|x| x.checksum == reps[0].checksum);
    let is_committed = reps.iter().all(|x| x.succeeded)
        && (checksums_agree || mutation == Some(Mutation::CommitIgnoresChecksums));
    let has_primary = reps.iter().any(|x| x.src == leader && x.succeeded);
    if is_quorum && is_committed {
        // CHOOSE n \in reps : n.src = Primary(cViewID[c])
        let commit = reps
            .iter()
            .filter(|x| x.src == leader)
            .min_by(|a, b| tlc_cmp_reply(a, b))?;
        let commit = (*commit).clone();
        t.c_commits[c].insert(commit);
        ack(&mut t, m);
    } else if !is_committed {
        if has_primary {
            // CHOOSE n \in reps : n.src = Primary(cViewID[c]) /\ n.succeeded
            let primary_rep = reps
                .iter()
                .filter(|x| x.src == leader && x.succeeded)
                .min_by(|a, b| tlc_cmp_reply(a, b))
                .expect("has_primary");
            let retry = reps
                .iter()
                .any(|x| x.src != leader && x.checksum != primary_rep.checksum);
            // The spec's set of reconcile requests, one per retry reply, does not depend on the
            // reply: it is one request, to the replica that sent `m`, or none.
            let reconcile = retry.then_some({
                Message::ReconcileRequest(ReconcileRequest {
                    src: client,
                    dest: m_reply.src,
                    view_id: view,
                    req_id,
                    index: primary_rep.index,
                })
            });
            ack_and_sends(&mut t, m, reconcile);
        } else {
            ack(&mut t, m);
        }
    } else {
        // ~isQuorum /\ isCommitted: wait for more replies.
        ack(&mut t, m);
    }
    Some(t)
}

// ---------------------------------------------------------------------------------------------
// Replicas.

/// `HandleClientRequest(r, c, m)`: in its view, a Normal replica appends a request newer than
/// its last entry (or acknowledges its last entry again, or rejects an older one); a request
/// from a later view moves it to that view's view change; one from an earlier view is rejected
/// with the replica's view.
pub fn handle_client_request(
    s: &State,
    m: &ClientRequest,
    mutation: Option<Mutation>,
) -> Option<State> {
    let n = s.replicas();
    let r = m.dest as usize;
    if s.r_status[r] != Status::Normal {
        return None;
    }
    let msg = Message::ClientRequest(m.clone());
    let mut t = s.clone();
    let view = s.r_view_id[r];
    // AcceptStaleView: a request of an earlier view is handled as if it were of this view, and
    // answered in the request's view.
    let stale_accepted = mutation == Some(Mutation::AcceptStaleView) && m.view_id < view;
    if m.view_id == view || stale_accepted {
        let reply_view = m.view_id;
        let last_timestamp = s.r_log[r].iter().map(|e| e.timestamp).max().unwrap_or(0);
        let answer = |log: &Log, succeeded: bool| {
            Message::Reply(Reply {
                src: m.dest,
                dest: m.src,
                req: Request::Client(m.clone()),
                view_id: reply_view,
                index: log.len() as u8,
                checksum: log.clone(),
                value: m.value,
                timestamp: m.timestamp,
                succeeded,
            })
        };
        let resp = if m.timestamp > last_timestamp {
            t.r_log[r].push(Entry {
                value: m.value,
                timestamp: m.timestamp,
            });
            answer(&t.r_log[r], true)
        } else {
            answer(&s.r_log[r], m.timestamp == last_timestamp)
        };
        reply(&mut t, &msg, resp);
    } else if m.view_id > view {
        t.r_view_id[r] = m.view_id;
        t.r_status[r] = Status::ViewChange;
        t.r_view_change_reps[r].clear();
        let rejection = Message::Rejection(Rejection {
            src: m.dest,
            dest: m.src,
            req: m.clone(),
            view_id: view,
        });
        let promise = Message::ViewChangeReply(ViewChangeReply {
            src: m.dest,
            dest: primary(n, m.view_id),
            view_id: m.view_id,
            log_view_id: s.r_log_view_id[r],
            log: s.r_log[r].clone(),
        });
        ack_and_sends(&mut t, &msg, [rejection, promise]);
    } else {
        let rejection = Message::Rejection(Rejection {
            src: m.dest,
            dest: m.src,
            req: m.clone(),
            view_id: view,
        });
        reply(&mut t, &msg, rejection);
    }
    Some(t)
}

/// `HandleReconcileRequest(r, c, m)`: a Normal replica of the request's view answers with its
/// log up to the index if it knows that prefix to be the primary's (`rSyncIndex`); otherwise a
/// replica other than the primary asks the primary for a repair.
///
/// Where the spec would read past the end of the log (TLC stops with an evaluation error) the
/// step is not taken; no such state is reachable at the bounds of the README.
pub fn handle_reconcile_request(s: &State, m: &ReconcileRequest) -> Option<State> {
    let n = s.replicas();
    let r = m.dest as usize;
    let view = s.r_view_id[r];
    if s.r_status[r] != Status::Normal || view != m.view_id {
        return None;
    }
    let msg = Message::ReconcileRequest(m.clone());
    let mut t = s.clone();
    if s.r_sync_index[r] >= m.index {
        let prefix: Log = s.r_log[r].get(..m.index as usize)?.to_vec();
        let entry = *prefix.last()?;
        let resp = Message::Reply(Reply {
            src: m.dest,
            dest: m.src,
            req: Request::Reconcile(m.clone()),
            view_id: view,
            index: m.index,
            checksum: prefix,
            value: entry.value,
            timestamp: entry.timestamp,
            succeeded: true,
        });
        reply(&mut t, &msg, resp);
    } else {
        let leader = primary(n, view);
        if leader == m.dest {
            return None;
        }
        t.r_status[r] = Status::Repair;
        let repair = Message::RepairRequest(RepairRequest {
            src: m.dest,
            dest: leader,
            req: m.clone(),
            view_id: view,
            index: m.index,
        });
        reply(&mut t, &msg, repair);
    }
    Some(t)
}

/// `HandleRepairRequest(r, s, m)`: the Normal primary of the request's view sends its log up
/// to the index.
pub fn handle_repair_request(s: &State, m: &RepairRequest) -> Option<State> {
    let n = s.replicas();
    let r = m.dest as usize;
    let view = s.r_view_id[r];
    if s.r_status[r] != Status::Normal || view != m.view_id || primary(n, view) != m.dest {
        return None;
    }
    let log: Log = s.r_log[r].get(..m.index as usize)?.to_vec();
    let msg = Message::RepairRequest(m.clone());
    let mut t = s.clone();
    let resp = Message::RepairReply(RepairReply {
        src: m.dest,
        dest: m.src,
        req: m.req.clone(),
        view_id: view,
        index: m.index,
        log,
    });
    reply(&mut t, &msg, resp);
    Some(t)
}

/// `HandleRepairReply(r, s, m)`: a repairing replica of the reply's view takes the primary's
/// prefix followed by its own log from the prefix's last index on
/// (`m.log \o SubSeq(rLog[r], Len(m.log), Len(rLog[r]))`: that index appears twice, as the
/// spec writes it), and answers the client's reconcile request.
pub fn handle_repair_reply(s: &State, m: &RepairReply) -> Option<State> {
    let r = m.dest as usize;
    let view = s.r_view_id[r];
    if s.r_status[r] != Status::Repair || view != m.view_id {
        return None;
    }
    let own = &s.r_log[r];
    let from = m.log.len();
    // SubSeq(s, from, Len(s)): empty when from > Len(s); TLC's SubSeq needs 1 <= from otherwise.
    let tail: &[Entry] = if from > own.len() {
        &[]
    } else if from >= 1 {
        &own[from - 1..]
    } else {
        return None;
    };
    let entry = *m.log.get((m.index as usize).checked_sub(1)?)?;
    let msg = Message::RepairReply(m.clone());
    let mut t = s.clone();
    t.r_status[r] = Status::Normal;
    let mut log = m.log.clone();
    log.extend_from_slice(tail);
    t.r_sync_index[r] = log.len() as u8;
    t.r_log[r] = log;
    let resp = Message::Reply(Reply {
        src: m.dest,
        dest: m.req.src,
        req: Request::Reconcile(m.req.clone()),
        view_id: view,
        index: m.index,
        checksum: m.log.clone(),
        value: entry.value,
        timestamp: entry.timestamp,
        succeeded: true,
    });
    reply(&mut t, &msg, resp);
    Some(t)
}

/// `ChangeView(r)`: replica `r` asks every replica to move to the view after its own.
pub fn change_view(s: &State, r: Replica) -> State {
    let mut t = s.clone();
    let view = s.r_view_id[r as usize] + 1;
    let requests = (0..s.replicas() as Replica).map(|d| {
        Message::ViewChange(ViewChange {
            src: r,
            dest: d,
            view_id: view,
        })
    });
    sends(&mut t, requests);
    t
}

/// `HandleViewChange(r, s, m)`: a replica behind the requested view moves to it, in view
/// change, and sends its log and log view to the view's primary; otherwise the request is
/// dropped.
pub fn handle_view_change(s: &State, m: &ViewChange) -> State {
    let n = s.replicas();
    let r = m.dest as usize;
    let msg = Message::ViewChange(m.clone());
    let mut t = s.clone();
    if s.r_view_id[r] < m.view_id {
        t.r_view_id[r] = m.view_id;
        t.r_status[r] = Status::ViewChange;
        t.r_view_change_reps[r].clear();
        let promise = Message::ViewChangeReply(ViewChangeReply {
            src: m.dest,
            dest: primary(n, m.view_id),
            view_id: m.view_id,
            log_view_id: s.r_log_view_id[r],
            log: s.r_log[r].clone(),
        });
        reply(&mut t, &msg, promise);
    } else {
        ack(&mut t, &msg);
    }
    t
}

/// `HandleViewChangeReply(r, s, m)`: the new view's primary, in view change, records the reply;
/// once the replies of its view come from a quorum that includes itself, it starts the view
/// with the log of a reply from the latest log view, sent by a member of that view's quorum.
pub fn handle_view_change_reply(
    s: &State,
    m: &ViewChangeReply,
    mutation: Option<Mutation>,
) -> Option<State> {
    let n = s.replicas();
    let r = m.dest as usize;
    let view = s.r_view_id[r];
    if primary(n, m.view_id) != m.dest || view != m.view_id || s.r_status[r] != Status::ViewChange {
        return None;
    }
    let msg = Message::ViewChangeReply(m.clone());
    let mut t = s.clone();
    t.r_view_change_reps[r].insert(m.clone());
    let view_changes: Vec<&ViewChangeReply> = t.r_view_change_reps[r]
        .iter()
        .filter(|v| v.view_id == view)
        .collect();
    let from = view_changes.iter().fold(0u8, |acc, v| acc | 1 << v.src);
    if is_local_quorum(n, m.dest, from) {
        let log = if mutation == Some(Mutation::StartViewFromLastReply) {
            // The primary ignores the logs it was promised: it starts the view with the log of
            // the reply that completed its quorum.
            m.log.clone()
        } else {
            let latest = view_changes.iter().map(|v| v.log_view_id).max()?;
            // CHOOSE v \in viewChanges : v.logViewID = latest /\ v.src \in Quorum(latest);
            // TLC stops with an error when there is none, and so the step is not taken here.
            let chosen = view_changes
                .iter()
                .filter(|v| v.log_view_id == latest && in_quorum(n, latest, v.src))
                .min_by(|a, b| tlc_cmp_view_change_reply(a, b))?;
            chosen.log.clone()
        };
        let starts = (0..n as Replica).map(|d| {
            Message::StartView(StartView {
                src: m.dest,
                dest: d,
                view_id: view,
                log: log.clone(),
            })
        });
        ack_and_sends(&mut t, &msg, starts);
    } else {
        ack(&mut t, &msg);
    }
    Some(t)
}

/// `HandleStartView(r, s, m)`: a replica behind the view, or in view change for it, enters the
/// view as Normal; a member of the view's quorum takes the view's log (synced to its end) and
/// records the view as its log view. The replica's view-change replies of its old view are
/// discarded.
pub fn handle_start_view(s: &State, m: &StartView) -> Option<State> {
    let n = s.replicas();
    let r = m.dest as usize;
    let view = s.r_view_id[r];
    let enters = view < m.view_id || (view == m.view_id && s.r_status[r] == Status::ViewChange);
    if !enters {
        return None;
    }
    let msg = Message::StartView(m.clone());
    let mut t = s.clone();
    if in_quorum(n, m.view_id, m.dest) {
        t.r_log[r] = m.log.clone();
        t.r_log_view_id[r] = m.view_id;
        t.r_sync_index[r] = m.log.len() as u8;
    }
    t.r_view_id[r] = m.view_id;
    t.r_status[r] = Status::Normal;
    t.r_view_change_reps[r].retain(|v| v.view_id != view);
    ack(&mut t, &msg);
    Some(t)
}

/// `NextDropMessage`: any message may be lost.
pub fn drop_message(s: &State, m: &Message) -> State {
    let mut t = s.clone();
    ack(&mut t, m);
    t
}

/// The handler of `m`'s type, taken on `m`.
pub fn handle(s: &State, m: &Message, mutation: Option<Mutation>) -> Option<State> {
    match m {
        Message::ClientRequest(r) => handle_client_request(s, r, mutation),
        Message::Reply(_) | Message::Rejection(_) => handle_client_reply(s, m, mutation),
        Message::ReconcileRequest(r) => handle_reconcile_request(s, r),
        Message::RepairRequest(r) => handle_repair_request(s, r),
        Message::RepairReply(r) => handle_repair_reply(s, r),
        Message::ViewChange(r) => Some(handle_view_change(s, r)),
        Message::ViewChangeReply(r) => handle_view_change_reply(s, r, mutation),
        Message::StartView(r) => handle_start_view(s, r),
    }
}

/// Every successor of `s`, in the order of the spec's `Next`: client requests (every client
/// and value), view changes (every replica), each handler over the messages of its type, and
/// the loss of each message.
pub fn next(s: &State, values: usize, mutation: Option<Mutation>, out: &mut Vec<(Action, State)>) {
    for c in 0..s.clients() as Client {
        for v in 0..values as u8 {
            out.push((
                Action::ClientRequest {
                    client: c,
                    value: v,
                },
                client_request(s, c, v),
            ));
        }
    }
    for r in 0..s.replicas() as Replica {
        out.push((Action::ChangeView { replica: r }, change_view(s, r)));
    }
    for name in &ACTION_NAMES[2..ACTION_NAMES.len() - 1] {
        for m in s
            .messages
            .iter()
            .filter(|m| Action::handler_name(m) == *name)
        {
            if let Some(t) = handle(s, m, mutation) {
                out.push((Action::Handle(m.clone()), t));
            }
        }
    }
    for m in &s.messages {
        out.push((Action::DropMessage(m.clone()), drop_message(s, m)));
    }
}

/// The successor of `s` by `action`, if the action is enabled (its message is on the network,
/// its client, value or replica is in the model).
pub fn step(
    s: &State,
    values: usize,
    action: &Action,
    mutation: Option<Mutation>,
) -> Option<State> {
    match action {
        Action::ClientRequest { client, value } => ((*client as usize) < s.clients()
            && (*value as usize) < values)
            .then(|| client_request(s, *client, *value)),
        Action::ChangeView { replica } => {
            ((*replica as usize) < s.replicas()).then(|| change_view(s, *replica))
        }
        Action::Handle(m) => {
            if s.messages.contains(m) {
                handle(s, m, mutation)
            } else {
                None
            }
        }
        Action::DropMessage(m) => s.messages.contains(m).then(|| drop_message(s, m)),
    }
}
