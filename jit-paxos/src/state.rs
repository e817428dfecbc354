//! The variables of `JustInTimePaxos.tla`, its messages, and the order TLC gives its values.
//!
//! Replicas, clients and values are small indices: replica `r` is the spec's `r{r+1}`, client
//! `c` is `c{c+1}`, value `v` is `v{v+1}`. Every message is one of the record shapes the spec
//! sends; a reply carries the request it answers (`req`), as in the spec.
//!
//! # TLC's order of values
//!
//! Three `CHOOSE`s of the spec pick one element of a set of records: the commit a client
//! records, the primary's reply a reconcile is measured against, and the view-change reply whose
//! log starts a view. TLC's `CHOOSE x \in S : P` returns the first element of `S` satisfying
//! `P` in TLC's own total order of values, so a port that reproduces TLC's counts must pick the
//! same element. That order ([`tlc_cmp_reply`], [`tlc_cmp_view_change_reply`]) is:
//!
//! - model values: in the order they are created, which is the order the model's `.cfg` names
//!   them (`r1 < r2 < r3`, `v1 < v2`; `MClientReply < MReconcileReply`);
//! - integers by value, `FALSE < TRUE`;
//! - sequences: shorter first, then element by element;
//! - records: fewer fields first, then field by field, fields taken in the order their names
//!   were first met by TLC's parser (not alphabetically). For this spec that order is `value,
//!   index, req, src, dest, type, viewID, reqID, timestamp, logViewID, log, succeeded, checksum`
//!   (read off TLC's own state dump of the model in `jit-paxos/tlc/`), so a log entry compares
//!   its value before its timestamp, and a reply its value, index and request first.

use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;

/// A replica (0-based; the spec's `r1` is 0): a server, in the type every layer names servers by.
pub type Replica = spec_core::Server;
/// A client (0-based; the spec's `c1` is 0).
pub type Client = u8;

/// `rStatus`: a replica's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// `SNormal`: handles client requests.
    Normal,
    /// `SRepair`: waiting for the primary's log to repair its own.
    Repair,
    /// `SViewChange`: taking part in a view change.
    ViewChange,
}

impl Status {
    /// The spec's name of the status.
    pub fn tla(self) -> &'static str {
        match self {
            Status::Normal => "SNormal",
            Status::Repair => "SRepair",
            Status::ViewChange => "SViewChange",
        }
    }
}

/// A log entry, `[value |-> v, timestamp |-> t]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Entry {
    /// The client's value.
    pub value: u8,
    /// The request's timestamp (`cTime` when it was sent; unique per request).
    pub timestamp: u8,
}

/// A replica's log, and a reply's `checksum` (the whole log it was computed from).
pub type Log = Vec<Entry>;

/// `MClientRequest`: client `src` asks replica `dest` to append `value`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientRequest {
    /// The client.
    pub src: Client,
    /// The replica.
    pub dest: Replica,
    /// The client's view.
    pub view_id: u8,
    /// The client's request id.
    pub req_id: u8,
    /// The value.
    pub value: u8,
    /// The request's timestamp.
    pub timestamp: u8,
}

/// `MReconcileRequest`: client `src` asks replica `dest` to bring its log up to `index`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReconcileRequest {
    /// The client.
    pub src: Client,
    /// The replica.
    pub dest: Replica,
    /// The client's view.
    pub view_id: u8,
    /// The request id of the client request being reconciled.
    pub req_id: u8,
    /// The primary's index for that request.
    pub index: u8,
}

/// The request a [`Reply`] answers: its `req` field. It also decides the reply's `type`: a
/// client request is answered by an `MClientReply`, a reconcile request by an
/// `MReconcileReply`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Request {
    /// Answered by an `MClientReply`.
    Client(ClientRequest),
    /// Answered by an `MReconcileReply`.
    Reconcile(ReconcileRequest),
}

impl Request {
    /// `req.viewID`.
    pub fn view_id(&self) -> u8 {
        match self {
            Request::Client(r) => r.view_id,
            Request::Reconcile(r) => r.view_id,
        }
    }
    /// `req.reqID`.
    pub fn req_id(&self) -> u8 {
        match self {
            Request::Client(r) => r.req_id,
            Request::Reconcile(r) => r.req_id,
        }
    }
    /// `req.src`: the client.
    pub fn src(&self) -> Client {
        match self {
            Request::Client(r) => r.src,
            Request::Reconcile(r) => r.src,
        }
    }
}

