//! The Docker/OCI JSON format as serde sees it: every field Docker, Podman and the OCI
//! runtime spec define, nothing else (`deny_unknown_fields`), each object key at most once
//! (serde's derived structs refuse a duplicate field). `read` turns these into a
//! [`super::Profile`], checking what the types cannot say; `write` builds them back.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;

/// A JSON object and nothing else: serde's derived structs also accept an array of their
/// fields in order, which no profile means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obj<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(V(PhantomData)).map(Obj)
    }
}

impl<T: Serialize> Serialize for Obj<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// What decides whether a text is an OCI `config.json` or a Kubernetes object rather than
/// a profile.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sniff {
    pub oci_version: Option<de::IgnoredAny>,
    pub linux: Option<de::IgnoredAny>,
    pub api_version: Option<de::IgnoredAny>,
    pub kind: Option<de::IgnoredAny>,
}

/// An OCI `config.json`: only `linux.seccomp` matters here; the rest is the runtime's.
#[derive(Deserialize)]
pub struct OciConfig {
    pub linux: Option<Obj<OciLinux>>,
}

#[derive(Deserialize)]
pub struct OciLinux {
    pub seccomp: Option<Obj<RawProfile>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawProfile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u64>,
    /// Podman's errno by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_errno: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architectures: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch_map: Option<Vec<Obj<RawArchMap>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listener_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listener_metadata: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syscalls: Option<Vec<Obj<RawSyscall>>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawArchMap {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_architectures: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawSyscall {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u64>,
    /// Podman's errno by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errno: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<Obj<RawArg>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub includes: Option<Obj<RawFilter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excludes: Option<Obj<RawFilter>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawArg {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_two: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caps: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arches: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_kernel: Option<String>,
}
