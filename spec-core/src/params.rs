//! Model-checking bounds: the constants of a TLC model (`Server`, `Value`, `MaxLogLen`, ...).
//!
//! The bounds this workspace's layers share have a [`Bound`] each (`--servers`, `--max-term`,
//! ...); a layer of its own kind names its own with [`Bound::Named`]. A layer declares its
//! bounds as [`Parameter`]s (flag, default, range, help: `Layer::PARAMETERS`), and
//! [`Params::resolve`] reads a model's values from that declaration, so the command line and
//! its errors come from one place:
//!
//! ```
//! use spec_core::{Bound, Parameter, Params, ParamsError};
//! const FANOUT: Bound = Bound::Named("--fanout");
//! const PARAMETERS: &[Parameter] = &[
//!     Parameter::new(Bound::Servers, 3, (1, 8), "servers in the model"),
//!     Parameter::new(FANOUT, 2, (1, 4), "peers a message is sent to"),
//! ];
//! let mut params = Params::default();
//! params.set(FANOUT, 3);
//! assert_eq!(params.resolve::<2>("gossip", PARAMETERS), Ok([3, 3]));
//! params.set(FANOUT, 9);
//! let error = params.resolve::<2>("gossip", PARAMETERS).unwrap_err();
//! assert_eq!(error.to_string(), "layer gossip: --fanout 9 is out of range 1..=4 (peers a message is sent to)");
//! params = Params { values: Some(2), ..Params::default() };
//! let error = params.resolve::<2>("gossip", PARAMETERS).unwrap_err();
//! assert_eq!(error.to_string(), "layer gossip has no bound --values; its bounds are: --servers --fanout");
//! ```

use std::fmt;

/// One kind of bound, with its command-line flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bound {
    /// The number of servers (TLC's `Server` constant).
    Servers,
    /// The number of client values (TLC's `Value` constant).
    Values,
    /// The longest log explored (the `MaxLogLen` state constraint; for Log, the index range).
    MaxLogLen,
    /// The largest term explored (the `MaxTerm` state constraint).
    MaxTerm,
    /// The largest config version explored (the `MaxConfigVersion` state constraint).
    MaxConfigVersion,
    /// The most messages in flight at once (a state constraint of message-passing layers).
    MaxMessages,
    /// How many node restarts a behaviour may contain (a fault budget).
    Restarts,
    /// How many message duplications a behaviour may contain (a fault budget).
    Duplicates,
    /// A bound of a layer's own, by its flag (two dashes and a name: `Bound::Named("--fanout")`),
    /// declared in the layer's `Layer::PARAMETERS`.
    Named(&'static str),
}

impl Bound {
    /// Every bound with a name of its own (not [`Bound::Named`]), in flag order.
    pub const ALL: [Bound; 8] = [
        Bound::Servers,
        Bound::Values,
        Bound::MaxLogLen,
        Bound::MaxTerm,
        Bound::MaxConfigVersion,
        Bound::MaxMessages,
        Bound::Restarts,
        Bound::Duplicates,
    ];

    /// The command-line flag, such as `--max-log-len`.
    pub fn flag(self) -> &'static str {
        match self {
            Bound::Servers => "--servers",
            Bound::Values => "--values",
            Bound::MaxLogLen => "--max-log-len",
            Bound::MaxTerm => "--max-term",
            Bound::MaxConfigVersion => "--max-config-version",
            Bound::MaxMessages => "--max-messages",
            Bound::Restarts => "--restarts",
            Bound::Duplicates => "--duplicates",
            Bound::Named(flag) => flag,
        }
    }

    /// The flag without its dashes, such as `max-log-len`: the bound's key in JSON.
    pub fn name(self) -> &'static str {
        self.flag().trim_start_matches("--")
    }
}

/// A bound as a layer declares it: its flag, its default, the values it may take, and what it
/// means. [`Params::resolve`] reads a model's values from a layer's declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parameter {
    /// The bound.
    pub bound: Bound,
    /// Its value when none is given.
    pub default: usize,
    /// The smallest value allowed.
    pub min: usize,
    /// The largest value allowed.
    pub max: usize,
    /// What it means, or why its range is what it is (errors quote it).
    pub help: &'static str,
}

impl Parameter {
    /// The parameter `bound`, `default` when not given, within `min..=max`.
    pub const fn new(
        bound: Bound,
        default: usize,
        (min, max): (usize, usize),
        help: &'static str,
    ) -> Parameter {
        Parameter {
            bound,
            default,
            min,
            max,
            help,
        }
    }
}