/// A reply with all ten fields (`MClientReply` or `MReconcileReply`, by its request): what
/// clients keep in `cReps` and `cCommits`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reply {
    /// The replica.
    pub src: Replica,
    /// The client.
    pub dest: Client,
    /// The request answered.
    pub req: Request,
    /// The replica's view.
    pub view_id: u8,
    /// The index of the request's entry in the replica's log.
    pub index: u8,
    /// The replica's log (up to `index` for a reconcile).
    pub checksum: Log,
    /// The entry's value.
    pub value: u8,
    /// The entry's timestamp.
    pub timestamp: u8,
    /// Whether the replica accepted the request.
    pub succeeded: bool,
}

/// The short `MClientReply` a replica in another view sends (`succeeded |-> FALSE`, no index,
/// checksum, value or timestamp): its `viewID` tells the client the replica's view.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rejection {
    /// The replica.
    pub src: Replica,
    /// The client.
    pub dest: Client,
    /// The request rejected.
    pub req: ClientRequest,
    /// The replica's view (before the request, if the request moved it to a later view).
    pub view_id: u8,
}

/// `MRepairRequest`: replica `src` asks the primary `dest` for its log up to `index`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepairRequest {
    /// The replica being repaired.
    pub src: Replica,
    /// The primary.
    pub dest: Replica,
    /// The reconcile request that started the repair.
    pub req: ReconcileRequest,
    /// The view.
    pub view_id: u8,
    /// The index to repair up to.
    pub index: u8,
}

/// `MRepairReply`: the primary's log up to `index`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepairReply {
    /// The primary.
    pub src: Replica,
    /// The replica being repaired.
    pub dest: Replica,
    /// The reconcile request that started the repair.
    pub req: ReconcileRequest,
    /// The view.
    pub view_id: u8,
    /// The index repaired up to.
    pub index: u8,
    /// The primary's log up to `index`.
    pub log: Log,
}

/// `MViewChange`: replica `src` asks `dest` to move to view `view_id`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ViewChange {
    /// The replica asking.
    pub src: Replica,
    /// The replica asked.
    pub dest: Replica,
    /// The new view.
    pub view_id: u8,
}

/// `MViewChangeReply`: replica `src` joins view `view_id` and tells its primary `dest` its log
/// and the view that log was installed in: the promise of this protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ViewChangeReply {
    /// The replica joining.
    pub src: Replica,
    /// The new view's primary.
    pub dest: Replica,
    /// The new view.
    pub view_id: u8,
    /// `rLogViewID[src]`: the view whose StartView installed its log.
    pub log_view_id: u8,
    /// Its log.
    pub log: Log,
}

/// `MStartView`: the primary starts view `view_id` with `log`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StartView {
    /// The primary.
    pub src: Replica,
    /// A replica.
    pub dest: Replica,
    /// The view.
    pub view_id: u8,
    /// The view's initial log.
    pub log: Log,
}

/// A message on the network: one record shape of the spec.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Message {
    /// `MClientRequest`.
    ClientRequest(ClientRequest),
    /// `MClientReply` or `MReconcileReply` with every field.
    Reply(Reply),
    /// The short `MClientReply` of a replica in another view.
    Rejection(Rejection),
    /// `MReconcileRequest`.
    ReconcileRequest(ReconcileRequest),
    /// `MRepairRequest`.
    RepairRequest(RepairRequest),
    /// `MRepairReply`.
    RepairReply(RepairReply),
    /// `MViewChange`.
    ViewChange(ViewChange),
    /// `MViewChangeReply`.
    ViewChangeReply(ViewChangeReply),
    /// `MStartView`.
    StartView(StartView),
}

impl Message {
    /// The message's `type`, as the spec names it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::ClientRequest(_) => "MClientRequest",
            Message::Reply(r) => match r.req {
                Request::Client(_) => "MClientReply",
                Request::Reconcile(_) => "MReconcileReply",
            },
            Message::Rejection(_) => "MClientReply",
            Message::ReconcileRequest(_) => "MReconcileRequest",
            Message::RepairRequest(_) => "MRepairRequest",
            Message::RepairReply(_) => "MRepairReply",
            Message::ViewChange(_) => "MViewChange",
            Message::ViewChangeReply(_) => "MViewChangeReply",
            Message::StartView(_) => "MStartView",
        }
    }
}

