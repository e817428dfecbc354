//! A linearizability checker for client histories of the key-value service.
//!
//! A [`History`] records each client operation's invocation and response times (from one
//! monotonic clock shared by every client thread: tokio's, so that under a paused runtime, the
//! simulation's, it is the simulated clock; times are made strictly increasing in the order
//! they are recorded, so that events at one instant keep the order they happened in) and its
//! outcome: done, the value read, or
//! unknown (an error or a timeout: the write may have taken effect, at any time after its
//! invocation, or never). [`check`] decides whether the history is linearizable with respect
//! to a sequential map, key by key (linearizability is compositional: a history is
//! linearizable exactly when each key's sub-history is).
//!
//! The search is Wing and Gong's, with Lowe's memoization (the WGL algorithm, the one
//! Knossos and Porcupine implement): repeatedly pick an operation that may take effect next
//! (one invoked before every pending completed operation's response), apply it to the
//! model (a read must return the model's value), and backtrack on failure; a (set of
//! operations taken, model value) configuration already explored is not explored again. An
//! operation of unknown outcome never has to be taken; a read of unknown outcome constrains
//! nothing and is dropped.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::time::Instant;

/// What an operation asked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    /// Set the key to a value.
    Put(String),
    /// Remove the key.
    Delete,
    /// Read the key.
    Get,
}

/// What it came to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A write was acknowledged.
    Done,
    /// A read returned this value (`None`: the key was not set).
    Read(Option<String>),
    /// No answer, or an error: the operation may or may not have taken effect.
    Unknown,
}

/// One operation of a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The client (thread) that made it.
    pub client: u32,
    /// The key.
    pub key: String,
    /// The call.
    pub call: Call,
    /// Invocation time, nanoseconds since the history began.
    pub invoke: u64,
    /// Response time, nanoseconds; `None` while pending or when the outcome is unknown.
    pub response: Option<u64>,
    /// The outcome.
    pub outcome: Outcome,
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let call = match &self.call {
            Call::Put(v) => format!("put({}, {v})", self.key),
            Call::Delete => format!("delete({})", self.key),
            Call::Get => format!("get({})", self.key),
        };
        let outcome = match &self.outcome {
            Outcome::Done => "ok".to_string(),
            Outcome::Read(v) => v.clone().unwrap_or_else(|| "(not set)".into()),
            Outcome::Unknown => "unknown".to_string(),
        };
        let end = self
            .response
            .map_or("...".to_string(), |r| format!("{}", r / 1000));
        write!(
            f,
            "c{} {call} -> {outcome} [{}..{end} us]",
            self.client,
            self.invoke / 1000
        )
    }
}

/// A history being recorded by several clients (threads or tasks).
#[derive(Clone, Debug)]
pub struct History {
    start: Instant,
    ops: Arc<Mutex<(Vec<Operation>, u64)>>,
}

impl Default for History {
    fn default() -> History {
        History::new()
    }
}

impl History {
    /// An empty history whose clock starts now.
    pub fn new() -> History {
        History {
            start: Instant::now(),
            ops: Arc::default(),
        }
    }

    /// The time now, past the last one recorded (under the lock: the order of the times is
    /// the order of the records).
    fn now(&self, last: &mut u64) -> u64 {
        let now = (self.start.elapsed().as_nanos() as u64).max(*last + 1);
        *last = now;
        now
    }

    /// Records an invocation; the handle for its [`History::complete`].
    pub fn invoke(&self, client: u32, key: &str, call: Call) -> usize {
        let mut guard = self.ops.lock().expect("history lock");
        let (ops, last) = &mut *guard;
        let invoke = self.now(last);
        ops.push(Operation {
            client,
            key: key.to_string(),
            call,
            invoke,
            response: None,
            outcome: Outcome::Unknown,
        });
        ops.len() - 1
    }

    /// Records the response of operation `op`: its outcome ([`Outcome::Unknown`] leaves it
    /// open forever).
    pub fn complete(&self, op: usize, outcome: Outcome) {
        let mut guard = self.ops.lock().expect("history lock");
        let (ops, last) = &mut *guard;
        let now = self.now(last);
        let o = &mut ops[op];
        if outcome != Outcome::Unknown {
            o.response = Some(now);
        }
        o.outcome = outcome;
    }

    /// The operations so far.
    pub fn operations(&self) -> Vec<Operation> {
        self.ops.lock().expect("history lock").0.clone()
    }
}