impl Parameter {
    /// The same parameter with a narrower largest value, for a range that depends on another
    /// bound's value (the declaration holds the widest).
    #[must_use = "with_max returns the narrowed parameter; read the value with Params::value_of"]
    pub const fn with_max(self, max: usize) -> Parameter {
        Parameter { max, ..self }
    }
}

impl fmt::Display for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} N (default {}, {}..={}): {}",
            self.bound, self.default, self.min, self.max, self.help
        )
    }
}

/// The most [`Bound::Named`] bounds one [`Params`] holds.
pub const MAX_NAMED_BOUNDS: usize = 8;

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.flag())
    }
}

/// The bounds of a model. A `None` means "the layer's default". Bounds of a layer's own
/// ([`Bound::Named`]) are read and written with [`Params::get`] and [`Params::set`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Params {
    /// Number of servers.
    pub servers: Option<usize>,
    /// Number of client values.
    pub values: Option<usize>,
    /// Maximum log length.
    pub max_log_len: Option<usize>,
    /// Maximum term.
    pub max_term: Option<usize>,
    /// Maximum config version.
    pub max_config_version: Option<usize>,
    /// Maximum number of messages in flight.
    pub max_messages: Option<usize>,
    /// Restart budget.
    pub restarts: Option<usize>,
    /// Duplication budget.
    pub duplicates: Option<usize>,
    /// The [`Bound::Named`] bounds given (read and written with [`Params::get`] and
    /// [`Params::set`]).
    pub named: NamedBounds,
}

/// The values of [`Bound::Named`] bounds in a [`Params`], in the order first set; at most
/// [`MAX_NAMED_BOUNDS`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NamedBounds([Option<(&'static str, usize)>; MAX_NAMED_BOUNDS]);

impl NamedBounds {
    fn iter(&self) -> impl Iterator<Item = &(&'static str, usize)> + Clone {
        self.0.iter().flatten()
    }
}

/// An object with one field per bound: the eight shared ones (`null` when not given), then the
/// named ones given, keyed by their names without dashes.
impl serde::Serialize for Params {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let named = self.named.iter();
        let mut map = serializer.serialize_map(Some(Bound::ALL.len() + named.clone().count()))?;
        let key = |bound: Bound| bound.name().replace('-', "_");
        for bound in Bound::ALL {
            map.serialize_entry(&key(bound), &self.get(bound))?;
        }
        for &(flag, value) in named {
            map.serialize_entry(Bound::Named(flag).name(), &value)?;
        }
        map.end()
    }
}

/// Why a set of bounds cannot be used for a layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamsError {
    /// A bound the layer does not have was given.
    Unused {
        /// The layer.
        layer: &'static str,
        /// The offending bound.
        bound: Bound,
        /// The bounds the layer does take.
        accepted: Vec<Bound>,
    },
    /// A bound is outside what the layer or its state encoding supports.
    OutOfRange {
        /// The layer.
        layer: &'static str,
        /// The offending bound.
        bound: Bound,
        /// The value given.
        value: usize,
        /// The smallest value allowed.
        min: usize,
        /// The largest value allowed.
        max: usize,
        /// Why the range is what it is.
        why: &'static str,
    },
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamsError::Unused {
                layer,
                bound,
                accepted,
            } => {
                let flags: Vec<&str> = accepted.iter().map(|b| b.flag()).collect();
                write!(
                    f,
                    "layer {layer} has no bound {bound}; its bounds are: {}",
                    if flags.is_empty() {
                        "(none)".to_string()
                    } else {
                        flags.join(" ")
                    }
                )
            }
            ParamsError::OutOfRange {
                layer,
                bound,
                value,
                min,
                max,
                why,
            } => write!(
                f,
                "layer {layer}: {bound} {value} is out of range {min}..={max} ({why})"
            ),
        }
    }
}

impl std::error::Error for ParamsError {}

impl Params {
    /// The value given for a bound, if any.
    pub fn get(&self, bound: Bound) -> Option<usize> {
        match bound {
            Bound::Servers => self.servers,
            Bound::Values => self.values,
            Bound::MaxLogLen => self.max_log_len,
            Bound::MaxTerm => self.max_term,
            Bound::MaxConfigVersion => self.max_config_version,
            Bound::MaxMessages => self.max_messages,
            Bound::Restarts => self.restarts,
            Bound::Duplicates => self.duplicates,
            Bound::Named(flag) => self.named.iter().find(|(f, _)| *f == flag).map(|&(_, v)| v),
        }
    }

