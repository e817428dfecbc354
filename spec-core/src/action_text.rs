//! Reading actions back from the text their `Display` writes: `Name(arg, arg, ...)`, with
//! servers written `n1`, values `v1`, sets of servers `{n1, n3}`, as in TLA+.
//!
//! Every layer's action implements [`std::str::FromStr`] with [`ParseActionError`]; these
//! helpers do the shared part. A layer's parser is one `match` on the action name:
//!
//! ```
//! use spec_core::action_text::{self, ParseActionError};
//! use spec_core::Server;
//!
//! #[derive(Debug, PartialEq)]
//! enum Step { Write { s: Server, v: usize }, Crash { s: Server } }
//!
//! fn parse(text: &str) -> Result<Step, ParseActionError> {
//!     action_text::parse(text, |name, args| match (name, args) {
//!         ("Write", [s, v]) => Ok(Step::Write { s: action_text::server(s)?, v: action_text::value(v)? }),
//!         ("Crash", [s]) => Ok(Step::Crash { s: action_text::server(s)? }),
//!         _ => Err(action_text::unknown(name, args, &["Write(s, v)", "Crash(s)"])),
//!     })
//! }
//! assert_eq!(parse("Write(n2, v1)").unwrap(), Step::Write { s: 1, v: 0 });
//! assert_eq!(
//!     parse("Crash(x)").unwrap_err().to_string(),
//!     "cannot read action `Crash(x)`: x is not a server name n1, n2, ..."
//! );
//! ```

use crate::itf::{server_index, value_index};
use crate::{Server, ServerSet};
use std::fmt;

/// Why a text is not an action of a layer: the text, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseActionError {
    /// The text given.
    pub input: String,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for ParseActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read action `{}`: {}", self.input, self.problem)
    }
}

impl std::error::Error for ParseActionError {}

/// Splits `Name(a, b, ...)` into the name and its top-level arguments (commas inside `{}`,
/// `[]`, `()` and `<<>>` do not split), then builds the action with `build`, whose error
/// becomes the [`ParseActionError`]'s problem.
pub fn parse<A>(
    text: &str,
    build: impl FnOnce(&str, &[&str]) -> Result<A, String>,
) -> Result<A, ParseActionError> {
    let fail = |problem: String| ParseActionError {
        input: text.to_string(),
        problem,
    };
    let (name, args) = call(text).map_err(fail)?;
    build(name, &args).map_err(fail)
}

/// `Name(a, b, ...)` as the name and its top-level arguments, trimmed.
pub fn call(text: &str) -> Result<(&str, Vec<&str>), String> {
    let text = text.trim();
    let open = text
        .find('(')
        .ok_or("expected Name(arguments, ...)".to_string())?;
    let name = text[..open].trim();
    let body = text[open + 1..]
        .strip_suffix(')')
        .ok_or("expected a closing parenthesis at the end".to_string())?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("{name:?} is not an action name"));
    }
    Ok((name, split_top_level(body)?))
}

