//! Not yet written: see the workspace README for the status of this layer.