/// What [`check`] found in a linearizable history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Linearizable {
    /// Keys.
    pub keys: usize,
    /// Operations checked (reads of unknown outcome dropped).
    pub operations: usize,
    /// Of which of unknown outcome.
    pub unknown: usize,
    /// Configurations explored by the search, over every key.
    pub explored: usize,
}

/// Why a history is not linearizable (or could not be decided).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotLinearizable {
    /// The key whose sub-history fails.
    pub key: String,
    /// What is wrong.
    pub why: String,
    /// The key's operations, in invocation order.
    pub operations: Vec<Operation>,
}

impl std::fmt::Display for NotLinearizable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "key {}: {}", self.key, self.why)?;
        for o in &self.operations {
            writeln!(f, "  {o}")?;
        }
        Ok(())
    }
}

impl std::error::Error for NotLinearizable {}

/// The most configurations explored for one key before the search gives up (undecided).
pub const MAX_EXPLORED: usize = 2_000_000;

/// Checks `history` against a sequential map that starts empty, key by key.
pub fn check(history: &[Operation]) -> Result<Linearizable, NotLinearizable> {
    let mut by_key: BTreeMap<&str, Vec<Operation>> = BTreeMap::new();
    for o in history {
        if o.call == Call::Get && o.outcome == Outcome::Unknown {
            continue;
        }
        by_key.entry(&o.key).or_default().push(o.clone());
    }
    let mut found = Linearizable {
        keys: by_key.len(),
        ..Linearizable::default()
    };
    for (key, mut ops) in by_key {
        ops.sort_by_key(|o| o.invoke);
        found.operations += ops.len();
        found.unknown += ops.iter().filter(|o| o.outcome == Outcome::Unknown).count();
        match search(&ops) {
            Ok(explored) => found.explored += explored,
            Err(why) => {
                return Err(NotLinearizable {
                    key: key.to_string(),
                    why,
                    operations: ops,
                })
            }
        }
    }
    Ok(found)
}

/// A set of operation indexes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn has(&self, k: usize) -> bool {
        self.0[k / 64] & (1 << (k % 64)) != 0
    }
    fn with(&self, k: usize) -> Bits {
        let mut b = self.clone();
        b.0[k / 64] |= 1 << (k % 64);
        b
    }
}

/// The WGL search for one key's operations (sorted by invocation): the configurations
/// explored, or why none linearizes them.
fn search(ops: &[Operation]) -> Result<usize, String> {
    let n = ops.len();
    // Values as small numbers: 0 is "not set".
    let mut values: HashMap<String, u32> = HashMap::new();
    let mut value_id = |v: &String| {
        let next = values.len() as u32 + 1;
        *values.entry(v.clone()).or_insert(next)
    };
    let effect: Vec<Effect> = ops
        .iter()
        .map(|o| match (&o.call, &o.outcome) {
            (Call::Put(v), _) => Effect::Set(value_id(v)),
            (Call::Delete, _) => Effect::Set(0),
            (Call::Get, Outcome::Read(Some(v))) => Effect::Expect(value_id(v)),
            (Call::Get, _) => Effect::Expect(0),
        })
        .collect();
    let required = ops.iter().filter(|o| o.response.is_some()).count();
    let candidates = |taken: &Bits| -> Vec<usize> {
        let first_response = (0..n)
            .filter(|&k| !taken.has(k))
            .filter_map(|k| ops[k].response)
            .min()
            .unwrap_or(u64::MAX);
        (0..n)
            .filter(|&k| !taken.has(k) && ops[k].invoke <= first_response)
            .collect()
    };
    struct Frame {
        taken: Bits,
        done: usize,
        value: u32,
        candidates: Vec<usize>,
        next: usize,
    }
    let start = Bits::new(n);
    let mut seen: HashSet<(Bits, u32)> = HashSet::new();
    seen.insert((start.clone(), 0));
    let mut stack = vec![Frame {
        candidates: candidates(&start),
        taken: start,
        done: 0,
        value: 0,
        next: 0,
    }];
    let mut deepest = 0;
    while let Some(top) = stack.last_mut() {
        if top.done == required {
            return Ok(seen.len());
        }
        let Some(&k) = top.candidates.get(top.next) else {
            stack.pop();
            continue;
        };
        top.next += 1;
        let value = match effect[k] {
            Effect::Set(v) => v,
            Effect::Expect(v) if v == top.value => v,
            Effect::Expect(_) => continue,
        };
        let taken = top.taken.with(k);
        let done = top.done + usize::from(ops[k].response.is_some());
        if !seen.insert((taken.clone(), value)) {
            continue;
        }
        if seen.len() > MAX_EXPLORED {
            return Err(format!(
                "undecided: more than {MAX_EXPLORED} configurations explored"
            ));
        }
        deepest = deepest.max(done);
        stack.push(Frame {
            candidates: candidates(&taken),
            taken,
            done,
            value,
            next: 0,
        });
    }
    Err(format!(
        "no linearization: at most {deepest} of its {required} completed operations can be ordered"
    ))
}