/// Splits at the commas outside brackets.
pub fn split_top_level(body: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    let bytes = body.as_bytes();
    for (k, &b) in bytes.iter().enumerate() {
        match b {
            b'{' | b'[' | b'(' => depth += 1,
            b'<' if bytes.get(k + 1) == Some(&b'<') => depth += 1,
            b'}' | b']' | b')' => depth -= 1,
            b'>' if k > 0 && bytes[k - 1] == b'>' && bytes.get(k + 1) != Some(&b'>') => depth -= 1,
            b',' if depth == 0 => {
                parts.push(body[start..k].trim());
                start = k + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return Err("unbalanced brackets".into());
        }
    }
    if depth != 0 {
        return Err("unbalanced brackets".into());
    }
    let last = body[start..].trim();
    if !(parts.is_empty() && last.is_empty()) {
        parts.push(last);
    }
    Ok(parts)
}

/// The error for a name or an argument count no action of the layer has, listing its forms.
pub fn unknown(name: &str, args: &[&str], forms: &[&str]) -> String {
    let known = forms.iter().any(|f| f.split('(').next() == Some(name));
    if known {
        format!(
            "{name} takes other arguments than the {} given; the actions are: {}",
            args.len(),
            forms.join(", ")
        )
    } else {
        format!("no action {name}; the actions are: {}", forms.join(", "))
    }
}

/// A server (0-based) from its name: `n1` is 0. Any number a [`Server`] holds is read (`n9` in
/// a 3-server model too: whether the server exists is the model's question, answered by
/// `Spec::step`); one past the 256 servers a `Server` names is refused, never wrapped.
pub fn server(arg: &str) -> Result<Server, String> {
    let s = server_index(arg).ok_or_else(|| format!("{arg} is not a server name n1, n2, ..."))?;
    Server::try_from(s).map_err(|_| format!("{arg} is past the 256 servers an action names"))
}

/// A client value (0-based) from its name: `v1` is 0.
pub fn value(arg: &str) -> Result<usize, String> {
    value_index(arg).ok_or_else(|| format!("{arg} is not a value name v1, v2, ..."))
}

/// A natural number.
pub fn natural(arg: &str) -> Result<usize, String> {
    arg.parse()
        .map_err(|_| format!("{arg} is not a natural number"))
}

/// The items of a set `{a, b}` (`{}` is empty).
pub fn set_items(arg: &str) -> Result<Vec<&str>, String> {
    let body = arg
        .strip_prefix('{')
        .and_then(|a| a.strip_suffix('}'))
        .ok_or_else(|| format!("{arg} is not a set {{...}}"))?;
    split_top_level(body)
}

/// A set of servers `{n1, n3}`, of servers `n1..n16` (what a [`ServerSet`] holds).
pub fn server_set(arg: &str) -> Result<ServerSet, String> {
    let mut set = ServerSet::EMPTY;
    for item in set_items(arg)? {
        let s = usize::from(server(item)?);
        if s >= crate::MAX_SERVERS {
            return Err(format!(
                "{item} is past the {} servers a set holds",
                crate::MAX_SERVERS
            ));
        }
        set = set.with(s);
    }
    Ok(set)
}

/// What [`check_round_trips`] checked: how many actions, and the names of those seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundTrips {
    /// Actions printed and parsed back (one per successor).
    pub actions: usize,
    /// The names of the actions seen.
    pub names: std::collections::BTreeSet<&'static str>,
}

/// Checks that every action `spec` takes, from the states it reaches (breadth first, every
/// state within the constraint expanded, up to `limit` states), prints and parses back to
/// itself; returns what was checked, or the first action that does not read back. For a
/// layer's tests.
pub fn check_round_trips<M: crate::Spec>(spec: &M, limit: usize) -> Result<RoundTrips, String> {
    let mut seen: std::collections::HashSet<M::State> = spec.init_states().into_iter().collect();
    let mut queue: std::collections::VecDeque<M::State> = seen.iter().cloned().collect();
    let mut checked = RoundTrips {
        actions: 0,
        names: Default::default(),
    };
    let mut successors = Vec::new();
    while let Some(state) = queue.pop_front() {
        successors.clear();
        spec.next_states(&state, &mut successors);
        for (action, next) in successors.drain(..) {
            let text = action.to_string();
            match text.parse::<M::Action>() {
                Ok(read) if read == action => checked.actions += 1,
                Ok(read) => return Err(format!("`{text}` reads back as `{read}`")),
                Err(e) => return Err(e.to_string()),
            }
            checked.names.insert(crate::Action::name(&action));
            if seen.len() < limit && spec.within_constraint(&next) && seen.insert(next.clone()) {
                queue.push_back(next);
            }
        }
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_top_level_commas_only() {
        assert_eq!(
            call("BecomeLeader(n1, {n1, n3})").unwrap(),
            ("BecomeLeader", vec!["n1", "{n1, n3}"])
        );
        assert_eq!(call("Next(1..2, [1 :> v1, 2 :> v2])").unwrap().1.len(), 2);
        assert_eq!(call("X(<<1, 2>>, 3)").unwrap().1, ["<<1, 2>>", "3"]);
        assert_eq!(call("Stutter()").unwrap().1, Vec::<&str>::new());
        assert!(call("X(n1").is_err());
        assert!(call("X(n1))").is_err());
        assert!(call("(n1)").is_err());
    }

    #[test]
    fn servers_values_and_sets() {
        assert_eq!(server("n3"), Ok(2));
        assert_eq!(server("n3_OF_SERVER"), Ok(2));
        assert!(server("n0").is_err() && server("n").is_err() && server("n01").is_err());
        assert_eq!(value("v2"), Ok(1));
        assert_eq!(server_set("{n1, n3}"), Ok(ServerSet(0b101)));
        assert_eq!(server_set("{}"), Ok(ServerSet::EMPTY));
        assert!(server_set("{n17}").is_err());
        assert!(server_set("n1").is_err());
    }
}
