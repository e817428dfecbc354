//! Serialization helpers for the Informal Trace Format (ITF), the JSON trace format of Apalache
//! and Quint.
//!
//! In ITF a TLA+ value is JSON: integers are numbers, strings and model values are strings,
//! sequences are arrays, records are objects, and sets, tuples and functions are tagged objects
//! `{"#set": [...]}`, `{"#tup": [...]}` and `{"#map": [[key, value], ...]}`. A layer's state
//! serializes its variables with these wrappers; the checker uses the same JSON both to write
//! trace files and to print states in TLA+ notation.
//!
//! # Reading back
//!
//! The second half of the module reads those values back, for [`Spec::read_state`]: a layer
//! takes a state's variables with [`Record`], and each variable's value with the readers
//! ([`int`], [`set`], [`tup`], [`seq`], [`map`], [`per_server`], [`server`], ...). Each reader
//! returns a short description of what is wrong; [`Record::var`] adds the variable's name, so a
//! malformed trace gives an error such as `variable currentTerm: n4 is not a server of this
//! 3-server model`, never a panic. Integers are read both as JSON numbers and as Apalache's
//! `{"#bigint": "123"}`; server names as `n1` and as Apalache's `n1_OF_SERVER`.
//!
//! ```
//! use spec_core::itf::{self, Record};
//!
//! let state = serde_json::json!({"currentTerm": {"#map": [["n1", 2], ["n2", {"#bigint": "1"}]]}});
//! let vars = Record::new(&state, &["currentTerm"]).unwrap();
//! let terms = vars.var("currentTerm", |v| {
//!     itf::per_server(v, None)?.into_iter().map(|t| itf::small(t, 255)).collect::<Result<Vec<u8>, _>>()
//! });
//! assert_eq!(terms.unwrap(), [2, 1]);
//! let err = vars.var("currentTerm", |v| itf::per_server(v, Some(3))).unwrap_err();
//! assert_eq!(err.to_string(), "variable currentTerm: expected one value per server n1..n3, found 2");
//! ```
//!
//! [`Spec::read_state`]: crate::Spec::read_state

use crate::ServerSet;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
/// A JSON value: what ITF is written in (serde_json's, re-exported so that a layer reading
/// states back needs no JSON dependency of its own).
pub use serde_json::Value;
use std::fmt;

/// A TLA+ set, serialized as `{"#set": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Set<T>(pub Vec<T>);

/// A TLA+ tuple, serialized as `{"#tup": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tup<T>(pub Vec<T>);

/// A TLA+ function, serialized as `{"#map": [[key, value], ...]}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Map<K, V>(pub Vec<(K, V)>);

struct Items<'a, T>(&'a [T]);

impl<T: Serialize> Serialize for Items<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

fn tagged<S: Serializer, T: Serialize>(
    serializer: S,
    tag: &str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(tag, value)?;
    map.end()
}

impl<T: Serialize> Serialize for Set<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        tagged(serializer, "#set", &Items(&self.0))
    }
}

impl<T: Serialize> Serialize for Tup<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        tagged(serializer, "#tup", &Items(&self.0))
    }
}

impl<K: Serialize, V: Serialize> Serialize for Map<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let pairs: Vec<(&K, &V)> = self.0.iter().map(|(k, v)| (k, v)).collect();
        tagged(serializer, "#map", &Items(&pairs))
    }
}

/// The name of server `i` (0-based) in traces: `n1`, `n2`, ...
pub fn server_name(i: impl Into<usize>) -> String {
    format!("n{}", i.into() + 1)
}

/// The name of client value `v` (0-based) in traces: `v1`, `v2`, ...
pub fn value_name(v: usize) -> String {
    format!("v{}", v + 1)
}

