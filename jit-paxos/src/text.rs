//! Reading actions back from the text they print: `ClientRequest(c1, v1)`, `ChangeView(r2)`,
//! `HandleViewChange(r2, r1, [dest |-> r2, src |-> r1, type |-> MViewChange, viewID |-> 2])`,
//! `DropMessage([...])`. A message is a TLA+ record, read with a small reader of TLA+ values
//! (records, sequences, integers, names, booleans) into the ITF JSON the state writes, then
//! into a [`Message`].

use crate::actions::Action;
use crate::state::*;
use serde_json::{Map, Value};
use spec_core::action_text::{self, ParseActionError};

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
    field(v, f)?
        .as_u64()
        .and_then(|k| u8::try_from(k).ok())
        .ok_or_else(|| format!("{f} is not a small natural number"))
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
