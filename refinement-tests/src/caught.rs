//! Panics of a specification, caught and reported instead of taking the search down.
//!
//! A specification is code, and code can panic: a guard that lets `apply` meet a state outside
//! the encoding, an `expect` on a log that is shorter than a mutated guard assumed. A checker
//! must never turn that into a hang or a bare crash: the panic is a finding about the model, and
//! the user needs the behaviour that leads to it. So the engine calls the specification (its
//! successor function, its invariants, a refinement mapping) through [`catching`], which turns
//! a panic into a [`Caught`] value: the panic's message and where in the source it was raised.
//! The engine then reports it like a violation, with the trace to the state being expanded.
//!
//! Rust's panic hook would print every caught panic on standard error, once per failing state
//! (millions of lines if every state of a level panics). The hook installed here stays silent
//! for a panic raised inside [`catching`] on the same thread and records its location instead;
//! every other panic goes to the hook that was installed before (the default one prints it).

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

/// A panic caught while calling the specification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caught {
    /// The panic's message.
    pub message: String,
    /// Where it was raised (`file:line:column`), if known.
    pub location: Option<String>,
}

impl std::fmt::Display for Caught {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.location {
            Some(at) => write!(f, "\"{}\" (panicked at {at})", self.message),
            None => write!(f, "\"{}\"", self.message),
        }
    }
}

thread_local! {
    /// Whether this thread is inside [`catching`]: its panics are caught, not printed.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// The location of the last panic caught on this thread.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL_HOOK: Once = Once::new();

fn install_hook() {
    INSTALL_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CATCHING.with(Cell::get) {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                LOCATION.with(|cell| *cell.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
    });
}

/// Calls `f`, turning a panic into [`Caught`].
///
/// `f` may leave the values it borrows half-updated when it panics; the engine only reads them
/// again to finish the level it is in, and never explores past a level with a finding.
#[inline]
pub fn catching<T>(f: impl FnOnce() -> T) -> Result<T, Caught> {
    install_hook();
    let outer = CATCHING.with(|c| c.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(outer));
    result.map_err(|payload| {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "a panic with a value that is not a message".to_string()
        };
        Caught {
            message,
            location: LOCATION.with(|cell| cell.borrow_mut().take()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message_and_location() {
        let caught = catching(|| -> u8 { panic!("guard: log[{}] is longer", 2) }).unwrap_err();
        assert_eq!(caught.message, "guard: log[2] is longer");
        let at = caught.location.expect("the hook records the location");
        assert!(at.starts_with("refinement-tests/src/caught.rs:"), "{at}");
        assert_eq!(catching(|| 7), Ok(7));
    }

    #[test]
    fn nested_catching_restores_the_outer_flag() {
        let outer = catching(|| {
            let inner = catching(|| panic!("inner"));
            assert!(inner.is_err());
            assert!(CATCHING.with(Cell::get), "still inside the outer catching");
            panic!("outer")
        });
        assert_eq!(outer.unwrap_err().message, "outer");
        assert!(!CATCHING.with(Cell::get));
    }
}
