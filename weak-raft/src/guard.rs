//! Guards as lists of named conjuncts, evaluated two ways from one definition.
//!
//! A guard is written once, as a chain `g.conjunct(holds, text) && g.conjunct(...) && ...` over a
//! [`Conjuncts`] sink. With [`Holds`] the chain is the plain boolean guard: it stops at the first
//! false conjunct and never builds a description (the closures are not called), so the
//! successor function pays nothing for the explanations. With [`FalseConjuncts`] every conjunct
//! is evaluated and each false one is described, in TLA+ notation with the action's values
//! bound: what [`spec_core::Spec::disabled_because`] reports. Since both come from the same
//! chain, the explanation cannot drift from the guard.
//!
//! A conjunct inside a named predicate of the specification is written after the predicate's
//! instance: `CanVoteForOplog(n3, n2, currentTerm[n2] + 1): currentTerm[n3] < currentTerm[n2] +
//! 1` (the voter n3's term is not below the candidate n2's next term).

/// Where the conjuncts of a guard go as it is evaluated.
pub trait Conjuncts {
    /// Takes a conjunct that `holds` or not, described by `text` (called only if it is false
    /// and the sink describes), and says whether to evaluate the conjuncts after it: for
    /// [`Holds`], whether it held.
    fn conjunct(&mut self, holds: bool, text: impl FnOnce() -> String) -> bool;
}

/// The boolean guard: the first false conjunct ends the evaluation, nothing is described.
#[derive(Clone, Copy, Debug, Default)]
pub struct Holds;

impl Conjuncts for Holds {
    #[inline(always)]
    fn conjunct(&mut self, holds: bool, _text: impl FnOnce() -> String) -> bool {
        holds
    }
}

/// The descriptions of every false conjunct, in the order the guard lists them.
#[derive(Clone, Debug, Default)]
pub struct FalseConjuncts(pub Vec<String>);

impl Conjuncts for FalseConjuncts {
    fn conjunct(&mut self, holds: bool, text: impl FnOnce() -> String) -> bool {
        if !holds {
            self.0.push(text());
        }
        true
    }
}

/// The false conjuncts of the guard `guard` evaluates: empty exactly when it holds.
pub fn false_conjuncts(guard: impl FnOnce(&mut FalseConjuncts) -> bool) -> Vec<String> {
    let mut why = FalseConjuncts::default();
    guard(&mut why);
    why.0
}
