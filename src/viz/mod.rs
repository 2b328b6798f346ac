//! Plots and t-SNE.
