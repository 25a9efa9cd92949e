pub use dask_macros::delayed;