/// Renders an ITF JSON value in TLA+ notation: sets `{a, b}`, tuples and sequences `<<a, b>>`,
/// functions `[n1 |-> x, n2 |-> y]` (or `(k :> v @@ ...)` for non-name keys), records
/// `[field |-> value]`.
pub fn tla(value: &Value) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("<<{}>>", join(items)),
        Value::Object(fields) => {
            if let Some(Value::Array(items)) = fields.get("#set") {
                format!("{{{}}}", join(items))
            } else if let Some(Value::Array(items)) = fields.get("#tup") {
                format!("<<{}>>", join(items))
            } else if let Some(Value::String(big)) = fields.get("#bigint") {
                big.clone()
            } else if let Some(Value::Array(pairs)) = fields.get("#map") {
                let named = pairs.iter().all(|p| p.get(0).is_some_and(Value::is_string));
                if pairs.is_empty() {
                    "<<>>".into()
                } else if named {
                    let body: Vec<String> = pairs
                        .iter()
                        .map(|p| format!("{} |-> {}", tla(&p[0]), tla(&p[1])))
                        .collect();
                    format!("[{}]", body.join(", "))
                } else {
                    let body: Vec<String> = pairs
                        .iter()
                        .map(|p| format!("{} :> {}", tla(&p[0]), tla(&p[1])))
                        .collect();
                    format!("({})", body.join(" @@ "))
                }
            } else {
                let body: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k} |-> {}", tla(v)))
                    .collect();
                format!("[{}]", body.join(", "))
            }
        }
    }
}

fn join(items: &[Value]) -> String {
    items.iter().map(tla).collect::<Vec<_>>().join(", ")
}

/// A state's variables, by name.
pub type Vars = Vec<(String, Value)>;

/// The variables of a state's ITF JSON, by name (a state that is not a record of variables is
/// one variable, `state`).
pub fn variables(value: &Value) -> Vars {
    match value {
        Value::Object(fields) if !fields.keys().any(|k| k.starts_with('#')) => {
            fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        }
        other => vec![("state".to_string(), other.clone())],
    }
}

