//! The CNN and its training, on libtorch through `tch`. The only module that touches libtorch.