#[derive(Clone, Copy, Debug)]
enum Effect {
    Set(u32),
    Expect(u32),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(client: u32, call: Call, span: (u64, Option<u64>), outcome: Outcome) -> Operation {
        Operation {
            client,
            key: "x".into(),
            call,
            invoke: span.0 * 1000,
            response: span.1.map(|r| r * 1000),
            outcome,
        }
    }

    fn put(client: u32, v: &str, span: (u64, u64)) -> Operation {
        op(
            client,
            Call::Put(v.into()),
            (span.0, Some(span.1)),
            Outcome::Done,
        )
    }

    fn get(client: u32, v: Option<&str>, span: (u64, u64)) -> Operation {
        op(
            client,
            Call::Get,
            (span.0, Some(span.1)),
            Outcome::Read(v.map(str::to_string)),
        )
    }

    #[test]
    fn concurrent_operations_linearize_in_some_order() {
        // c1 puts 1 then 2; c2's read overlaps the second put and sees either value; c3 reads
        // the key before any put completes and sees nothing.
        let history = vec![
            get(3, None, (0, 5)),
            put(1, "1", (1, 10)),
            put(1, "2", (20, 30)),
            get(2, Some("1"), (15, 25)),
            get(2, Some("2"), (26, 40)),
        ];
        let found = check(&history).unwrap();
        assert_eq!(
            found,
            Linearizable {
                keys: 1,
                operations: 5,
                unknown: 0,
                explored: 6
            }
        );
    }

    #[test]
    fn a_stale_read_after_an_acknowledged_write_is_not_linearizable() {
        let history = vec![
            put(1, "1", (0, 10)),
            put(1, "2", (20, 30)),
            get(2, Some("1"), (40, 50)),
        ];
        let err = check(&history).unwrap_err();
        assert_eq!(
            err.to_string(),
            "key x: no linearization: at most 2 of its 3 completed operations can be ordered\n  c1 put(x, 1) -> ok [0..10 us]\n  c1 put(x, 2) -> ok [20..30 us]\n  c2 get(x) -> 1 [40..50 us]\n"
        );
    }

    #[test]
    fn a_write_of_unknown_outcome_may_take_effect_late_or_never() {
        let unknown = op(1, Call::Put("3".into()), (60, None), Outcome::Unknown);
        // Never: a later read still sees the old value.
        let never = vec![
            put(1, "2", (0, 10)),
            unknown.clone(),
            get(2, Some("2"), (70, 80)),
        ];
        assert_eq!(check(&never).unwrap().unknown, 1);
        // Late: long after its invocation, then it stays.
        let late = vec![
            put(1, "2", (0, 10)),
            unknown.clone(),
            get(2, Some("2"), (70, 80)),
            get(2, Some("3"), (500, 510)),
        ];
        assert_eq!(check(&late).unwrap().operations, 4);
        // But once seen it cannot be unseen: reading 2 after 3 is not linearizable.
        let flicker = vec![
            put(1, "2", (0, 10)),
            unknown,
            get(2, Some("3"), (70, 80)),
            get(2, Some("2"), (90, 100)),
        ];
        let err = check(&flicker).unwrap_err();
        assert_eq!(
            err.why,
            "no linearization: at most 2 of its 3 completed operations can be ordered"
        );
    }

    #[test]
    fn keys_are_checked_apart_and_a_read_of_unknown_outcome_is_dropped() {
        let mut y = get(2, Some("1"), (40, 50));
        y.key = "y".into();
        let lost = op(3, Call::Get, (0, None), Outcome::Unknown);
        let history = vec![put(1, "1", (0, 10)), y, lost];
        let err = check(&history).unwrap_err();
        assert_eq!(
            err.key, "y",
            "y was never written: reading 1 there is wrong"
        );
        assert_eq!(err.operations.len(), 1);
    }
}
