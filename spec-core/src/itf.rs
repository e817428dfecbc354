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
