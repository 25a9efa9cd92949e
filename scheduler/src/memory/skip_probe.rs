//! Finding values whose `Serialize` leaves fields out, before they are stored.
//!
//! postcard's format is not self-describing: a struct is its fields' encodings one after
//! the other, with no names and no count, and the reader takes the fields in declaration
//! order. A field that `#[serde(skip_serializing_if = "...")]` leaves out shifts every
//! later field onto the bytes of the next one. Loading such an entry does not always
//! fail: `{a: None, b: 1, c: [5, 0]}` stored without `a` reads back as
//! `{a: Some(2), b: 5, c: []}`, a wrong value that decodes cleanly, and whose re-encoding
//! gives the very same bytes, so no check of the entry can tell. The only place to catch
//! it is the writer, where the skip happens.
//!
//! serde_derive reports every field it skips that way through
//! [`SerializeStruct::skip_field`] (or [`SerializeStructVariant::skip_field`]), which
//! postcard ignores. [`first_skipped_field`] walks the value with a serializer that
//! writes nothing and stops at the first such call. Everything else is accepted here:
//! what postcard cannot encode at all (a sequence of unknown length, say) fails when it
//! is encoded, and the decode check in `entry.rs` catches types whose `Deserialize`
//! asks for more than postcard can give back.

use std::fmt;

use serde::ser::{self, Serialize};

/// A field a value's `Serialize` left out, named as serde names it: the struct (or enum
/// and variant) and the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SkippedField {
    container: Container,
    field: &'static str,
}

/// A struct, or an enum's struct variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Container {
    name: &'static str,
    variant: Option<&'static str>,
}

impl fmt::Display for SkippedField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Container { name, variant } = self.container;
        match variant {
            Some(variant) => write!(f, "field `{}` of `{name}::{variant}`", self.field),
            None => write!(f, "field `{}` of `{name}`", self.field),
        }
    }
}

/// The first field `value`'s `Serialize` skips, if it skips one. An error the value's
/// own `Serialize` returns ends the walk with `None`: encoding it for real reports it.
pub(crate) fn first_skipped_field<T: Serialize + ?Sized>(value: &T) -> Option<SkippedField> {
    let mut probe = Probe {
        open: Vec::new(),
        found: None,
    };
    // The outcome is in `probe.found`, also when a `Serialize` that ignores errors went
    // on after the probe's stop.
    let _ = value.serialize(&mut probe);
    probe.found
}

struct Probe {
    /// The structs being walked, innermost last: the one a skipped field belongs to.
    open: Vec<Container>,
    found: Option<SkippedField>,
}

impl Probe {
    fn open(&mut self, name: &'static str, variant: Option<&'static str>) -> &mut Self {
        self.open.push(Container { name, variant });
        self
    }

    fn close(&mut self) -> Result<(), Stop> {
        self.open.pop();
        Ok(())
    }

    fn skipped(&mut self, field: &'static str) -> Result<(), Stop> {
        let container = self.open.last().copied().unwrap_or(Container {
            name: "?",
            variant: None,
        });
        self.found.get_or_insert(SkippedField { container, field });
        // Nothing after the first skip matters: stop walking (a big value costs no more).
        Err(Stop)
    }
}

/// Ends the walk: a skip was found, or the value's `Serialize` failed on its own.
#[derive(Debug)]
struct Stop;

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("skip probe stopped")
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Stop
    }
}

/// Leaves that write nothing.
macro_rules! accept {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        fn $method(self, _: $ty) -> Result<(), Stop> {
            Ok(())
        }
    )*};
}

impl ser::Serializer for &mut Probe {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    /// As postcard: types that serialize differently for people (addresses, times)
    /// take the same branch here as when they are stored.
    fn is_human_readable(&self) -> bool {
        false
    }

    accept! {
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_i128(i128), serialize_u8(u8), serialize_u16(u16),
        serialize_u32(u32), serialize_u64(u64), serialize_u128(u128), serialize_f32(f32),
        serialize_f64(f64), serialize_char(char), serialize_str(&str),
        serialize_bytes(&[u8]), serialize_unit_struct(&'static str),
    }

    fn serialize_none(self) -> Result<(), Stop> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Stop> {
        Ok(())
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(self)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Stop> {
        Ok(self)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self, Stop> {
        Ok(self)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Stop> {
        Ok(self)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Stop> {
        Ok(self)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self, Stop> {
        Ok(self)
    }

    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Self, Stop> {
        Ok(self.open(name, None))
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, Stop> {
        Ok(self.open(name, Some(variant)))
    }
}

/// The elements of sequences, tuples and tuple structs and variants: walked for the
/// structs inside them.
macro_rules! elements {
    ($($trait:ident :: $method:ident),* $(,)?) => {$(
        impl ser::$trait for &mut Probe {
            type Ok = ();
            type Error = Stop;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
                value.serialize(&mut **self)
            }

            fn end(self) -> Result<(), Stop> {
                Ok(())
            }
        }
    )*};
}

elements! {
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
}

impl ser::SerializeMap for &mut Probe {
    type Ok = ();
    type Error = Stop;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        key.serialize(&mut **self)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

impl ser::SerializeStruct for &mut Probe {
    type Ok = ();
    type Error = Stop;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(&mut **self)
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), Stop> {
        self.skipped(key)
    }

    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

impl ser::SerializeStructVariant for &mut Probe {
    type Ok = ();
    type Error = Stop;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(&mut **self)
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), Stop> {
        self.skipped(key)
    }

    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Sparse {
        #[serde(skip_serializing_if = "Option::is_none")]
        a: Option<u8>,
        b: u8,
    }

    #[derive(Serialize)]
    enum Shape {
        Dot,
        Circle {
            #[serde(skip_serializing_if = "Vec::is_empty")]
            tags: Vec<String>,
            r: f64,
        },
    }

    #[test]
    fn a_skipped_field_is_found_and_named() {
        let found = first_skipped_field(&Sparse { a: None, b: 1 }).unwrap();
        assert_eq!(found.to_string(), "field `a` of `Sparse`");
        // Deep inside other values too, after values that skip nothing.
        let nested = vec![
            (1u8, Sparse { a: Some(1), b: 2 }),
            (2, Sparse { a: None, b: 3 }),
        ];
        assert_eq!(
            first_skipped_field(&nested).unwrap().to_string(),
            "field `a` of `Sparse`"
        );
        let circle = Shape::Circle {
            tags: Vec::new(),
            r: 1.0,
        };
        assert_eq!(
            first_skipped_field(&Some(circle)).unwrap().to_string(),
            "field `tags` of `Shape::Circle`"
        );
    }

    #[test]
    fn values_that_skip_nothing_pass() {
        assert_eq!(first_skipped_field(&Sparse { a: Some(0), b: 1 }), None);
        let shapes = vec![
            Shape::Dot,
            Shape::Circle {
                tags: vec!["x".into()],
                r: 2.0,
            },
        ];
        assert_eq!(first_skipped_field(&shapes), None);
        assert_eq!(first_skipped_field(&(1u128, "text", [0.5f32; 3])), None);
        let map: std::collections::BTreeMap<String, Vec<u8>> =
            [("k".to_string(), vec![1, 2])].into();
        assert_eq!(first_skipped_field(&map), None);
    }
}