/// A state of `JustInTimePaxos`: its fourteen variables. Per-client and per-replica functions
/// are vectors indexed by client and replica.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// `messages`: the set of messages on the network.
    pub messages: BTreeSet<Message>,
    /// `messageCount`: messages sent so far; an `Ack` counts one too (the model's bound).
    pub message_count: u8,
    /// `stepCount`: steps taken so far.
    pub step_count: u8,
    /// `cTime`: the clients' shared clock, one tick per request.
    pub c_time: u8,
    /// `cViewID`: each client's view.
    pub c_view_id: Vec<u8>,
    /// `cReqID`: each client's last request id.
    pub c_req_id: Vec<u8>,
    /// `cReps`: each client's replies so far.
    pub c_reps: Vec<BTreeSet<Reply>>,
    /// `cCommits`: each client's commits (the primary's reply of each committed request).
    pub c_commits: Vec<BTreeSet<Reply>>,
    /// `rStatus`.
    pub r_status: Vec<Status>,
    /// `rViewID`.
    pub r_view_id: Vec<u8>,
    /// `rLog`.
    pub r_log: Vec<Log>,
    /// `rSyncIndex`: how much of its log a replica knows to be the primary's.
    pub r_sync_index: Vec<u8>,
    /// `rLogViewID`: the view whose StartView installed the replica's log.
    pub r_log_view_id: Vec<u8>,
    /// `rViewChangeReps`: the view-change replies a primary has collected.
    pub r_view_change_reps: Vec<BTreeSet<ViewChangeReply>>,
}

impl State {
    /// `Init` for `replicas` replicas and `clients` clients.
    pub fn initial(replicas: usize, clients: usize) -> State {
        State {
            messages: BTreeSet::new(),
            message_count: 0,
            step_count: 0,
            c_time: 0,
            c_view_id: vec![1; clients],
            c_req_id: vec![0; clients],
            c_reps: vec![BTreeSet::new(); clients],
            c_commits: vec![BTreeSet::new(); clients],
            r_status: vec![Status::Normal; replicas],
            r_view_id: vec![1; replicas],
            r_log: vec![Vec::new(); replicas],
            r_sync_index: vec![0; replicas],
            r_log_view_id: vec![1; replicas],
            r_view_change_reps: vec![BTreeSet::new(); replicas],
        }
    }

    /// The number of replicas.
    pub fn replicas(&self) -> usize {
        self.r_status.len()
    }

    /// The number of clients.
    pub fn clients(&self) -> usize {
        self.c_view_id.len()
    }
}

// ---------------------------------------------------------------------------------------------
// Views, primaries and quorums.

/// `PrimaryIndex(v)`, 1-based as in the spec: `(v % n) + (IF v >= n THEN 1 ELSE 0)`. (So with
/// 3 replicas views 1, 2, 3, 4, 5 have primaries r1, r2, r1, r2, r3: the spec's own formula.)
pub fn primary_index(replicas: usize, view: u8) -> usize {
    let v = view as usize;
    v % replicas + usize::from(v >= replicas)
}

/// `Primary(v)`: the replica at `PrimaryIndex(v)` of the sorted replicas.
pub fn primary(replicas: usize, view: u8) -> Replica {
    (primary_index(replicas, view) - 1) as Replica
}

/// `Quorum(v)`: the `n \div 2 + 1` replicas from `Primary(v)` on, wrapping around, as a
/// bitmask of replicas.
pub fn quorum(replicas: usize, view: u8) -> u8 {
    let size = replicas / 2 + 1;
    let mut members = 0u8;
    for i in 1..=size {
        let index = primary_index(replicas, view) + (i - 1);
        let member = if index > replicas {
            index % replicas
        } else {
            index
        };
        members |= 1 << (member - 1);
    }
    members
}

/// Whether `r` is in `Quorum(v)`.
pub fn in_quorum(replicas: usize, view: u8, r: Replica) -> bool {
    quorum(replicas, view) & (1 << r) != 0
}

/// `IsQuorum(S)`: `Cardinality(S) * 2 >= Cardinality(Replicas)` (note `>=`: with an even
/// number of replicas, half of them is a quorum).
pub fn is_quorum(replicas: usize, members: u8) -> bool {
    members.count_ones() as usize * 2 >= replicas
}

/// `IsLocalQuorum(r, S)`: a quorum that includes `r`.
pub fn is_local_quorum(replicas: usize, r: Replica, members: u8) -> bool {
    is_quorum(replicas, members) && members & (1 << r) != 0
}

