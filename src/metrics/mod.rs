//! Clustering quality metrics, each checked against scikit-learn.
