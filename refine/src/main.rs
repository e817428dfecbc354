//! `refine`: check a layer, a refinement edge, or the whole chain, at chosen bounds.
//!
//! The command line is the harness's ([`refinement_tests::cli`]) over this workspace's registry
//! of layers and edges ([`refine::layers::REGISTRY`]) and its benchmark models
//! ([`refine::bench::MODELS`]).
//!
//! Exit status: 0 when everything checked holds, 1 when a violation was found (or a chain row is
//! vacuous), 2 for bad usage or input (a checkpoint that is damaged or of another search), 3 when
//! the search is incomplete (a level limit, the memory guard, Ctrl-C or SIGTERM), 101 when the
//! specification panicked.

use refinement_tests::cli::CommandLine;
use std::process::ExitCode;

fn main() -> ExitCode {
    CommandLine::new(
        "refine",
        "Check the layers of the MongoDB replication refinement chain and the mappings between them.",
        &refine::layers::REGISTRY,
    )
    .bench(refine::bench::MODELS)
    .main()
}
