//! Serialization helpers for the Informal Trace Format (ITF), the JSON trace format of Apalache
//! and Quint.
//!
//! In ITF a TLA+ value is JSON: integers are numbers, strings and model values are strings,
//! sequences are arrays, records are objects, and sets, tuples and functions are tagged objects
//! `{"#set": [...]}`, `{"#tup": [...]}` and `{"#map": [[key, value], ...]}`. A layer's state
//! serializes its variables with these wrappers; the checker uses the same JSON both to write
//! trace files and to print states in TLA+ notation.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

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
pub fn server_name(i: usize) -> String {
    format!("n{}", i + 1)
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

#[cfg(test)]
mod tests {
    use super::*;

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
