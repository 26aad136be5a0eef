//! A small map from field name to value, sorted by name: an account's metrics or
//! text attributes. A million accounts each carry the same handful of fields, so the
//! names (and repeated texts such as a vertical) are shared [`Text`]s and the entries
//! sit in one short vector instead of a tree per account.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A shared, immutable text: a field name or a repeated field value.
pub type Text = Arc<str>;

/// Most distinct texts one thread keeps for sharing; past it texts are not shared.
const MAX_INTERNED: usize = 100_000;

thread_local! {
    static INTERNED: RefCell<HashSet<Text>> = RefCell::new(HashSet::new());
}

/// The shared copy of `text` (the same allocation for equal texts on this thread, up
/// to [`MAX_INTERNED`] distinct ones).
///
/// ```
/// use geoalign::align::field_map::intern;
/// assert!(std::sync::Arc::ptr_eq(&intern("vertical"), &intern("vertical")));
/// ```
pub fn intern(text: &str) -> Text {
    INTERNED.with(|set| {
        let mut set = set.borrow_mut();
        if let Some(shared) = set.get(text) {
            return shared.clone();
        }
        let shared: Text = Arc::from(text);
        if set.len() < MAX_INTERNED {
            set.insert(shared.clone());
        }
        shared
    })
}

/// Field name -> value, sorted by name, each name once.
///
/// ```
/// use geoalign::align::field_map::FieldMap;
/// let mut m = FieldMap::default();
/// m.insert("revenue", 5.0);
/// m.insert("employees", 12.0);
/// assert_eq!(m.get("employees"), Some(&12.0));
/// assert_eq!(m.keys().collect::<Vec<_>>(), ["employees", "revenue"]);
/// ```
#[derive(Clone, PartialEq, Default)]
pub struct FieldMap<V>(Vec<(Text, V)>);

impl<V> FieldMap<V> {
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_ref().cmp(name))
    }

    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<&V> {
        self.find(name).ok().map(|i| &self.0[i].1)
    }

    /// Whether the map has a field.
    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// Sets a field, returning its previous value.
    pub fn insert(&mut self, name: &str, value: V) -> Option<V> {
        match self.find(name) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (intern(name), value));
                None
            }
        }
    }

    /// [`FieldMap::insert`] with a name already shared (no lookup in the interner).
    pub fn insert_shared(&mut self, name: &Text, value: V) -> Option<V> {
        match self.find(name) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (name.clone(), value));
                None
            }
        }
    }

    /// Field names in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_ref())
    }

    /// Fields in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no field.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V> std::ops::Index<&str> for FieldMap<V> {
    type Output = V;
    /// The value of a field that is there (panics when it is not, like a map's index).
    fn index(&self, name: &str) -> &V {
        match self.get(name) {
            Some(v) => v,
            None => panic!("no field '{name}'"),
        }
    }
}

impl<'a, V> IntoIterator for &'a FieldMap<V> {
    type Item = (&'a str, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (Text, V)>, fn(&'a (Text, V)) -> (&'a str, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl<V, K: AsRef<str>> FromIterator<(K, V)> for FieldMap<V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(fields: I) -> Self {
        let mut map = FieldMap(Vec::new());
        for (k, v) in fields {
            map.insert(k.as_ref(), v);
        }
        map
    }
}

impl<V: fmt::Debug> fmt::Debug for FieldMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V: Serialize> Serialize for FieldMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k.as_ref(), v)?;
        }
        map.end()
    }
}

/// A field's value as read: numbers as they are, texts shared by [`intern`].
pub trait FieldValue: Sized {
    /// Reads one value.
    fn read<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Self, A::Error>;
}

impl FieldValue for f64 {
    fn read<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Self, A::Error> {
        map.next_value()
    }
}

impl FieldValue for Text {
    fn read<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Self, A::Error> {
        let text: std::borrow::Cow<'de, str> = map.next_value::<CowStr<'de>>()?.0;
        Ok(intern(&text))
    }
}

/// A string borrowed from the input when it can be (serde's `Cow<str>` always copies).
struct CowStr<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(v.to_owned().into()))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(v.into()))
            }
        }
        deserializer.deserialize_str(V)
    }
}

impl<'de, V: FieldValue> Deserialize<'de> for FieldMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields<V>(std::marker::PhantomData<V>);
        impl<'de, V: FieldValue> Visitor<'de> for Fields<V> {
            type Value = FieldMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = FieldMap(Vec::with_capacity(map.size_hint().unwrap_or(0)));
                while let Some(name) = map.next_key::<CowStr<'de>>()? {
                    let value = V::read(&mut map)?;
                    fields.insert(&name.0, value);
                }
                Ok(fields)
            }
        }
        deserializer.deserialize_map(Fields(std::marker::PhantomData))
    }
}
