//! Datasets: IDX and NPY files, the registry of named datasets, verified downloads.