// ---------------------------------------------------------------------------------------------
// TLC's order, for the spec's CHOOSEs.

/// TLC's order of two logs: shorter first, then entry by entry (value, then timestamp).
pub fn tlc_cmp_log(a: &Log, b: &Log) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.value.cmp(&y.value).then(x.timestamp.cmp(&y.timestamp)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    })
}

/// TLC's order of two requests (a reply's `req`): a reconcile request has 6 fields and a client
/// request 7, so reconcile requests come first; then field by field in TLC's field order.
pub fn tlc_cmp_request(a: &Request, b: &Request) -> Ordering {
    match (a, b) {
        (Request::Reconcile(_), Request::Client(_)) => Ordering::Less,
        (Request::Client(_), Request::Reconcile(_)) => Ordering::Greater,
        // value, src, dest, type, viewID, reqID, timestamp
        (Request::Client(x), Request::Client(y)) => (
            x.value,
            x.src,
            x.dest,
            x.view_id,
            x.req_id,
            x.timestamp,
        )
            .cmp(&(y.value, y.src, y.dest, y.view_id, y.req_id, y.timestamp)),
        // index, src, dest, type, viewID, reqID
        (Request::Reconcile(x), Request::Reconcile(y)) => {
            (x.index, x.src, x.dest, x.view_id, x.req_id)
                .cmp(&(y.index, y.src, y.dest, y.view_id, y.req_id))
        }
    }
}

/// TLC's order of two full replies: value, index, req, src, dest, type, viewID, timestamp,
/// succeeded, checksum (the type follows from the request, compared before it).
pub fn tlc_cmp_reply(a: &Reply, b: &Reply) -> Ordering {
    (a.value, a.index)
        .cmp(&(b.value, b.index))
        .then_with(|| tlc_cmp_request(&a.req, &b.req))
        .then_with(|| {
            (a.src, a.dest, a.view_id, a.timestamp, a.succeeded).cmp(&(
                b.src,
                b.dest,
                b.view_id,
                b.timestamp,
                b.succeeded,
            ))
        })
        .then_with(|| tlc_cmp_log(&a.checksum, &b.checksum))
}

/// TLC's order of two view-change replies: src, dest, type, viewID, logViewID, log.
pub fn tlc_cmp_view_change_reply(a: &ViewChangeReply, b: &ViewChangeReply) -> Ordering {
    (a.src, a.dest, a.view_id, a.log_view_id)
        .cmp(&(b.src, b.dest, b.view_id, b.log_view_id))
        .then_with(|| tlc_cmp_log(&a.log, &b.log))
}

// ---------------------------------------------------------------------------------------------
// The invariant.

/// The spec's `Inv`: no replica that is Normal, in a view at least the commit's, and in its
/// view's quorum, holds a value other than a commit's at the commit's index.
///
/// The spec reads `rLog[r][e.index]` without checking that the log is that long; TLC stops
/// with an evaluation error on such a state. Here a log too short to hold the committed index
/// breaks `Inv` (the replica does not hold the committed entry). At the bounds of the README,
/// TLC meets no such state and neither does the port.
pub fn inv(s: &State) -> bool {
    inv_violation(s).is_none()
}

/// The first `(client, commit, replica)` that breaks [`inv`], if any.
pub fn inv_violation(s: &State) -> Option<(Client, &Reply, Replica)> {
    let n = s.replicas();
    for (c, commits) in s.c_commits.iter().enumerate() {
        for e in commits {
            for r in 0..n {
                let view = s.r_view_id[r];
                if s.r_status[r] == Status::Normal
                    && view >= e.view_id
                    && in_quorum(n, view, r as Replica)
                {
                    let holds = s.r_log[r]
                        .get(e.index as usize - 1)
                        .is_some_and(|entry| entry.value == e.value);
                    if !holds {
                        return Some((c as Client, e, r as Replica));
                    }
                }
            }
        }
    }
    None
}

/// The entries a commit decides: the committed request's entry and every entry before it in
/// the log the quorum agreed on (the commit's checksum), as `(index, entry)` pairs.
pub fn committed_prefix(commit: &Reply) -> impl Iterator<Item = (usize, Entry)> + '_ {
    commit
        .checksum
        .iter()
        .take(commit.index as usize)
        .enumerate()
        .map(|(k, e)| (k + 1, *e))
}

