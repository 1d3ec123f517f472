//! The beneficiary-fee handler: revm's mainnet handler with the fee deferred as a delta when
//! the transaction never loaded the beneficiary.

use super::*;

/// revm's mainnet handler, except that the beneficiary's fee is deferred when the
/// transaction never loaded the beneficiary.
pub(super) struct LazyFeeHandler<EVM, ERROR, FRAME>(pub(super) PhantomData<(EVM, ERROR, FRAME)>);

/// What the lazy-fee handler needs of the database.
trait FeeSink {
    fn beneficiary_loaded(&self) -> bool;
    fn defer_fee(&mut self, fee: U256);
}

impl FeeSink for View<'_> {
    fn beneficiary_loaded(&self) -> bool {
        self.beneficiary_loaded
    }
    fn defer_fee(&mut self, fee: U256) {
        self.lazy_fee = Some(fee);
    }
}

impl<EVM, ERROR, FRAME> Handler for LazyFeeHandler<EVM, ERROR, FRAME>
where
    EVM: EvmTr<Context: ContextTr<Journal: JournalTr<State = EvmState>, Db: FeeSink>, Frame = FRAME>,
    ERROR: EvmTrError<EVM>,
    FRAME: FrameTr<FrameResult = FrameResult, FrameInit = FrameInit>,
{
    type Evm = EVM;
    type Error = ERROR;
    type HaltReason = HaltReason;

    fn reward_beneficiary(&self, evm: &mut EVM, exec_result: &mut FrameResult) -> Result<(), ERROR> {
        let ctx = evm.ctx();
        if ctx.db_ref().beneficiary_loaded() {
            return post_execution::reward_beneficiary(ctx, exec_result.gas()).map_err(From::from);
        }
        // The same amount revm's own crediting computes: the tip per gas from London on, the
        // whole price before, times the gas the sender finally pays for.
        let basefee = ctx.block().basefee() as u128;
        let price = ctx.tx().effective_gas_price(basefee);
        let london = ctx.cfg().spec().into().is_enabled_in(SpecId::LONDON);
        let per_gas = if london { price.saturating_sub(basefee) } else { price };
        let gas = exec_result.gas();
        let used = gas.used().saturating_sub(gas.reservoir());
        ctx.db_mut().defer_fee(U256::from(per_gas) * U256::from(used));
        Ok(())
    }
}
