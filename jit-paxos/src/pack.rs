//! [`Pack`] for [`State`]: every variable one after another, small integers as bytes, sets and
//! logs as a length byte and their elements in order (a `BTreeSet`'s order, so equal states
//! pack to equal bytes).
//!
//! The encoding has a length bounded by the model's bounds (every count fits a byte:
//! [`crate::MAX_MESSAGE_COUNT`] keeps them small), and [`State::MAX_PACKED`] is a bound for the
//! largest model the layer accepts. The search packs every state it meets, so `pack` writes
//! straight into its vector rather than through a buffer of `MAX_PACKED` bytes.

use crate::state::*;
use spec_core::Pack;
use std::collections::BTreeSet;

trait Encode: Sized {
    fn encode(&self, out: &mut Vec<u8>);
    fn decode(input: &mut &[u8]) -> Option<Self>;
}

fn byte(input: &mut &[u8]) -> Option<u8> {
    let (&b, rest) = input.split_first()?;
    *input = rest;
    Some(b)
}

impl Encode for u8 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
    fn decode(input: &mut &[u8]) -> Option<Self> {
        byte(input)
    }
}

impl Encode for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn decode(input: &mut &[u8]) -> Option<Self> {
        match byte(input)? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

impl Encode for Status {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self as u8);
    }
    fn decode(input: &mut &[u8]) -> Option<Self> {
        match byte(input)? {
            0 => Some(Status::Normal),
            1 => Some(Status::Repair),
            2 => Some(Status::ViewChange),
            _ => None,
        }
    }
}

impl Encode for Entry {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend([self.value, self.timestamp]);
    }
    fn decode(input: &mut &[u8]) -> Option<Self> {
        Some(Entry {
            value: byte(input)?,
            timestamp: byte(input)?,
        })
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.len() as u8);
        for item in self {
            item.encode(out);
        }
    }
    fn decode(input: &mut &[u8]) -> Option<Self> {
        let len = byte(input)?;
        (0..len).map(|_| T::decode(input)).collect()
    }
}

impl<T: Encode + Ord> Encode for BTreeSet<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.len() as u8);
        for item in self {
            item.encode(out);
        }
    }
    fn decode(input: &mut &[u8]) -> Option<Self> {
        let len = byte(input)?;
        let set: BTreeSet<T> = (0..len).map(|_| T::decode(input)).collect::<Option<_>>()?;
        (set.len() == len as usize).then_some(set)
    }
}

/// Encodes and decodes a struct as its fields in order.
macro_rules! fields {
    ($ty:ident { $($field:ident),* }) => {
        impl Encode for $ty {
            fn encode(&self, out: &mut Vec<u8>) {
                $(self.$field.encode(out);)*
            }
            fn decode(input: &mut &[u8]) -> Option<Self> {
                Some($ty { $($field: Encode::decode(input)?),* })
            }
        }
    };
}

fields!(ClientRequest {
    src,
    dest,
    view_id,
    req_id,
    value,
    timestamp
});
fields!(ReconcileRequest {
    src,
    dest,
    view_id,
    req_id,
    index
});
fields!(Reply {
    src,
    dest,
    req,
    view_id,
    index,
    checksum,
    value,
    timestamp,
    succeeded
});
fields!(Rejection {
    src,
    dest,
    req,
    view_id
});
fields!(RepairRequest {
    src,
    dest,
    req,
    view_id,
    index
});
fields!(RepairReply {
    src,
    dest,
    req,
    view_id,
    index,
    log
});
fields!(ViewChange { src, dest, view_id });
fields!(ViewChangeReply {
    src,
    dest,
    view_id,
    log_view_id,
    log
});
fields!(StartView {
    src,
    dest,
    view_id,
    log
});
fields!(State {
    messages,
    message_count,
    step_count,
    c_time,
    c_view_id,
    c_req_id,
    c_reps,
    c_commits,
    r_status,
    r_view_id,
    r_log,
    r_sync_index,
    r_log_view_id,
    r_view_change_reps
});