/// The variables in which two states differ, each with its value in `a` and in `b`, in TLA+
/// notation: what an explanation of "leads to a different state" shows.
pub fn differences<S: Serialize>(a: &S, b: &S) -> Vec<(String, String, String)> {
    let as_vars = |s: &S| variables(&serde_json::to_value(s).unwrap_or(Value::Null));
    let (a, b) = (as_vars(a), as_vars(b));
    a.iter()
        .filter_map(|(name, va)| {
            let vb = b.iter().find(|(n, _)| n == name).map(|(_, v)| v);
            (vb != Some(va)).then(|| (name.clone(), tla(va), vb.map_or("-".into(), tla)))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Reading ITF values back
// ---------------------------------------------------------------------------------------------

/// Why a state could not be read from its ITF JSON: the variable, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// The variable whose value is malformed or missing; empty when the state itself is not a
    /// record of variables, or has the wrong ones.
    pub variable: String,
    /// What is wrong.
    pub problem: String,
}

impl ReadError {
    /// An error about the state as a whole (not one variable).
    pub fn state(problem: impl Into<String>) -> ReadError {
        ReadError {
            variable: String::new(),
            problem: problem.into(),
        }
    }

    /// An error about `variable`.
    pub fn var(variable: &str, problem: impl Into<String>) -> ReadError {
        ReadError {
            variable: variable.to_string(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.variable.is_empty() {
            f.write_str(&self.problem)
        } else {
            write!(f, "variable {}: {}", self.variable, self.problem)
        }
    }
}

impl std::error::Error for ReadError {}

/// What a reader of one value returns: the value, or what is wrong with it.
pub type Read<T> = Result<T, String>;

/// A short rendering of a JSON value for error messages.
fn shown(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 {
        format!("{}...", text.chars().take(57).collect::<String>())
    } else {
        text
    }
}

/// Whether a key of a state's ITF record is not one of the spec's variables but something a
/// tool adds: `#meta` (any key starting with `#`), the upper images `upper.x` of a refinement
/// trace written by `--trace-json`, and Quint's model-based-testing variables
/// (`mbt::actionTaken`, `mbt::nondetPicks`).
pub fn ignored_variable(name: &str) -> bool {
    name.starts_with('#') || name.starts_with("upper.") || name.starts_with("mbt::")
}

/// A state's variables, read from its ITF record: exactly the variables `names`, in any order;
/// the keys of [`ignored_variable`] are ignored.
pub struct Record<'a> {
    fields: &'a serde_json::Map<String, Value>,
}

impl<'a> Record<'a> {
    /// The record of `value`, which must have exactly the variables `names`.
    pub fn new(value: &'a Value, names: &[&str]) -> Result<Record<'a>, ReadError> {
        let Value::Object(fields) = value else {
            return Err(ReadError::state(format!(
                "a state must be a record of variables, found {}",
                shown(value)
            )));
        };
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !fields.contains_key(*n))
            .collect();
        let unknown: Vec<&str> = fields
            .keys()
            .map(String::as_str)
            .filter(|k| !ignored_variable(k) && !names.contains(k))
            .collect();
        if !missing.is_empty() || !unknown.is_empty() {
            let mut problem = format!("the variables are {}", names.join(", "));
            if !missing.is_empty() {
                problem.push_str(&format!("; missing: {}", missing.join(", ")));
            }
            if !unknown.is_empty() {
                problem.push_str(&format!("; unknown: {}", unknown.join(", ")));
            }
            return Err(ReadError::state(problem));
        }
        Ok(Record { fields })
    }

    /// Reads variable `name` (one of the record's) with `read`, naming it in the error.
    pub fn var<T>(
        &self,
        name: &str,
        read: impl FnOnce(&'a Value) -> Read<T>,
    ) -> Result<T, ReadError> {
        let value = self
            .fields
            .get(name)
            .ok_or_else(|| ReadError::var(name, "missing"))?;
        read(value).map_err(|problem| ReadError::var(name, problem))
    }
}

/// The number of servers of a state, read from one of its per-server functions (`var`): what
/// a `serde::Deserialize` implementation, which has no model to ask, takes the model to be.
pub fn servers_of(value: &Value, var: &str) -> Result<usize, ReadError> {
    let pairs = value
        .get(var)
        .ok_or_else(|| ReadError::var(var, "missing"))
        .and_then(|v| map(v).map_err(|problem| ReadError::var(var, problem)))?;
    Ok(pairs.len())
}

/// Deserializes a value through its ITF JSON: the body of a layer state's
/// `serde::Deserialize`, which reads the JSON into a [`Value`] and hands it to `read` (the
/// layer's reader, with the model's constants taken from the value itself).
pub fn deserialize_with<'de, D, T>(
    deserializer: D,
    read: impl FnOnce(&Value) -> Result<T, ReadError>,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    let value = Value::deserialize(deserializer)?;
    read(&value).map_err(serde::de::Error::custom)
}

/// An integer: a JSON number, or `{"#bigint": "123"}`.
pub fn int(v: &Value) -> Read<i64> {
    if let Some(i) = v.as_i64() {
        return Ok(i);
    }
    if let Some(Value::String(digits)) = v.get("#bigint") {
        return digits
            .parse()
            .map_err(|_| format!("{} is not an integer this model can hold", shown(v)));
    }
    Err(format!("expected an integer, found {}", shown(v)))
}

/// A small natural number, at most `max` (the most the state encoding holds).
pub fn small(v: &Value, max: u8) -> Read<u8> {
    let i = int(v)?;
    if (0..=max as i64).contains(&i) {
        Ok(i as u8)
    } else {
        Err(format!(
            "{i} is outside 0..{max}, what the state encoding holds"
        ))
    }
}

/// A string (a TLA+ string or model value).
pub fn string(v: &Value) -> Read<&str> {
    v.as_str()
        .ok_or_else(|| format!("expected a string, found {}", shown(v)))
}

fn tagged_items<'a>(v: &'a Value, tag: &str, what: &str) -> Read<&'a [Value]> {
    match v {
        Value::Object(fields) if fields.len() == 1 => match fields.get(tag) {
            Some(Value::Array(items)) => Ok(items),
            _ => Err(format!(
                "expected {what} {{\"{tag}\": [...]}}, found {}",
                shown(v)
            )),
        },
        _ => Err(format!(
            "expected {what} {{\"{tag}\": [...]}}, found {}",
            shown(v)
        )),
    }
}

/// The elements of a set, `{"#set": [...]}`.
pub fn set(v: &Value) -> Read<&[Value]> {
    tagged_items(v, "#set", "a set")
}

/// The components of a tuple, `{"#tup": [...]}`.
pub fn tup(v: &Value) -> Read<&[Value]> {
    tagged_items(v, "#tup", "a tuple")
}

/// The components of a tuple of exactly `n` components.
pub fn tup_of(v: &Value, n: usize) -> Read<&[Value]> {
    let items = tup(v)?;
    if items.len() == n {
        Ok(items)
    } else {
        Err(format!("expected a {n}-tuple, found {}", shown(v)))
    }
}

/// The items of a sequence, a JSON array.
pub fn seq(v: &Value) -> Read<&[Value]> {
    v.as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("expected a sequence [...], found {}", shown(v)))
}

