//! The tasks of `dask::dataframe`, with results that can cross processes on the cluster
//! backend: partitions through Arrow IPC (the columnar format's own wire format, no
//! copy into rows), partial states and scalars through serde, as `Memory` stores them.
//!
//! Every process builds the same graph, so only results travel: the fused row-wise
//! steps and expressions a task runs are rebuilt on each process from the same code.
//! Keys are those of [`crate::try_map_many_pure`], so a dataframe task and the same task
//! built by hand are one node.

use std::hash::Hash;

use arrow_array::RecordBatch;

use crate::codec::Codec;
use crate::result_size::Sizer;
use crate::{BoxError, Delayed};

/// A task result type with a codec for the cluster backend.
pub(crate) trait Shippable: Send + Sync + 'static {
    /// How the result crosses processes on the cluster backend.
    fn codec() -> Option<&'static Codec>;

    /// The bytes this result holds, when known: what the dashboard counts as held.
    fn bytes(&self) -> Option<u64> {
        None
    }
}

impl Shippable for RecordBatch {
    fn codec() -> Option<&'static Codec> {
        batch_codec()
    }

    fn bytes(&self) -> Option<u64> {
        // Arrow's own count of the batch's buffers (shared buffers count in each batch).
        Some(self.get_array_memory_size() as u64)
    }
}

/// The sizer of dataframe tasks: each result type says its size through [`Shippable`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ShippableSize;

impl<U: Shippable> Sizer<U> for ShippableSize {
    #[inline]
    fn size(&self, value: &U) -> Option<u64> {
        value.bytes()
    }
}

/// Types that cross processes through serde.
macro_rules! through_serde {
    ($($t:ty),* $(,)?) => {$(
        impl Shippable for $t {
            fn codec() -> Option<&'static Codec> {
                crate::codec::serde_codec::<$t>()
            }
        }
    )*};
}

/// Plain numbers: their size is the type's.
macro_rules! plain_size {
    ($($t:ty),* $(,)?) => {$(
        impl Shippable for $t {
            fn codec() -> Option<&'static Codec> {
                crate::codec::serde_codec::<$t>()
            }

            fn bytes(&self) -> Option<u64> {
                Some(std::mem::size_of::<$t>() as u64)
            }
        }
    )*};
}

plain_size!(f64, usize);

through_serde!(
    std::path::PathBuf,
    super::reduce::Moments,
    super::groupby::Partial,
    Vec<super::groupby::Partial>,
);

/// A pure task over `inputs`, keyed by `name`, `tag` and the inputs' keys.
pub(crate) fn task<T, U, F>(
    name: &'static str,
    tag: impl Hash,
    inputs: &[Delayed<T>],
    f: F,
) -> Delayed<U>
where
    T: Send + Sync + 'static,
    U: Shippable,
    F: Fn(&[&T]) -> U + Send + Sync + 'static,
{
    crate::combine::pure_task(name, tag, inputs, f, U::codec, ShippableSize)
}

/// [`task`] for a kernel that can fail: an `Err` fails the computation naming the node.
pub(crate) fn try_task<T, U, E, F>(
    name: &'static str,
    tag: impl Hash,
    inputs: &[Delayed<T>],
    f: F,
) -> Delayed<U>
where
    T: Send + Sync + 'static,
    U: Shippable,
    E: Into<BoxError>,
    F: Fn(&[&T]) -> Result<U, E> + Send + Sync + 'static,
{
    crate::combine::try_pure_task(name, tag, inputs, f, U::codec, ShippableSize)
}

fn batch_codec() -> Option<&'static Codec> {
    static BATCH: Codec = Codec::new(ipc::encode, ipc::decode);
    Some(&BATCH)
}

/// A batch as one Arrow IPC stream (schema message, then the batch).
pub(crate) mod ipc {
    use std::any::Any;

    use arrow_array::RecordBatch;

