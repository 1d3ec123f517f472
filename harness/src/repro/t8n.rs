//! The t8n file formats of a bundle (`alloc.json`, `env.json`, `txs.json`): the ones the
//! t8n executor speaks, from [`lockstep_t8n::format`].

pub use lockstep_t8n::format::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{Family, Workload};
    use alloy_primitives::{Address, B256, U64};
    use lockstep_executors::Fork;
    use lockstep_executors::{BlockEnv, BlockInput, State, Tx};
    use std::collections::BTreeMap;

    /// Writes `block` as the three t8n files, reads them back from their JSON text.
    fn round_trip(block: &BlockInput, keys: &BTreeMap<Address, B256>) -> (State, BlockEnv, Vec<Tx>) {
        let (alloc, env, txs) = files(block, keys);
        let alloc: Alloc = serde_json::from_str(&serde_json::to_string(&alloc).unwrap()).unwrap();
        let env: Env = serde_json::from_str(&serde_json::to_string(&env).unwrap()).unwrap();
        let txs: Vec<T8nTx> = serde_json::from_str(&serde_json::to_string(&txs).unwrap()).unwrap();
        let txs = txs.iter().enumerate().map(|(i, t)| tx_of(i, t).unwrap()).collect();
        (state_of(&alloc), env_of(&env).unwrap(), txs)
    }

    #[test]
    fn every_family_reads_back_as_the_same_block() {
        for family in Family::ALL {
            for fork in [Fork::Frontier, Fork::London, Fork::Prague] {
                let g = Workload::new(family, 12).with_hot_ratio(0.5).with_fork(fork).generate(7);
                let (state, env, txs) = round_trip(&g.block, &g.keys);
                assert_eq!(state, g.block.pre_state, "{family} {fork}: alloc");
                assert_eq!(env, g.block.env, "{family} {fork}: env");
                assert_eq!(txs, g.block.txs, "{family} {fork}: txs");
            }
        }
    }

    #[test]
    fn senders_carry_their_keys_and_numbers_are_hex() {
        let g = Workload::new(Family::Eip7702, 6).generate(3);
        let (_, _, txs) = files(&g.block, &g.keys);
        let text = serde_json::to_value(&txs).unwrap();
        for t in text.as_array().unwrap() {
            assert!(t["secretKey"].as_str().is_some_and(|k| k.len() == 66), "{t}");
            assert!(t["nonce"].as_str().is_some_and(|n| n.starts_with("0x")), "{t}");
        }
        // Without the key, the field is absent rather than empty.
        let mut keyless = g.block.clone();
        for t in &mut keyless.txs {
            t.secret_key = None;
        }
        let (_, _, bare) = files(&keyless, &BTreeMap::new());
        assert!(serde_json::to_value(&bare[0]).unwrap().get("secretKey").is_none());
    }

    #[test]
    fn a_bad_type_is_an_error_naming_the_transaction() {
        let g = Workload::new(Family::RawTransfers, 2).generate(1);
        let (_, _, mut txs) = files(&g.block, &g.keys);
        txs[1].tx_type = U64::from(9);
        assert_eq!(tx_of(1, &txs[1]), Err(ImportError::TxType { index: 1, tx_type: 9 }));
    }
}
