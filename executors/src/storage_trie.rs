//! A trie (an account's storage, or the state itself) kept between a chain's states: a radix-16 tree over the hashed slot keys
//! whose nodes remember their Merkle-Patricia encoding, so that the root of the next state
//! rehashes only the paths of the slots that changed (Yellow Paper appendix D). The shape of
//! the Merkle-Patricia trie (leaf, extension, branch) is derived from the radix tree when a node
//! is encoded; `trie::storage_root` is what it must equal.

use alloy_primitives::{B256, U256, keccak256};
use alloy_rlp::{EMPTY_STRING_CODE, Encodable, Header};

/// The nibble of `key` at `depth` (0..64).
fn nibble(key: &B256, depth: usize) -> usize {
    let byte = key[depth / 2];
    if depth % 2 == 0 { (byte >> 4) as usize } else { (byte & 0x0f) as usize }
}

#[derive(Clone, Debug, Default)]
enum Node {
    #[default]
    Empty,
    /// The only slot below this point: its hashed key and `rlp(value)`.
    Leaf { key: B256, value: Vec<u8> },
    /// Two or more slots below: the children by the next nibble, and this node's encoding
    /// at its depth while nothing below has changed.
    Inner { children: Box<[Node; 16]>, leaves: usize, encoded: Option<Vec<u8>> },
}

/// A storage trie: slots by hashed key.
#[derive(Clone, Debug, Default)]
pub struct StorageTrie {
    root: Node,
}

impl StorageTrie {
    /// Sets the slot with hashed key `key` to `value`; zero removes it.
    pub fn set(&mut self, key: B256, value: U256) {
        if value.is_zero() {
            self.remove(&key);
        } else {
            let mut rlp = Vec::with_capacity(33);
            value.encode(&mut rlp);
            self.insert(key, rlp);
        }
    }

    /// Sets the leaf at hashed key `key` to the already encoded `value` (an account's
    /// `rlp(nonce, balance, storage root, code hash)` in the state trie).
    pub fn insert(&mut self, key: B256, value: Vec<u8>) {
        insert(&mut self.root, key, value, 0);
    }

    /// Removes the leaf at hashed key `key`, if there is one.
    pub fn remove(&mut self, key: &B256) {
        remove(&mut self.root, key, 0);
    }

    /// The trie's root hash: the empty trie's for no slot.
    pub fn root(&mut self) -> B256 {
        match &self.root {
            Node::Empty => alloy_trie::EMPTY_ROOT_HASH,
            _ => keccak256(encode(&mut self.root, 0)),
        }
    }
}

fn insert(node: &mut Node, key: B256, value: Vec<u8>, depth: usize) {
    match node {
        Node::Empty => *node = Node::Leaf { key, value },
        Node::Leaf { key: k, value: v } if *k == key => *v = value,
        Node::Leaf { .. } => {
            let Node::Leaf { key: k, value: v } = std::mem::take(node) else { unreachable!() };
            let mut children: Box<[Node; 16]> = Box::default();
            children[nibble(&k, depth)] = Node::Leaf { key: k, value: v };
            *node = Node::Inner { children, leaves: 1, encoded: None };
            insert(node, key, value, depth);
        }
        Node::Inner { children, leaves, encoded } => {
            *encoded = None;
            let child = &mut children[nibble(&key, depth)];
            let before = count(child);
            insert(child, key, value, depth + 1);
            *leaves = *leaves + count(child) - before;
        }
    }
}

fn remove(node: &mut Node, key: &B256, depth: usize) {
    match node {
        Node::Empty => {}
        Node::Leaf { key: k, .. } => {
            if k == key {
                *node = Node::Empty;
            }
        }
        Node::Inner { children, leaves, encoded } => {
            let child = &mut children[nibble(key, depth)];
            let before = count(child);
            remove(child, key, depth + 1);
            if count(child) == before {
                return;
            }
            *encoded = None;
            *leaves -= 1;
            if *leaves == 1 {
                // One slot left below, in a leaf (a child left with one slot has become a leaf
                // itself): it becomes this node.
                let last = children.iter_mut().find(|c| !matches!(c, Node::Empty)).map(std::mem::take);
                *node = last.unwrap_or_default();
            }
        }
    }
}

fn count(node: &Node) -> usize {
    match node {
        Node::Empty => 0,
        Node::Leaf { .. } => 1,
        Node::Inner { leaves, .. } => *leaves,
    }
}

/// The hex-prefix encoding of `key`'s nibbles `from..to` (Yellow Paper appendix C).
fn hex_prefix(key: &B256, from: usize, to: usize, leaf: bool) -> Vec<u8> {
    let odd = (to - from) % 2 == 1;
    let flag = if leaf { 2u8 } else { 0 };
    let mut out = Vec::with_capacity((to - from) / 2 + 1);
    let mut at = from;
    if odd {
        out.push(((flag + 1) << 4) | nibble(key, at) as u8);
        at += 1;
    } else {
        out.push(flag << 4);
    }
    while at < to {
        out.push(((nibble(key, at) as u8) << 4) | nibble(key, at + 1) as u8);
        at += 2;
    }
    out
}

