//! The run's deadline inside revm's interpreter.
//!
//! revm stops a transaction only when it runs out of gas, so a loop under a gas limit near
//! 2^64 (gas price 0 makes that free) runs for centuries. Every unbounded execution passes
//! through a loop back-edge (`JUMP`, `JUMPI`) or a new call frame (`CALL`, `CALLCODE`,
//! `DELEGATECALL`, `STATICCALL`, `CREATE`, `CREATE2`); straight-line code is bounded by the
//! code size. Those eight opcodes are replaced in the EVM's instruction table by the same
//! instruction behind a [`Watchdog`] checkpoint, which counts the gas spent since the last one
//! and reads the clock once per [`CLOCK_EVERY_GAS`]. Every other opcode runs exactly as in
//! revm's own table, and the checkpoint itself is a few integer operations on data the
//! interpreter already holds.
//!
//! Past the deadline the checkpoint stops the transaction the way a failing database does:
//! it parks an error in the context and halts the frame with `FatalExternalError`, so revm
//! unwinds every frame and returns `EVMError::Custom`, and leaves nothing committed. The
//! executor then sees [`Watchdog::expired`] and returns `ExecError::Deadline`.

use revm::bytecode::opcode::{CALL, CALLCODE, CREATE, CREATE2, DELEGATECALL, JUMP, JUMPI, STATICCALL};
use revm::context::{BlockEnv, CfgEnv, Context, ContextError, ContextTr, Journal, TxEnv};
use revm::context_interface::local::FrameStack;
use revm::database_interface::Database;
use revm::handler::instructions::EthInstructions;
use revm::handler::{EthPrecompiles, MainContext, MainnetEvm};
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::{Host, Instruction, InstructionContext, InstructionExecResult, InstructionResult};
use std::time::Instant;

/// Gas spent between two reads of the clock. revm spends about a nanosecond per gas on cheap
/// opcodes (0.7 to 1.6 ns on a `JUMPDEST PUSH1 0 JUMP` loop), so this is a millisecond or two
/// there, and longer only for opcodes that are slower per gas. A read of the clock (tens of
/// nanoseconds) is lost among the instructions around it.
pub(crate) const CLOCK_EVERY_GAS: u64 = 1 << 20;

/// What a halted transaction reports to revm (never seen outside the executor).
const DEADLINE_PASSED: &str = "deadline passed during execution";

/// A revm context whose chain slot holds the watchdog.
pub type GuardedContext<DB> = Context<BlockEnv, TxEnv, CfgEnv, DB, Journal<DB>, Watchdog>;

/// revm's mainnet EVM with the watchdog's instructions.
pub type GuardedEvm<DB> = MainnetEvm<GuardedContext<DB>>;

/// Tracks gas spent across checkpoints and reads the clock every [`CLOCK_EVERY_GAS`].
///
/// Gas is counted from the current frame's remaining gas: the difference from the previous
/// checkpoint is what was spent between them (a child frame's gas included, once it has
/// returned). Remaining gas that went up (a frame returned to its parent, a new transaction)
/// counts as nothing spent, so the count is a lower bound that misses at most the straight-line
/// code after a frame's last checkpoint. Entering a child frame under a huge gas limit counts
/// the gas handed to the child, so under such a limit each new frame reads the clock.
#[derive(Clone, Debug)]
pub struct Watchdog {
    deadline: Option<Instant>,
    /// The current frame's remaining gas at the last checkpoint.
    last_remaining: u64,
    /// Gas left to spend before the clock is read again.
    budget: u64,
    expired: bool,
}

impl Watchdog {
    /// A watchdog for `deadline`; without one it never reads the clock.
    pub(crate) fn new(deadline: Option<Instant>) -> Self {
        let budget = if deadline.is_some() { CLOCK_EVERY_GAS } else { u64::MAX };
        Watchdog { deadline, last_remaining: 0, budget, expired: false }
    }

    /// Whether a checkpoint found the deadline passed and halted a transaction. Stays set:
    /// every later checkpoint halts too.
    pub(crate) fn expired(&self) -> bool {
        self.expired
    }

    /// Counts the gas spent up to a checkpoint with `remaining` gas left in the current
    /// frame: whether the budget is used up, so that the clock is to be read.
    #[inline(always)]
    fn spend(&mut self, remaining: u64) -> bool {
        let spent = self.last_remaining.saturating_sub(remaining);
        self.last_remaining = remaining;
        match self.budget.checked_sub(spent) {
            Some(left) if left > 0 => {
                self.budget = left;
                false
            }
            _ => true,
        }
    }

    /// Reads the clock: past the deadline, halts now and at every later checkpoint (a budget
    /// of 0 sends each one here); before it, starts a new budget.
    fn read_clock(&mut self) -> bool {
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => {
                self.expired = true;
                self.budget = 0;
            }
            Some(_) => self.budget = CLOCK_EVERY_GAS,
            None => self.budget = u64::MAX,
        }
        self.expired
    }
}

