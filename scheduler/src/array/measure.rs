//! How the dashboard learns an array task's result size (see `crate::result_size`):
//! a block holds its elements; a scalar (a reduction's result) its eight bytes. The
//! partial states of reductions are not measured.

use std::any::Any;

use super::Block;
use crate::result_size::Sizer;

/// The sizer every array task is built with.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BlockSize;

impl<R: 'static> Sizer<R> for BlockSize {
    #[inline]
    fn size(&self, value: &R) -> Option<u64> {
        // `R` is known where this is instantiated, so each downcast is a constant test.
        let any: &dyn Any = value;
        if let Some(block) = any.downcast_ref::<Block>() {
            return Some((block.len() * std::mem::size_of::<f64>()) as u64);
        }
        any.downcast_ref::<f64>()
            .map(|_| std::mem::size_of::<f64>() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_counts_its_elements_and_other_results_are_unknown() {
        let block = Block::zeros(ndarray::IxDyn(&[3, 4]));
        assert_eq!(BlockSize.size(&block), Some(96));
        assert_eq!(BlockSize.size(&2.5f64), Some(8));
        assert_eq!(BlockSize.size(&vec![1u8; 10]), None);
    }
}
