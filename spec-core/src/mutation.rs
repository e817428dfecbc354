//! Mutations: bugs a layer plants in itself on purpose, by name (`--mutation NAME`), to watch
//! the checker catch them.
//!
//! A layer declares its mutations once, with [`mutations!`](crate::mutations): each variant
//! with its name on the command line and what it breaks, in one line. The macro writes the
//! enum, `ALL`, `name`, `from_name`, `what`, `Display` and [`MutationSet`], which a registry of
//! layers reads:
//!
//! ```
//! spec_core::mutations! {
//!     /// Bugs of a counter.
//!     #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
//!     pub enum Mutation {
//!         /// Tick twice.
//!         DoubleTick = "double-tick" => "a tick adds two: breaks AtMostMax",
//!         /// Never stop.
//!         NoLimit = "no-limit" => "the counter passes its maximum",
//!     }
//! }
//! use spec_core::MutationSet;
//! assert_eq!(Mutation::ALL, [Mutation::DoubleTick, Mutation::NoLimit]);
//! assert_eq!(Mutation::from_name("no-limit"), Some(Mutation::NoLimit));
//! assert_eq!(Mutation::DoubleTick.to_string(), "double-tick");
//! assert_eq!(<Mutation as MutationSet>::all().len(), 2);
//! assert_eq!(MutationSet::what(Mutation::NoLimit), "the counter passes its maximum");
//! ```

/// A layer's set of mutations: every one, each with its name and what it breaks. Written by
/// [`mutations!`](crate::mutations).
pub trait MutationSet: Copy + Send + Sync + 'static {
    /// Every mutation, in the order a command line lists them.
    fn all() -> &'static [Self];
    /// Its name on the command line (`--mutation NAME`).
    fn name(self) -> &'static str;
    /// What it changes and what it breaks, in one line.
    fn what(self) -> &'static str;
}

/// Declares a layer's mutations: an enum whose variants each carry a name on the command line
/// and what the mutation breaks (`Variant = "name" => "what it breaks"`), with `ALL`, `name`,
/// `from_name`, `what`, `Display` (the name) and [`MutationSet`]. The enum's derives are the
/// caller's (`Clone` and `Copy` are needed). See the [module docs](crate::mutation).
#[macro_export]
macro_rules! mutations {
    (
        $(#[$meta:meta])*
        $vis:vis enum $enum:ident {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident = $name:literal => $what:expr
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $enum {
            $(
                $(#[$variant_meta])*
                $variant,
            )+
        }

        impl $enum {
            /// Every mutation, in the order `refine list` shows them.
            pub const ALL: [$enum; [$(stringify!($variant)),+].len()] = [$($enum::$variant),+];

            /// The mutation's name on the command line (`--mutation NAME`).
            pub fn name(self) -> &'static str {
                match self {
                    $($enum::$variant => $name,)+
                }
            }

            /// The mutation named `name`, if any.
            pub fn from_name(name: &str) -> ::std::option::Option<$enum> {
                $enum::ALL.into_iter().find(|m| m.name() == name)
            }

            /// What the mutation changes and what it breaks, in one line.
            pub fn what(self) -> &'static str {
                match self {
                    $($enum::$variant => $what,)+
                }
            }
        }

        impl ::std::fmt::Display for $enum {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl $crate::MutationSet for $enum {
            fn all() -> &'static [Self] {
                &$enum::ALL
            }
            fn name(self) -> &'static str {
                $enum::name(self)
            }
            fn what(self) -> &'static str {
                $enum::what(self)
            }
        }
    };
}
