//! Integration tests. Each module is one area; see its header.

mod wire;