/// revm's mainnet EVM over `db` with `cfg` and `block`, its loop back-edges and call frames
/// checked against `deadline`.
///
/// Its frame stack starts empty where revm's builder makes eight frames (each with a 32 KiB
/// operand stack) up front: an EVM is built per worker per block, most transactions use one
/// or two frames, and on small blocks those eight cost more than executing the block.
pub(crate) fn evm<DB: Database>(cfg: CfgEnv, block: BlockEnv, db: DB, deadline: Option<Instant>) -> GuardedEvm<DB> {
    let spec = cfg.spec;
    let ctx = Context::mainnet().with_cfg(cfg).with_block(block).with_db(db).with_chain(Watchdog::new(deadline));
    let mut evm = revm::context::Evm {
        ctx,
        inspector: (),
        instruction: EthInstructions::new_mainnet_with_spec(spec),
        precompiles: EthPrecompiles::new(spec),
        frame_stack: FrameStack::new(),
    };
    guard(&mut evm.instruction);
    evm
}

/// Puts the checkpoint in front of the eight opcodes every unbounded execution passes
/// through. Their static gas stays as it is in the gas table.
fn guard<H: Host + ContextTr<Chain = Watchdog>>(instructions: &mut EthInstructions<EthInterpreter, H>) {
    let table = instructions.instruction_table_mut();
    table[JUMP as usize] = Instruction::new(guarded::<JUMP, H>);
    table[JUMPI as usize] = Instruction::new(guarded::<JUMPI, H>);
    table[CALL as usize] = Instruction::new(guarded::<CALL, H>);
    table[CALLCODE as usize] = Instruction::new(guarded::<CALLCODE, H>);
    table[DELEGATECALL as usize] = Instruction::new(guarded::<DELEGATECALL, H>);
    table[STATICCALL as usize] = Instruction::new(guarded::<STATICCALL, H>);
    table[CREATE as usize] = Instruction::new(guarded::<CREATE, H>);
    table[CREATE2 as usize] = Instruction::new(guarded::<CREATE2, H>);
}

/// Opcode `OP` of revm's own table behind a checkpoint. Its static gas is already charged,
/// so a halt here spends it, as any halt does.
fn guarded<const OP: u8, H: Host + ContextTr<Chain = Watchdog>>(
    ctx: InstructionContext<'_, H, EthInterpreter>,
) -> InstructionExecResult {
    if ctx.host.chain_mut().spend(ctx.interpreter.gas.remaining()) {
        return read_clock::<OP, H>(ctx);
    }
    instruction::<OP, H>().execute(ctx)
}

/// The rare end of a checkpoint: reads the clock, then halts or runs the instruction. Out of
/// line, so that the common path keeps no registers of its own and jumps straight on to the
/// instruction.
#[cold]
#[inline(never)]
fn read_clock<const OP: u8, H: Host + ContextTr<Chain = Watchdog>>(
    ctx: InstructionContext<'_, H, EthInterpreter>,
) -> InstructionExecResult {
    if ctx.host.chain_mut().read_clock() {
        *ContextTr::error(ctx.host) = Err(ContextError::Custom(DEADLINE_PASSED.into()));
        return Err(InstructionResult::FatalExternalError);
    }
    instruction::<OP, H>().execute(ctx)
}

/// Opcode `OP` in revm's own instruction table.
#[inline(always)]
const fn instruction<const OP: u8, H: Host>() -> Instruction<EthInterpreter, H> {
    const { revm::interpreter::instruction_table::<EthInterpreter, H>()[OP as usize] }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Watchdog {
        /// What [`guarded`] does before its instruction: whether to halt.
        fn checkpoint(&mut self, remaining: u64) -> bool {
            self.spend(remaining) && self.read_clock()
        }
    }

    #[test]
    fn reads_the_clock_once_per_budget_of_gas() {
        let mut w = Watchdog::new(Some(Instant::now() + std::time::Duration::from_secs(3600)));
        w.checkpoint(10 * CLOCK_EVERY_GAS);
        assert_eq!(w.budget, CLOCK_EVERY_GAS);
        w.checkpoint(10 * CLOCK_EVERY_GAS - 10);
        assert_eq!(w.budget, CLOCK_EVERY_GAS - 10);
        // A frame returning to its parent: remaining gas went up, nothing counted.
        w.checkpoint(11 * CLOCK_EVERY_GAS);
        assert_eq!(w.budget, CLOCK_EVERY_GAS - 10);
        // Spending the rest reads the clock and starts a new budget.
        assert!(!w.checkpoint(10 * CLOCK_EVERY_GAS));
        assert_eq!(w.budget, CLOCK_EVERY_GAS);
    }

    #[test]
    fn halts_past_the_deadline_and_stays_halted() {
        let mut w = Watchdog::new(Some(Instant::now()));
        assert!(!w.checkpoint(u64::MAX));
        assert!(w.checkpoint(u64::MAX - CLOCK_EVERY_GAS));
        assert!(w.expired());
        assert!(w.checkpoint(u64::MAX - CLOCK_EVERY_GAS));
    }

    #[test]
    fn without_a_deadline_never_halts() {
        let mut w = Watchdog::new(None);
        assert!(!w.checkpoint(u64::MAX));
        assert!(!w.checkpoint(0));
        assert!(!w.expired());
    }
}
