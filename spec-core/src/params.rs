//! Model-checking bounds: the constants of a TLC model (`Server`, `Value`, `MaxLogLen`, ...).

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
}

impl Bound {
    /// Every bound, in flag order.
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
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.flag())
    }
}

/// The bounds of a model. A `None` means "the layer's default".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
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
        }
    }

    /// Sets a bound.
    pub fn set(&mut self, bound: Bound, value: usize) {
        let slot = match bound {
            Bound::Servers => &mut self.servers,
            Bound::Values => &mut self.values,
            Bound::MaxLogLen => &mut self.max_log_len,
            Bound::MaxTerm => &mut self.max_term,
            Bound::MaxConfigVersion => &mut self.max_config_version,
            Bound::MaxMessages => &mut self.max_messages,
            Bound::Restarts => &mut self.restarts,
            Bound::Duplicates => &mut self.duplicates,
        };
        *slot = Some(value);
    }

    /// Fails if a bound outside `accepted` was given.
    pub fn only(&self, layer: &'static str, accepted: &[Bound]) -> Result<(), ParamsError> {
        for bound in Bound::ALL {
            if self.get(bound).is_some() && !accepted.contains(&bound) {
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
        Bound::ALL
            .iter()
            .filter_map(|b| {
                self.get(*b)
                    .map(|v| format!("{}={v}", b.flag().trim_start_matches("--")))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}
