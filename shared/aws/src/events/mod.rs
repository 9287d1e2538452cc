//! Events in the table: stored for reports ([`store`]) and read from the
//! table's stream ([`stream`], decoded here at the edge into record changes;
//! `embedded`, feature "embedded": the embedded engine's stream, read).

#[cfg(feature = "embedded")]
pub mod embedded;
pub mod store;
pub mod stream;
