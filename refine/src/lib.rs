//! # refine: the workspace's layers and edges, checked by name
//!
//! The `refine` command line, the registry of this workspace's layers and refinement edges
//! ([`layers`]), the benchmark of the reference models ([`bench`](mod@bench)), and the cross-layer test
//! suites (`tests/`). The checking itself is the harness, [`refinement_tests`], which depends on
//! no layer: a crate of your own can check its own layer with it without any of these.
//!
//! ```
//! use refinement_tests::Options;
//! use spec_core::Params;
//! let options = Options { threads: 1, progress: None, ..Options::default() };
//! let report = refine::layers::check_layer("distlog", &Params::default(), None, &[], &options).unwrap();
//! assert!(report.violation.is_none());
//! ```

pub mod bench;
pub mod layers;
