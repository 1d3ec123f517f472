//! From a divergence to something a client team can act on: a bundle directory
//! ([`bundle`]) with the block as `evm t8n` input ([`t8n`]) and as a state test
//! ([`state_test`]), a README (`readme`); [`replay`] runs it again, [`minimize`] shrinks it.

pub mod bundle;
mod capture;
mod found;
pub mod import;
pub mod minimize;
pub mod paths;
mod readme;
pub mod replay;
pub mod state_test;
pub mod t8n;

pub use bundle::{Case, ExecutorId};
pub use capture::{CaptureNote, capture, capture_bundle};
pub use found::{Controlled, Found, write_found};
pub use minimize::{Minimized, minimize_bundle};
pub use replay::{Replayed, replay_bundle};