/// The `(key, value)` pairs of a function, `{"#map": [[key, value], ...]}`.
pub fn map(v: &Value) -> Read<Vec<(&Value, &Value)>> {
    tagged_items(v, "#map", "a function")?
        .iter()
        .map(|pair| match pair.as_array().map(Vec::as_slice) {
            Some([key, value]) => Ok((key, value)),
            _ => Err(format!(
                "expected a [key, value] pair, found {}",
                shown(pair)
            )),
        })
        .collect()
}

/// The fields of a record `{"field": value, ...}`, exactly `names`, in that order.
pub fn record<'a>(v: &'a Value, names: &[&str]) -> Read<Vec<&'a Value>> {
    let fields = match v {
        Value::Object(fields) if !fields.keys().any(|k| k.starts_with('#')) => fields,
        _ => {
            return Err(format!(
                "expected a record [{}], found {}",
                names.join(", "),
                shown(v)
            ))
        }
    };
    if fields.len() != names.len() {
        return Err(format!(
            "expected a record [{}], found {}",
            names.join(", "),
            shown(v)
        ));
    }
    names
        .iter()
        .map(|n| {
            fields.get(*n).ok_or_else(|| {
                format!(
                    "expected a record [{}], found {}",
                    names.join(", "),
                    shown(v)
                )
            })
        })
        .collect()
}

/// A server (0-based) from its name: `n1` is server 0. Apalache's typed model values
/// (`n1_OF_SERVER`) are read too.
pub fn server(v: &Value) -> Read<usize> {
    let name = string(v)?;
    server_index(name).ok_or_else(|| format!("{} is not a server name n1, n2, ...", shown(v)))
}

/// The server (0-based) named `name` (`n1`, or Apalache's `n1_OF_SERVER`), if it is one.
pub fn server_index(name: &str) -> Option<usize> {
    let name = name.split_once("_OF_").map_or(name, |(n, _)| n);
    let number: usize = name.strip_prefix('n')?.parse().ok()?;
    (number >= 1 && name.len() > 1 && !name[1..].starts_with('0')).then(|| number - 1)
}

/// A client value (0-based) from its name: `v1` is value 0 (`v1_OF_VALUE` too).
pub fn value(v: &Value) -> Read<usize> {
    let name = string(v)?;
    value_index(name).ok_or_else(|| format!("{} is not a value name v1, v2, ...", shown(v)))
}

/// The client value (0-based) named `name` (`v1`, or `v1_OF_VALUE`), if it is one.
pub fn value_index(name: &str) -> Option<usize> {
    let name = name.split_once("_OF_").map_or(name, |(n, _)| n);
    let number: usize = name.strip_prefix('v')?.parse().ok()?;
    (number >= 1 && name.len() > 1 && !name[1..].starts_with('0')).then(|| number - 1)
}

/// A set of servers, `{"#set": ["n1", ...]}`, each below `servers`.
pub fn server_set(v: &Value, servers: usize) -> Read<ServerSet> {
    let mut out = ServerSet::EMPTY;
    for item in set(v)? {
        let s = server(item)?;
        if s >= servers {
            return Err(not_a_server(s, servers));
        }
        out = out.with(s);
    }
    Ok(out)
}

fn not_a_server(s: usize, servers: usize) -> String {
    format!(
        "{} is not a server of this {servers}-server model",
        server_name(s)
    )
}

/// The values of a function over the servers, `{"#map": [["n1", x1], ["n2", x2], ...]}`, in
/// server order: every server of `1..=k` exactly once, in any order, with `k` the given number
/// of servers or, with `None`, the number of pairs.
pub fn per_server(v: &Value, servers: Option<usize>) -> Read<Vec<&Value>> {
    let pairs = map(v)?;
    let n = servers.unwrap_or(pairs.len());
    if pairs.len() != n {
        return Err(format!(
            "expected one value per server n1..{}, found {}",
            server_name(n.saturating_sub(1)),
            pairs.len()
        ));
    }
    let mut out: Vec<Option<&Value>> = vec![None; n];
    for (key, value) in pairs {
        let s = server(key)?;
        match out.get_mut(s) {
            None => return Err(not_a_server(s, n)),
            Some(Some(_)) => return Err(format!("{} appears twice", server_name(s))),
            Some(slot) => *slot = Some(value),
        }
    }
    Ok(out.into_iter().flatten().collect())
}

