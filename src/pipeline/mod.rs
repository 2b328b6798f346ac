//! The DeepCluster loop: extract features → preprocess → cluster → train, checkpointed every epoch.