/// How a parent holds a child's encoding: inline below 32 bytes, else its hash.
fn push_ref(out: &mut Vec<u8>, encoded: &[u8]) {
    if encoded.len() < 32 {
        out.extend_from_slice(encoded);
    } else {
        keccak256(encoded).encode(out);
    }
}

fn list(payload: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 3);
    Header { list: true, payload_length: payload.len() }.encode(&mut out);
    out.extend_from_slice(&payload);
    out
}

/// Any key below `node`, to name the path an extension shares.
fn some_key(node: &Node) -> Option<&B256> {
    match node {
        Node::Empty => None,
        Node::Leaf { key, .. } => Some(key),
        Node::Inner { children, .. } => children.iter().find_map(some_key),
    }
}

/// The Merkle-Patricia encoding of the subtree `node` at `depth`.
fn encode(node: &mut Node, depth: usize) -> Vec<u8> {
    match node {
        Node::Empty => vec![EMPTY_STRING_CODE],
        Node::Leaf { key, value } => {
            let mut payload = Vec::with_capacity(70);
            hex_prefix(key, depth, 64, true).as_slice().encode(&mut payload);
            value.as_slice().encode(&mut payload);
            list(payload)
        }
        Node::Inner { encoded: Some(e), .. } => e.clone(),
        Node::Inner { children, encoded, .. } => {
            let used: Vec<usize> = (0..16).filter(|&i| !matches!(children[i], Node::Empty)).collect();
            let e = if let [only] = used[..] {
                // One child: an extension over the nibbles down to the next branch.
                let mut path = vec![only];
                let mut n = &children[only];
                while let Node::Inner { children: c, .. } = n {
                    let used: Vec<usize> = (0..16).filter(|&i| !matches!(c[i], Node::Empty)).collect();
                    let [next] = used[..] else { break };
                    path.push(next);
                    n = &c[next];
                }
                let end = depth + path.len();
                let mut below = &mut children[path[0]];
                for &i in &path[1..] {
                    let Node::Inner { children: c, .. } = below else {
                        unreachable!("the path runs through inner nodes")
                    };
                    below = &mut c[i];
                }
                let key = *some_key(below).expect("an inner node holds slots");
                let branch = encode(below, end);
                let mut payload = Vec::with_capacity(70);
                hex_prefix(&key, depth, end, false).as_slice().encode(&mut payload);
                push_ref(&mut payload, &branch);
                list(payload)
            } else {
                let mut payload = Vec::with_capacity(16 * 33 + 1);
                for child in children.iter_mut() {
                    match child {
                        Node::Empty => payload.push(EMPTY_STRING_CODE),
                        c => push_ref(&mut payload, &encode(c, depth + 1)),
                    }
                }
                payload.push(EMPTY_STRING_CODE);
                list(payload)
            };
            *encoded = Some(e.clone());
            e
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn expected(slots: &std::collections::BTreeMap<U256, U256>) -> B256 {
        let account = crate::Account { storage: slots.clone(), ..Default::default() };
        crate::trie::storage_root(&account)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Any sequence of sets and clears gives alloy-trie's root of the same slots, at every
        /// step.
        #[test]
        fn roots_equal_alloy_tries_after_every_change(ops in prop::collection::vec((0u64..40, 0u64..4), 1..120)) {
            let mut trie = StorageTrie::default();
            let mut slots = std::collections::BTreeMap::new();
            for (slot, value) in ops {
                let (slot, value) = (U256::from(slot), U256::from(value));
                trie.set(keccak256(B256::from(slot)), value);
                if value.is_zero() { slots.remove(&slot); } else { slots.insert(slot, value); }
                prop_assert_eq!(trie.root(), expected(&slots));
            }
        }
    }

    #[test]
    fn keys_sharing_long_prefixes_make_extensions() {
        let mut trie = StorageTrie::default();
        let a = B256::repeat_byte(0x11);
        let mut b = a;
        b[31] = 0x12;
        trie.set(a, U256::from(1));
        trie.set(b, U256::from(2));
        let mut hb = alloy_trie::HashBuilder::default();
        for (k, v) in [(a, 1u64), (b, 2)] {
            let mut rlp = Vec::new();
            U256::from(v).encode(&mut rlp);
            hb.add_leaf(alloy_trie::Nibbles::unpack(k), &rlp);
        }
        assert_eq!(trie.root(), hb.root());
        trie.set(b, U256::ZERO);
        trie.set(a, U256::ZERO);
        assert_eq!(trie.root(), alloy_trie::EMPTY_ROOT_HASH);
    }
}