/// Reads every item with `read`, naming the position of a bad one.
pub fn each<'a, T>(items: &'a [Value], mut read: impl FnMut(&'a Value) -> Read<T>) -> Read<Vec<T>> {
    items
        .iter()
        .enumerate()
        .map(|(k, item)| read(item).map_err(|e| format!("item {}: {e}", k + 1)))
        .collect()
}

/// Reads each server's value with `read`, naming the server of a bad one.
pub fn each_server<'a, T>(
    values: &[&'a Value],
    mut read: impl FnMut(&'a Value) -> Read<T>,
) -> Read<Vec<T>> {
    values
        .iter()
        .enumerate()
        .map(|(s, v)| read(v).map_err(|e| format!("at {}: {e}", server_name(s))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_accept_both_integer_forms_and_name_what_is_wrong() {
        use serde_json::json;
        assert_eq!(int(&json!(3)), Ok(3));
        assert_eq!(int(&json!({"#bigint": "-12"})), Ok(-12));
        assert_eq!(
            int(&json!({"#bigint": "1e3"})),
            Err(r##"{"#bigint":"1e3"} is not an integer this model can hold"##.into())
        );
        assert_eq!(
            small(&json!(7), 5),
            Err("7 is outside 0..5, what the state encoding holds".into())
        );
        assert_eq!(tup_of(&json!({"#tup": [1, 2]}), 2).map(<[_]>::len), Ok(2));
        assert_eq!(
            tup_of(&json!({"#tup": [1]}), 2),
            Err(r##"expected a 2-tuple, found {"#tup":[1]}"##.into())
        );
        assert_eq!(
            set(&json!({"#set": [], "#tup": []})),
            Err(r##"expected a set {"#set": [...]}, found {"#set":[],"#tup":[]}"##.into())
        );
        assert_eq!(
            map(&json!({"#map": [["n1"]]})),
            Err(r#"expected a [key, value] pair, found ["n1"]"#.into())
        );
        assert_eq!(server(&json!("n2_OF_SERVER")), Ok(1));
        assert_eq!(
            server_set(&json!({"#set": ["n1", "n3"]}), 3),
            Ok(ServerSet(0b101))
        );
        assert_eq!(
            server_set(&json!({"#set": ["n4"]}), 3),
            Err("n4 is not a server of this 3-server model".into())
        );
        let long =
            json!({"#map": [["n1", "a long string value that goes on and on and on and on"]]});
        assert_eq!(
            seq(&long),
            Err(r##"expected a sequence [...], found {"#map":[["n1","a long string value that goes on and on a..."##.into())
        );
        let state = json!({"x": 1, "#meta": {"index": 0}, "upper.y": 2, "mbt::actionTaken": "A"});
        assert!(Record::new(&state, &["x"]).is_ok());
        assert_eq!(
            Record::new(&state, &["x", "z"]).err().unwrap().to_string(),
            "the variables are x, z; missing: z"
        );
        assert_eq!(
            servers_of(&json!({"v": {"#map": [["n1", 0], ["n2", 0]]}}), "v"),
            Ok(2)
        );
    }

    #[test]
    fn renders_itf_values_in_tla_notation() {
        let v = serde_json::json!({"#map": [["n1", [1, 2]], ["n2", []]]});
        assert_eq!(tla(&v), "[n1 |-> <<1, 2>>, n2 |-> <<>>]");
        let v = serde_json::json!({"#set": [{"#tup": [1, "v1"]}]});
        assert_eq!(tla(&v), "{<<1, v1>>}");
    }

    #[test]
    fn differences_name_each_variable_that_differs() {
        #[derive(Serialize)]
        struct S {
            x: u8,
            y: Set<u8>,
        }
        let a = S {
            x: 1,
            y: Set(vec![1]),
        };
        let b = S {
            x: 1,
            y: Set(vec![1, 2]),
        };
        assert_eq!(
            differences(&a, &b),
            [("y".to_string(), "{1}".to_string(), "{1, 2}".to_string())]
        );
    }
}
