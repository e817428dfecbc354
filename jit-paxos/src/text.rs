//! Reading actions back from the text they print: `ClientRequest(c1, v1)`, `ChangeView(r2)`,
//! `HandleViewChange(r2, r1, [dest |-> r2, src |-> r1, type |-> MViewChange, viewID |-> 2])`,
//! `DropMessage([...])`. A message is a TLA+ record, read with a small reader of TLA+ values
//! (records, sequences, integers, names, booleans) into the ITF JSON the state writes, then
//! into a [`Message`].

use crate::actions::Action;
use crate::state::*;
use serde_json::{Map, Value};
use spec_core::action_text::{self, ParseActionError};
use spec_core::itf::{self, ReadError, Record};
use std::collections::BTreeSet;

/// The spec's variables, as its states' ITF records name them.
pub const VARIABLES: &[&str] = &[
    "messages",
    "messageCount",
    "stepCount",
    "cTime",
    "cViewID",
    "cReqID",
    "cReps",
    "cCommits",
    "rStatus",
    "rViewID",
    "rLog",
    "rSyncIndex",
    "rLogViewID",
    "rViewChangeReps",
];

/// Reads a state back from the ITF JSON [`State::to_itf`] writes, for a model of `replicas`
/// replicas, `clients` clients and `values` values: a name outside the model (`r4` of 3
/// replicas), a malformed record or a missing variable is an error naming the variable.
pub fn read_state(
    value: &Value,
    replicas: usize,
    clients: usize,
    values: usize,
) -> Result<State, ReadError> {
    let vars = Record::new(value, VARIABLES)?;
    let within = |v: &Value| names_within(v, replicas, clients, values);
    let messages = vars.var("messages", |v| {
        within(v)?;
        itf::each(itf::set(v)?, message_from_json)
    })?;
    let per = |name: &str, prefix: char, count: usize| {
        vars.var(name, |v| {
            within(v)?;
            per_name(v, prefix, count).map(|vs| vs.into_iter().cloned().collect::<Vec<Value>>())
        })
    };
    let small = |name: &str| vars.var(name, |v| itf::small(v, u8::MAX));
    let each_small = |name: &str, prefix: char, count: usize| -> Result<Vec<u8>, ReadError> {
        per(name, prefix, count)?
            .iter()
            .map(|v| itf::small(v, u8::MAX).map_err(|e| ReadError::var(name, e)))
            .collect()
    };
    let each_set =
        |name: &str, prefix: char, count: usize| -> Result<Vec<Vec<Message>>, ReadError> {
            per(name, prefix, count)?
                .iter()
                .map(|v| {
                    itf::set(v)
                        .and_then(|items| itf::each(items, message_from_json))
                        .map_err(|e| ReadError::var(name, e))
                })
                .collect()
        };
    let replies = |name: &str| -> Result<Vec<BTreeSet<Reply>>, ReadError> {
        each_set(name, 'c', clients)?
            .into_iter()
            .map(|ms| {
                ms.into_iter()
                    .map(|m| match m {
                        Message::Reply(r) => Ok(r),
                        other => Err(ReadError::var(name, format!("{other} is not a full reply"))),
                    })
                    .collect()
            })
            .collect()
    };
    let statuses = per("rStatus", 'r', replicas)?
        .iter()
        .map(|v| match v.as_str() {
            Some("SNormal") => Ok(Status::Normal),
            Some("SRepair") => Ok(Status::Repair),
            Some("SViewChange") => Ok(Status::ViewChange),
            _ => Err(ReadError::var("rStatus", format!("{v} is not a status"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let logs = per("rLog", 'r', replicas)?
        .iter()
        .map(|v| log(v).map_err(|e| ReadError::var("rLog", e)))
        .collect::<Result<Vec<_>, _>>()?;
    let view_change_reps = each_set("rViewChangeReps", 'r', replicas)?
        .into_iter()
        .map(|ms| {
            ms.into_iter()
                .map(|m| match m {
                    Message::ViewChangeReply(r) => Ok(r),
                    other => Err(ReadError::var(
                        "rViewChangeReps",
                        format!("{other} is not a view-change reply"),
                    )),
                })
                .collect()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(State {
        messages: messages.into_iter().collect(),
        message_count: small("messageCount")?,
        step_count: small("stepCount")?,
        c_time: small("cTime")?,
        c_view_id: each_small("cViewID", 'c', clients)?,
        c_req_id: each_small("cReqID", 'c', clients)?,
        c_reps: replies("cReps")?,
        c_commits: replies("cCommits")?,
        r_status: statuses,
        r_view_id: each_small("rViewID", 'r', replicas)?,
        r_log: logs,
        r_sync_index: each_small("rSyncIndex", 'r', replicas)?,
        r_log_view_id: each_small("rLogViewID", 'r', replicas)?,
        r_view_change_reps: view_change_reps,
    })
}

/// The values of a function of `p1..p{count}` (`{"#map": [["r1", x], ...]}`), in order.
fn per_name(v: &Value, prefix: char, count: usize) -> Result<Vec<&Value>, String> {
    let pairs = itf::map(v)?;
    let mut out: Vec<Option<&Value>> = vec![None; count];
    for (key, value) in pairs {
        let name = key.as_str().unwrap_or("");
        let k = indexed(name, prefix)? as usize;
        match out.get_mut(k) {
            Some(slot @ None) => *slot = Some(value),
            Some(Some(_)) => return Err(format!("{name} appears twice")),
            None => return Err(format!("{name} is not one of {prefix}1..{prefix}{count}")),
        }
    }
    out.into_iter()
        .enumerate()
        .map(|(k, v)| v.ok_or_else(|| format!("no value for {prefix}{}", k + 1)))
        .collect()
}

/// Every name `r<k>`, `c<k>`, `v<k>` in `v` is one of the model's.
fn names_within(v: &Value, replicas: usize, clients: usize, values: usize) -> Result<(), String> {
    match v {
        Value::String(name) => {
            for (prefix, count) in [('r', replicas), ('c', clients), ('v', values)] {
                if let Some(k) = name
                    .strip_prefix(prefix)
                    .and_then(|k| k.parse::<usize>().ok())
                {
                    if k == 0 || k > count {
                        return Err(format!("{name} is not one of {prefix}1..{prefix}{count}"));
                    }
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .try_for_each(|x| names_within(x, replicas, clients, values)),
        Value::Object(fields) => fields
            .values()
            .try_for_each(|x| names_within(x, replicas, clients, values)),
        _ => Ok(()),
    }
}

const FORMS: &[&str] = &[
    "ClientRequest(c, v)",
    "ChangeView(r)",
    "Handle<Type>(dest, src, message)",
    "DropMessage(message)",
];

/// Reads an action as `Display` writes it.
pub fn parse_action(text: &str) -> Result<Action, ParseActionError> {
    action_text::parse(text, |name, args| match (name, args) {
        ("ClientRequest", [c, v]) => Ok(Action::ClientRequest {
            client: indexed(c, 'c')?,
            value: indexed(v, 'v')?,
        }),
        ("ChangeView", [r]) => Ok(Action::ChangeView {
            replica: indexed(r, 'r')?,
        }),
        ("DropMessage", [m]) => Ok(Action::DropMessage(message(m)?)),
        (_, [dest, src, m]) if name.starts_with("Handle") => {
            let m = message(m)?;
            let json = message_json(&m);
            if Action::handler_name(&m) != name {
                return Err(format!(
                    "a {} message is handled by {}, not {name}",
                    m.type_name(),
                    Action::handler_name(&m)
                ));
            }
            if json["dest"] != *dest || json["src"] != *src {
                return Err(format!(
                    "the arguments {dest}, {src} are not the message's dest and src"
                ));
            }
            Ok(Action::Handle(m))
        }
        _ => Err(action_text::unknown(name, args, FORMS)),
    })
}

/// `r3` as 2 (with prefix `r`).
fn indexed(arg: &str, prefix: char) -> Result<u8, String> {
    arg.strip_prefix(prefix)
        .and_then(|k| k.parse::<u8>().ok())
        .filter(|&k| k >= 1)
        .map(|k| k - 1)
        .ok_or_else(|| format!("{arg} is not a name {prefix}1, {prefix}2, ..."))
}

/// A message from its TLA+ record.
pub fn message(text: &str) -> Result<Message, String> {
    let mut reader = Reader {
        text: text.as_bytes(),
        at: 0,
    };
    let value = reader.value()?;
    reader.skip_space();
    if reader.at != reader.text.len() {
        return Err(format!("unexpected text after the message: {text}"));
    }
    message_from_json(&value)
}

/// A message from its ITF record.
pub fn message_from_json(v: &Value) -> Result<Message, String> {
    let ty = field(v, "type")?
        .as_str()
        .ok_or("type is not a name")?
        .to_string();
    Ok(match ty.as_str() {
        "MClientRequest" => Message::ClientRequest(client_request(v)?),
        "MReconcileRequest" => Message::ReconcileRequest(reconcile_request(v)?),
        "MClientReply" if v.get("checksum").is_none() => Message::Rejection(Rejection {
            src: name(v, "src", 'r')?,
            dest: name(v, "dest", 'c')?,
            req: client_request(field(v, "req")?)?,
            view_id: int(v, "viewID")?,
        }),
        "MClientReply" | "MReconcileReply" => Message::Reply(reply(v)?),
        "MRepairRequest" => Message::RepairRequest(RepairRequest {
            src: name(v, "src", 'r')?,
            dest: name(v, "dest", 'r')?,
            req: reconcile_request(field(v, "req")?)?,
            view_id: int(v, "viewID")?,
            index: int(v, "index")?,
        }),
        "MRepairReply" => Message::RepairReply(RepairReply {
            src: name(v, "src", 'r')?,
            dest: name(v, "dest", 'r')?,
            req: reconcile_request(field(v, "req")?)?,
            view_id: int(v, "viewID")?,
            index: int(v, "index")?,
            log: log(field(v, "log")?)?,
        }),
        "MViewChange" => Message::ViewChange(ViewChange {
            src: name(v, "src", 'r')?,
            dest: name(v, "dest", 'r')?,
            view_id: int(v, "viewID")?,
        }),
        "MViewChangeReply" => Message::ViewChangeReply(ViewChangeReply {
            src: name(v, "src", 'r')?,
            dest: name(v, "dest", 'r')?,
            view_id: int(v, "viewID")?,
            log_view_id: int(v, "logViewID")?,
            log: log(field(v, "log")?)?,
        }),
        "MStartView" => Message::StartView(StartView {
            src: name(v, "src", 'r')?,
            dest: name(v, "dest", 'r')?,
            view_id: int(v, "viewID")?,
            log: log(field(v, "log")?)?,
        }),
        other => return Err(format!("no message type {other}")),
    })
}

fn reply(v: &Value) -> Result<Reply, String> {
    let req = field(v, "req")?;
    let req = match field(req, "type")?.as_str() {
        Some("MClientRequest") => Request::Client(client_request(req)?),
        Some("MReconcileRequest") => Request::Reconcile(reconcile_request(req)?),
        _ => return Err("a reply's req is a client or reconcile request".into()),
    };
    let ty = field(v, "type")?.as_str();
    let expected = match req {
        Request::Client(_) => "MClientReply",
        Request::Reconcile(_) => "MReconcileReply",
    };
    if ty != Some(expected) {
        return Err(format!("a reply to that request is an {expected}"));
    }
    Ok(Reply {
        src: name(v, "src", 'r')?,
        dest: name(v, "dest", 'c')?,
        req,
        view_id: int(v, "viewID")?,
        index: int(v, "index")?,
        checksum: log(field(v, "checksum")?)?,
        value: name(v, "value", 'v')?,
        timestamp: int(v, "timestamp")?,
        succeeded: field(v, "succeeded")?
            .as_bool()
            .ok_or("succeeded is not a boolean")?,
    })
}

fn client_request(v: &Value) -> Result<ClientRequest, String> {
    Ok(ClientRequest {
        src: name(v, "src", 'c')?,
        dest: name(v, "dest", 'r')?,
        view_id: int(v, "viewID")?,
        req_id: int(v, "reqID")?,
        value: name(v, "value", 'v')?,
        timestamp: int(v, "timestamp")?,
    })
}

fn reconcile_request(v: &Value) -> Result<ReconcileRequest, String> {
    Ok(ReconcileRequest {
        src: name(v, "src", 'c')?,
        dest: name(v, "dest", 'r')?,
        view_id: int(v, "viewID")?,
        req_id: int(v, "reqID")?,
        index: int(v, "index")?,
    })
}

fn log(v: &Value) -> Result<Log, String> {
    v.as_array()
        .ok_or("a log is a sequence")?
        .iter()
        .map(|e| {
            Ok(Entry {
                value: name(e, "value", 'v')?,
                timestamp: int(e, "timestamp")?,
            })
        })
        .collect()
}

fn field<'a>(v: &'a Value, f: &str) -> Result<&'a Value, String> {
    v.get(f).ok_or_else(|| format!("no field {f}"))
}

fn int(v: &Value, f: &str) -> Result<u8, String> {
    itf::small(field(v, f)?, u8::MAX).map_err(|e| format!("{f}: {e}"))
}

fn name(v: &Value, f: &str, prefix: char) -> Result<u8, String> {
    indexed(
        field(v, f)?.as_str().ok_or(format!("{f} is not a name"))?,
        prefix,
    )
}

/// A reader of TLA+ values into JSON: records as objects, sequences as arrays.
struct Reader<'a> {
    text: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn skip_space(&mut self) {
        while self.at < self.text.len() && self.text[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        if self.text[self.at..].starts_with(token.as_bytes()) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(format!("expected {token} at offset {}", self.at))
        }
    }

    fn word(&mut self) -> Result<&str, String> {
        self.skip_space();
        let start = self.at;
        while self.at < self.text.len()
            && (self.text[self.at].is_ascii_alphanumeric() || self.text[self.at] == b'_')
        {
            self.at += 1;
        }
        if start == self.at {
            return Err(format!("expected a name or a number at offset {start}"));
        }
        Ok(std::str::from_utf8(&self.text[start..self.at]).expect("ASCII"))
    }

    fn value(&mut self) -> Result<Value, String> {
        if self.eat("[") {
            let mut fields = Map::new();
            loop {
                let key = self.word()?.to_string();
                self.expect("|->")?;
                fields.insert(key, self.value()?);
                if self.eat("]") {
                    return Ok(Value::Object(fields));
                }
                self.expect(",")?;
            }
        }
        if self.eat("<<") {
            let mut items = Vec::new();
            if self.eat(">>") {
                return Ok(Value::Array(items));
            }
            loop {
                items.push(self.value()?);
                if self.eat(">>") {
                    return Ok(Value::Array(items));
                }
                self.expect(",")?;
            }
        }
        let word = self.word()?;
        Ok(match word {
            "TRUE" => Value::Bool(true),
            "FALSE" => Value::Bool(false),
            _ => match word.parse::<u64>() {
                Ok(k) => Value::from(k),
                Err(_) => Value::String(word.to_string()),
            },
        })
    }
}
