//! MongoDynamicRaft: not yet written (see this crate's README and issue 4). The crate exists so
//! the workspace has the shape of the refinement graph; it exports nothing.