    /// Sets a bound.
    ///
    /// # Panics
    ///
    /// When a named bound would be the [`MAX_NAMED_BOUNDS`]` + 1`th.
    pub fn set(&mut self, bound: Bound, value: usize) {
        if let Bound::Named(flag) = bound {
            let slot = self
                .named
                .0
                .iter_mut()
                .find(|slot| slot.is_none_or(|(f, _)| f == flag))
                .unwrap_or_else(|| {
                    panic!("{flag}: a Params holds at most {MAX_NAMED_BOUNDS} named bounds")
                });
            *slot = Some((flag, value));
            return;
        }
        let slot = match bound {
            Bound::Servers => &mut self.servers,
            Bound::Values => &mut self.values,
            Bound::MaxLogLen => &mut self.max_log_len,
            Bound::MaxTerm => &mut self.max_term,
            Bound::MaxConfigVersion => &mut self.max_config_version,
            Bound::MaxMessages => &mut self.max_messages,
            Bound::Restarts => &mut self.restarts,
            Bound::Duplicates => &mut self.duplicates,
            Bound::Named(_) => unreachable!("named bounds are set above"),
        };
        *slot = Some(value);
    }

    /// Every bound given, the shared ones in flag order, then the named ones.
    pub fn given(&self) -> impl Iterator<Item = (Bound, usize)> + '_ {
        Bound::ALL
            .into_iter()
            .filter_map(|b| self.get(b).map(|v| (b, v)))
            .chain(self.named.iter().map(|&(f, v)| (Bound::Named(f), v)))
    }

    /// The values of the bounds `declared` (a layer's `Layer::PARAMETERS`), in their order:
    /// each one given, or its default, checked against its range; a bound given that is not
    /// declared is an error ([`ParamsError::Unused`]).
    ///
    /// # Panics
    ///
    /// When `N` is not the number of parameters declared: a programming error.
    pub fn resolve<const N: usize>(
        &self,
        layer: &'static str,
        declared: &[Parameter],
    ) -> Result<[usize; N], ParamsError> {
        assert_eq!(
            declared.len(),
            N,
            "layer {layer} declares {} parameters, not {N}",
            declared.len()
        );
        self.only_declared(layer, declared)?;
        let mut values = [0; N];
        for (value, p) in values.iter_mut().zip(declared) {
            *value = self.value_of(layer, p)?;
        }
        Ok(values)
    }

    /// Fails if a bound outside those `declared` (a layer's `Layer::PARAMETERS`) was given.
    pub fn only_declared(
        &self,
        layer: &'static str,
        declared: &[Parameter],
    ) -> Result<(), ParamsError> {
        let bounds: Vec<Bound> = declared.iter().map(|p| p.bound).collect();
        self.only(layer, &bounds)
    }

    /// The value of the bound `parameter` declares: the one given, or its default, checked
    /// against its range.
    pub fn value_of(
        &self,
        layer: &'static str,
        parameter: &Parameter,
    ) -> Result<usize, ParamsError> {
        let p = parameter;
        self.value_in(layer, p.bound, p.default, (p.min, p.max), p.help)
    }

    /// Fails if a bound outside `accepted` was given.
    pub fn only(&self, layer: &'static str, accepted: &[Bound]) -> Result<(), ParamsError> {
        for (bound, _) in self.given() {
            if !accepted.contains(&bound) {
                return Err(ParamsError::Unused {
                    layer,
                    bound,
                    accepted: accepted.to_vec(),
                });
            }
        }
        Ok(())
    }

    /// The value of a bound, or `default`, checked against `min..=max`.
    pub fn value_in(
        &self,
        layer: &'static str,
        bound: Bound,
        default: usize,
        (min, max): (usize, usize),
        why: &'static str,
    ) -> Result<usize, ParamsError> {
        let value = self.get(bound).unwrap_or(default);
        if value < min || value > max {
            return Err(ParamsError::OutOfRange {
                layer,
                bound,
                value,
                min,
                max,
                why,
            });
        }
        Ok(value)
    }

    /// A short description such as `servers=3 values=3 max-log-len=3`, of the bounds given.
    pub fn describe(&self) -> String {
        self.given()
            .map(|(b, v)| format!("{}={v}", b.name()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}