impl Encode for Request {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Request::Client(r) => {
                out.push(0);
                r.encode(out);
            }
            Request::Reconcile(r) => {
                out.push(1);
                r.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Option<Self> {
        match byte(input)? {
            0 => Some(Request::Client(Encode::decode(input)?)),
            1 => Some(Request::Reconcile(Encode::decode(input)?)),
            _ => None,
        }
    }
}

impl Encode for Message {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Message::ClientRequest(m) => {
                out.push(0);
                m.encode(out);
            }
            Message::Reply(m) => {
                out.push(1);
                m.encode(out);
            }
            Message::Rejection(m) => {
                out.push(2);
                m.encode(out);
            }
            Message::ReconcileRequest(m) => {
                out.push(3);
                m.encode(out);
            }
            Message::RepairRequest(m) => {
                out.push(4);
                m.encode(out);
            }
            Message::RepairReply(m) => {
                out.push(5);
                m.encode(out);
            }
            Message::ViewChange(m) => {
                out.push(6);
                m.encode(out);
            }
            Message::ViewChangeReply(m) => {
                out.push(7);
                m.encode(out);
            }
            Message::StartView(m) => {
                out.push(8);
                m.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Option<Self> {
        Some(match byte(input)? {
            0 => Message::ClientRequest(Encode::decode(input)?),
            1 => Message::Reply(Encode::decode(input)?),
            2 => Message::Rejection(Encode::decode(input)?),
            3 => Message::ReconcileRequest(Encode::decode(input)?),
            4 => Message::RepairRequest(Encode::decode(input)?),
            5 => Message::RepairReply(Encode::decode(input)?),
            6 => Message::ViewChange(Encode::decode(input)?),
            7 => Message::ViewChangeReply(Encode::decode(input)?),
            8 => Message::StartView(Encode::decode(input)?),
            _ => return None,
        })
    }
}

/// The longest log of a state the layer accepts: one entry per message sent at most (an entry
/// is appended by a client request, or repeated by a repair reply, each a message), plus slack
/// for the successors just past the bound.
const MAX_LOG: usize = crate::MAX_MESSAGE_COUNT + 4;
/// The most messages in one set (sent ones, within the bound, plus one broadcast past it).
const MAX_SET: usize = crate::MAX_MESSAGE_COUNT + crate::MAX_REPLICAS;
/// The largest encoding of one log.
const LOG_BYTES: usize = 1 + 2 * MAX_LOG;
/// The largest encoding of one message (a reply: 9 bytes, a 7-byte request, a log).
const MESSAGE_BYTES: usize = 1 + 16 + LOG_BYTES;
/// The most clients.
const CLIENTS: usize = crate::MAX_CLIENTS;
/// The most replicas.
const REPLICAS: usize = crate::MAX_REPLICAS;

impl Pack for State {
    const MAX_PACKED: usize = 4
        + (1 + MAX_SET * MESSAGE_BYTES)
        + CLIENTS * (2 + 2 * (1 + MAX_SET * MESSAGE_BYTES))
        + 2
        + REPLICAS * (4 + LOG_BYTES + 1 + MAX_SET * MESSAGE_BYTES)
        + 8;

    fn pack_into(&self, out: &mut [u8]) -> usize {
        let mut bytes = Vec::with_capacity(256);
        self.encode(&mut bytes);
        out[..bytes.len()].copy_from_slice(&bytes);
        bytes.len()
    }

    fn pack(&self, out: &mut Vec<u8>) {
        self.encode(out);
    }

    fn unpack(input: &mut &[u8]) -> Option<Self> {
        let s = State::decode(input)?;
        let (n, c) = (s.r_status.len(), s.c_view_id.len());
        let consistent = [&s.r_view_id, &s.r_sync_index, &s.r_log_view_id]
            .iter()
            .all(|v| v.len() == n)
            && s.r_log.len() == n
            && s.r_view_change_reps.len() == n
            && s.c_req_id.len() == c
            && s.c_reps.len() == c
            && s.c_commits.len() == c;
        consistent.then_some(s)
    }
}
