//! The role of a Raft server, shared by every Raft-family layer so that composed layers (such as
//! MongoRaftReconfig, built from the oplog and config state machines) use one type.

use serde::{Serialize, Serializer};

/// The role of a server: the model values `Secondary` and `Primary` of the `state` variable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Role {
    /// A follower: the initial role of every server, and the zero of unused array slots.
    #[default]
    Secondary = 0,
    /// The leader of its current term.
    Primary = 1,
}

impl Role {
    /// The model value's name, as TLC prints it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Secondary => "Secondary",
            Role::Primary => "Primary",
        }
    }

    /// Reads a role from its ITF value, the model value's name (Apalache's `Primary_OF_STATE`
    /// too).
    pub fn read(v: &crate::itf::Value) -> crate::itf::Read<Role> {
        let name = crate::itf::string(v)?;
        match name.split_once("_OF_").map_or(name, |(n, _)| n) {
            "Primary" => Ok(Role::Primary),
            "Secondary" => Ok(Role::Secondary),
            _ => Err(format!("{v} is not a role, Primary or Secondary")),
        }
    }
}

impl Serialize for Role {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}