/// CommittedPrefixesAgree: any two commits agree on every index both decide (each decides its
/// checksum up to its index). It is the layer's statement of what the mapping to
/// `log-abstract` needs; `Inv` speaks of replicas' logs instead.
pub fn committed_prefixes_agree(s: &State) -> bool {
    let mut decided: Vec<Option<Entry>> = Vec::new();
    for commits in &s.c_commits {
        for e in commits {
            for (k, entry) in committed_prefix(e) {
                if decided.len() < k {
                    decided.resize(k, None);
                }
                match decided[k - 1] {
                    Some(other) if other != entry => return false,
                    _ => decided[k - 1] = Some(entry),
                }
            }
        }
    }
    true
}

/// CommittedTimestampsNameOneValue: no two entries of committed prefixes share a timestamp with
/// different values. The clients' clock ticks once per request, so it holds; the mapping to
/// `log-abstract` names an entry by its timestamp alone and relies on it.
pub fn committed_timestamps_name_one_value(s: &State) -> bool {
    let mut value_at: Vec<Option<u8>> = Vec::new();
    for e in s.c_commits.iter().flatten() {
        for (_, entry) in committed_prefix(e) {
            let t = entry.timestamp as usize;
            if value_at.len() <= t {
                value_at.resize(t + 1, None);
            }
            match value_at[t] {
                Some(v) if v != entry.value => return false,
                _ => value_at[t] = Some(entry.value),
            }
        }
    }
    true
}

/// CommitMatchesChecksum: a commit's index is inside its checksum and the entry there is the
/// committed request's (its value and timestamp).
pub fn commit_matches_checksum(s: &State) -> bool {
    s.c_commits.iter().flatten().all(|e| {
        e.index >= 1
            && e.checksum.get(e.index as usize - 1)
                == Some(&Entry {
                    value: e.value,
                    timestamp: e.timestamp,
                })
    })
}

// ---------------------------------------------------------------------------------------------
// Names and ITF.

/// `r1`, `r2`, ...
pub fn replica_name(r: Replica) -> String {
    format!("r{}", r + 1)
}
/// `c1`, `c2`, ...
pub fn client_name(c: Client) -> String {
    format!("c{}", c + 1)
}
/// `v1`, `v2`, ...
pub fn value_name(v: u8) -> String {
    format!("v{}", v + 1)
}

fn log_json(log: &Log) -> Value {
    Value::Array(
        log.iter()
            .map(|e| json!({"value": value_name(e.value), "timestamp": e.timestamp}))
            .collect(),
    )
}

fn set_json(items: impl IntoIterator<Item = Value>) -> Value {
    json!({"#set": items.into_iter().collect::<Vec<_>>()})
}

fn client_request_json(m: &ClientRequest) -> Value {
    json!({
        "src": client_name(m.src), "dest": replica_name(m.dest), "type": "MClientRequest",
        "viewID": m.view_id, "reqID": m.req_id, "value": value_name(m.value),
        "timestamp": m.timestamp,
    })
}

fn reconcile_request_json(m: &ReconcileRequest) -> Value {
    json!({
        "src": client_name(m.src), "dest": replica_name(m.dest), "type": "MReconcileRequest",
        "viewID": m.view_id, "reqID": m.req_id, "index": m.index,
    })
}

/// A reply as its TLA+ record, in ITF.
pub fn reply_json(m: &Reply) -> Value {
    let (ty, req) = match &m.req {
        Request::Client(r) => ("MClientReply", client_request_json(r)),
        Request::Reconcile(r) => ("MReconcileReply", reconcile_request_json(r)),
    };
    json!({
        "src": replica_name(m.src), "dest": client_name(m.dest), "req": req, "type": ty,
        "viewID": m.view_id, "index": m.index, "checksum": log_json(&m.checksum),
        "value": value_name(m.value), "timestamp": m.timestamp, "succeeded": m.succeeded,
    })
}

fn view_change_reply_json(m: &ViewChangeReply) -> Value {
    json!({
        "src": replica_name(m.src), "dest": replica_name(m.dest), "type": "MViewChangeReply",
        "viewID": m.view_id, "logViewID": m.log_view_id, "log": log_json(&m.log),
    })
}

