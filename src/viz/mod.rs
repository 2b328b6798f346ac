//! Plots (PNG and SVG, drawn with `plotters`) and t-SNE maps (Barnes-Hut, parallel, seeded).
pub mod plot;
pub mod tsne;