    pub(crate) fn encode(value: &(dyn Any + Send + Sync)) -> Result<Vec<u8>, String> {
        let batch = value
            .downcast_ref::<RecordBatch>()
            .ok_or_else(|| "result is not a RecordBatch".to_string())?;
        let mut writer = arrow_ipc::writer::StreamWriter::try_new(Vec::new(), &batch.schema())
            .map_err(|e| e.to_string())?;
        writer.write(batch).map_err(|e| e.to_string())?;
        writer.into_inner().map_err(|e| e.to_string())
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<crate::task_value::TaskValue, String> {
        let mut reader = arrow_ipc::reader::StreamReader::try_new(bytes, None)
            .map_err(|e| format!("not an Arrow IPC stream: {e}"))?;
        let batch = match reader.next() {
            Some(b) => b.map_err(|e| e.to_string())?,
            None => return Err("an Arrow IPC stream without a batch".into()),
        };
        if reader.next().is_some() {
            return Err("an Arrow IPC stream with more than one batch".into());
        }
        Ok(crate::task_value::TaskValue::new(batch))
    }
}

#[cfg(test)]
mod size_tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int64Array, RecordBatch};

    use super::ShippableSize;
    use crate::result_size::Sizer;

    #[test]
    fn a_batch_counts_its_buffers_numbers_their_type_and_paths_nothing() {
        let column: ArrayRef = Arc::new(Int64Array::from(vec![7i64; 1000]));
        let batch = RecordBatch::try_from_iter([("x", column)]).unwrap();
        let size = ShippableSize.size(&batch).unwrap();
        assert_eq!(size, batch.get_array_memory_size() as u64);
        assert!(size >= 8000, "{size}");
        assert_eq!(ShippableSize.size(&2.5f64), Some(8));
        assert_eq!(ShippableSize.size(&3usize), Some(8));
        assert_eq!(ShippableSize.size(&std::path::PathBuf::from("a.csv")), None);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::{RecordBatch as Batch, Shippable};

    fn roundtrip<T: Shippable>(value: &T) -> T {
        let codec = T::codec().expect("a codec with the cluster feature");
        let bytes = codec.encode(value).unwrap();
        codec.decode(&bytes).unwrap().take::<T>().unwrap()
    }

    #[test]
    fn batches_cross_with_types_nulls_and_names() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("nämé ✓", DataType::Utf8, true),
            Field::new("id", DataType::Int64, false),
            Field::new("x", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("Zoë"), None, Some("")])),
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(Float64Array::from(vec![Some(f64::NAN), None, Some(-0.0)])),
            ],
        )
        .unwrap();
        let back: Batch = roundtrip(&batch);
        assert_eq!(back.schema(), batch.schema());
        assert_eq!(back.num_rows(), 3);
        let names = back
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(names.value(0), "Zoë");
        assert!(names.is_null(1));
        let x = back
            .column(2)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        assert!(x.value(0).is_nan() && x.is_null(1));
        assert_eq!(x.value(2).to_bits(), (-0.0f64).to_bits());
        // An empty batch keeps its schema.
        let empty = RecordBatch::new_empty(batch.schema());
        assert_eq!(roundtrip(&empty).schema(), batch.schema());
    }

    #[test]
    fn a_batch_of_no_columns_crosses_with_its_row_count() {
        // What `drop` of every column leaves: the count is all it holds.
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(4));
        let batch =
            RecordBatch::try_new_with_options(Arc::new(Schema::empty()), vec![], &options).unwrap();
        let bytes = super::ipc::encode(&batch).unwrap();
        let back = super::ipc::decode(&bytes)
            .unwrap()
            .take::<RecordBatch>()
            .unwrap();
        assert_eq!((back.num_rows(), back.num_columns()), (4, 0));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let codec = Batch::codec().unwrap();
        assert!(codec.decode(&[1, 2, 3]).is_err());
        assert!(codec.decode(&[]).is_err());
        assert!(codec.encode(&5u32).is_err());
    }
}
