//! Label scenarios: how a sparse, possibly imperfect subset of labels is revealed, and the pairwise
//! constraints it yields.
mod constraints;

pub use constraints::{Adjacency, ConstraintSet, UnionFind};