/// A message as its TLA+ record, in ITF.
pub fn message_json(m: &Message) -> Value {
    match m {
        Message::ClientRequest(m) => client_request_json(m),
        Message::Reply(m) => reply_json(m),
        Message::Rejection(m) => json!({
            "src": replica_name(m.src), "dest": client_name(m.dest),
            "req": client_request_json(&m.req), "type": "MClientReply", "viewID": m.view_id,
            "succeeded": false,
        }),
        Message::ReconcileRequest(m) => reconcile_request_json(m),
        Message::RepairRequest(m) => json!({
            "src": replica_name(m.src), "dest": replica_name(m.dest),
            "req": reconcile_request_json(&m.req), "type": "MRepairRequest",
            "viewID": m.view_id, "index": m.index,
        }),
        Message::RepairReply(m) => json!({
            "src": replica_name(m.src), "dest": replica_name(m.dest),
            "req": reconcile_request_json(&m.req), "type": "MRepairReply",
            "viewID": m.view_id, "index": m.index, "log": log_json(&m.log),
        }),
        Message::ViewChange(m) => json!({
            "src": replica_name(m.src), "dest": replica_name(m.dest), "type": "MViewChange",
            "viewID": m.view_id,
        }),
        Message::ViewChangeReply(m) => view_change_reply_json(m),
        Message::StartView(m) => json!({
            "src": replica_name(m.src), "dest": replica_name(m.dest), "type": "MStartView",
            "viewID": m.view_id, "log": log_json(&m.log),
        }),
    }
}

impl fmt::Display for Message {
    /// The message in TLA+ notation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&spec_core::itf::tla(&message_json(self)))
    }
}

impl State {
    /// The state as ITF JSON, one field per variable of the spec.
    pub fn to_itf(&self) -> Value {
        let per_client = |f: &dyn Fn(usize) -> Value| json!({"#map": (0..self.clients()).map(|c| json!([client_name(c as Client), f(c)])).collect::<Vec<_>>()});
        let per_replica = |f: &dyn Fn(usize) -> Value| json!({"#map": (0..self.replicas()).map(|r| json!([replica_name(r as Replica), f(r)])).collect::<Vec<_>>()});
        json!({
            "messages": set_json(self.messages.iter().map(message_json)),
            "messageCount": self.message_count,
            "stepCount": self.step_count,
            "cTime": self.c_time,
            "cViewID": per_client(&|c| json!(self.c_view_id[c])),
            "cReqID": per_client(&|c| json!(self.c_req_id[c])),
            "cReps": per_client(&|c| set_json(self.c_reps[c].iter().map(reply_json))),
            "cCommits": per_client(&|c| set_json(self.c_commits[c].iter().map(reply_json))),
            "rStatus": per_replica(&|r| json!(self.r_status[r].tla())),
            "rViewID": per_replica(&|r| json!(self.r_view_id[r])),
            "rLog": per_replica(&|r| log_json(&self.r_log[r])),
            "rSyncIndex": per_replica(&|r| json!(self.r_sync_index[r])),
            "rLogViewID": per_replica(&|r| json!(self.r_log_view_id[r])),
            "rViewChangeReps": per_replica(&|r| set_json(self.r_view_change_reps[r].iter().map(view_change_reply_json))),
        })
    }
}

impl Serialize for State {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_itf().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's formulas at 3 replicas: primaries r1, r2, r1, r2, r3 for views 1..=5.
    #[test]
    fn primaries_and_quorums_follow_the_spec() {
        let primaries: Vec<Replica> = (1..=6).map(|v| primary(3, v)).collect();
        assert_eq!(primaries, [0, 1, 0, 1, 2, 0]);
        assert_eq!(quorum(3, 1), 0b011);
        assert_eq!(quorum(3, 2), 0b110);
        assert_eq!(quorum(3, 5), 0b101);
        assert_eq!(quorum(2, 1), 0b11);
        assert!(is_quorum(2, 0b01) && !is_quorum(3, 0b001) && is_quorum(3, 0b101));
    }

    /// The orders TLC printed for records of this spec (see the module docs).
    #[test]
    fn tlc_order_compares_lengths_first_and_values_before_timestamps() {
        let e = |value, timestamp| Entry { value, timestamp };
        assert_eq!(
            tlc_cmp_log(&vec![e(1, 1)], &vec![e(0, 1), e(0, 2)]),
            Ordering::Less
        );
        assert_eq!(tlc_cmp_log(&vec![e(0, 3)], &vec![e(1, 1)]), Ordering::Less);
    }
}
