//! Shared-arc topology of a dataset's polygon units and the dissolve built on it.
