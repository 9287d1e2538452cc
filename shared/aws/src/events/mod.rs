//! Events in the table: stored for reports ([`store`]) and read from the
//! table's stream ([`stream`], decoded here at the edge into record changes).

pub mod store;
pub mod stream;
