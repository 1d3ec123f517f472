//! Controlled schedules: a [`ScheduleHook`] under which only one worker of a parallel
//! executor runs at a time. At every semantic point (task claimed, read, write set recorded,
//! validation, idle) the running worker stops and the controller picks who continues: from a
//! seed (uniform random, or PCT priorities, Burckhardt et al., ASPLOS 2010), or from a recorded
//! schedule. The choices are the schedule: recorded, replayed exactly, shrunk.
//!
//! A worker waiting inside the executor without reaching a hook would stall the controller;
//! executors must report idling (`SchedEvent::Idle`, `SchedEvent::ChainWait`) instead of blocking. A run past the step
//! budget (a livelock) panics inside the executor, which reports the panic as a divergence.

use lockstep_executors::hook::{SchedEvent, ScheduleHook, WorkerId};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::{Condvar, Mutex, MutexGuard};

/// How the controller picks the next worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Strategy {
    /// Uniformly among the waiting workers.
    Random {
        /// Seeds the controller's ChaCha8 generator.
        seed: u64,
    },
    /// PCT: random distinct priorities, the highest runs; at `depth - 1` random steps the
    /// running worker drops below every other.
    Pct {
        /// Seeds the initial priorities and the change points.
        seed: u64,
        /// PCT's bug depth `d`: `d - 1` priority change points.
        depth: usize,
        /// Steps the run is expected to take: change points are drawn uniformly from
        /// `1..=expected_steps`.
        expected_steps: u64,
    },
    /// The worker on the highest transaction runs, a worker that has claimed none yet first:
    /// high transactions start and read before the low ones finish, and the lowest wait. One
    /// pick in eight is uniform instead, from the seed.
    HighFirst {
        /// Seeds the uniform picks.
        seed: u64,
    },
    /// Follow recorded choices; after them, keep the last worker running while it can.
    Replay {
        /// The worker to run at each pick, in order (a [`Schedule::choices`]).
        choices: Vec<usize>,
    },
}

/// One step of a controlled run: the worker that paused and where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The worker's index (its [`WorkerId`]).
    pub worker: usize,
    /// The event, for people (`execute tx 3/1`, `tx 2 reads ...`, `idle`); no stable format.
    pub event: String,
}

/// A recorded schedule: the choices (enough to replay) and the events (for people).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Workers of the controlled run.
    pub workers: usize,
    /// The worker chosen to run at each pick, in order: what [`Strategy::Replay`] replays.
    pub choices: Vec<usize>,
    /// Every hook event but worker exits, in the order the workers reported them.
    pub trace: Vec<Step>,
}

impl Schedule {
    /// Points where the chosen worker differs from the previous choice.
    pub fn preemptions(&self) -> usize {
        self.choices.windows(2).filter(|w| w[0] != w[1]).count()
    }
}

struct State {
    started: usize,
    live: BTreeSet<usize>,
    waiting: BTreeSet<usize>,
    running: Option<usize>,
    rng: ChaCha8Rng,
    priorities: Vec<i64>,
    change_points: Vec<u64>,
    replay: Option<Vec<usize>>,
    choices: Vec<usize>,
    trace: Vec<Step>,
    steps: u64,
    aborted: bool,
    /// Workers that reported nothing to do since the last real step: they yield to others.
    idle: BTreeSet<usize>,
    /// The transaction each worker's last event was about.
    at: Vec<Option<usize>>,
}

/// The [`ScheduleHook`] of a controlled run: lets one worker run at a time, picks the next at
/// each of its events by [`Strategy`], and records the [`Schedule`]. A run past `step_budget`
/// events panics in the worker that reported the last one (a livelock).
pub struct Controller {
    workers: usize,
    strategy: Strategy,
    step_budget: u64,
    state: Mutex<State>,
    turn: Condvar,
}

impl Controller {
    /// A controller for an executor started with `workers` workers: no worker runs until all
    /// of them have reported `WorkerStart`; `step_budget` events in all are allowed.
    pub fn new(workers: usize, strategy: Strategy, step_budget: u64) -> Controller {
        let seed = match &strategy {
            Strategy::Random { seed } | Strategy::Pct { seed, .. } | Strategy::HighFirst { seed } => *seed,
            Strategy::Replay { .. } => 0,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (priorities, change_points) = match &strategy {
            Strategy::Pct { depth, expected_steps, .. } => {
                // Distinct random priorities above every change-point priority.
                let mut p: Vec<i64> = (0..workers as i64).map(|i| i + *depth as i64 + 1).collect();
                for i in (1..p.len()).rev() {
                    let j = rng.random_range(0..=i);
                    p.swap(i, j);
                }
                let cps =
                    (0..depth.saturating_sub(1)).map(|_| rng.random_range(1..=(*expected_steps).max(1))).collect();
                (p, cps)
            }
            _ => (Vec::new(), Vec::new()),
        };
        let replay = match &strategy {
            Strategy::Replay { choices } => Some(choices.clone()),
            _ => None,
        };
        Controller {
            workers,
            strategy,
            step_budget,
            state: Mutex::new(State {
                started: 0,
                live: BTreeSet::new(),
                waiting: BTreeSet::new(),
                running: None,
                rng,
                priorities,
                change_points,
                replay,
                choices: Vec::new(),
                trace: Vec::new(),
                steps: 0,
                aborted: false,
                idle: BTreeSet::new(),
                at: vec![None; workers],
            }),
            turn: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The schedule so far (complete once the executor returned).
    pub fn schedule(&self) -> Schedule {
        let s = self.lock();
        Schedule { workers: self.workers, choices: s.choices.clone(), trace: s.trace.clone() }
    }

    /// The strategy the controller picks by.
    pub fn strategy(&self) -> &Strategy {
        &self.strategy
    }

    /// Picks the next worker among the waiting ones.
    fn pick(&self, s: &mut State) {
        // An idle worker spins until another one makes progress: never pick it while someone
        // else can run, or a priority-based choice would spin forever.
        let mut waiting: Vec<usize> = s.waiting.iter().copied().collect();
        if waiting.iter().any(|w| !s.idle.contains(w)) {
            waiting.retain(|w| !s.idle.contains(w));
        }
        if waiting.is_empty() {
            s.running = None;
            return;
        }
        let step = s.choices.len();
        let last = s.choices.last().copied();
        let chosen = match &self.strategy {
            Strategy::Random { .. } => waiting[s.rng.random_range(0..waiting.len())],
            Strategy::HighFirst { .. } => {
                if s.rng.random_ratio(1, 8) {
                    waiting[s.rng.random_range(0..waiting.len())]
                } else {
                    let at = |w: &usize| s.at.get(*w).copied().flatten().map_or(usize::MAX, |tx| tx);
                    *waiting.iter().max_by_key(|w| at(w)).expect("non-empty")
                }
            }
            Strategy::Pct { .. } => {
                if let Some(k) = s.change_points.iter().position(|c| *c == step as u64)
                    && let Some(l) = last
                    && let Some(p) = s.priorities.get_mut(l)
                {
                    *p = k as i64;
                }
                *waiting.iter().max_by_key(|w| s.priorities.get(**w).copied().unwrap_or(0)).expect("non-empty")
            }
            Strategy::Replay { .. } => {
                let recorded = s.replay.as_ref().and_then(|r| r.get(step).copied());
                match recorded {
                    Some(w) if s.waiting.contains(&w) => w,
                    // Past the recorded prefix (or off it): run the last worker on, else the lowest.
                    _ => last.filter(|l| waiting.contains(l)).unwrap_or(waiting[0]),
                }
            }
        };
        s.choices.push(chosen);
        s.running = Some(chosen);
        self.turn.notify_all();
    }
}

/// The transaction an event is about.
fn tx_of(e: &SchedEvent) -> Option<usize> {
    match e {
        SchedEvent::ExecuteClaimed { tx, .. }
        | SchedEvent::ValidateClaimed { tx, .. }
        | SchedEvent::Read { tx, .. }
        | SchedEvent::Recorded { tx, .. }
        | SchedEvent::Validated { tx, .. }
        | SchedEvent::Suspended { tx, .. }
        | SchedEvent::ChainWait { tx, .. } => Some(tx.0),
        SchedEvent::WorkerStart | SchedEvent::WorkerExit | SchedEvent::Idle => None,
    }
}

fn describe(e: &SchedEvent) -> String {
    match e {
        SchedEvent::WorkerStart => "start".into(),
        SchedEvent::WorkerExit => "exit".into(),
        SchedEvent::ExecuteClaimed { tx, incarnation } => format!("execute {tx}/{}", incarnation.0),
        SchedEvent::ValidateClaimed { tx, incarnation } => format!("validate {tx}/{}", incarnation.0),
        SchedEvent::Read { tx, location } => format!("{tx} reads {location}"),
        SchedEvent::Recorded { tx, incarnation, writes } => format!("{tx}/{} recorded {writes} writes", incarnation.0),
        SchedEvent::Validated { tx, incarnation, valid } => format!("{tx}/{} valid={valid}", incarnation.0),
        SchedEvent::Suspended { tx, blocked_on } => format!("{tx} waits on {blocked_on}"),
        SchedEvent::Idle => "idle".into(),
        SchedEvent::ChainWait { tx, waits_for } => format!("{tx} waits a moment for {waits_for}"),
    }
}

impl ScheduleHook for Controller {
    fn on_event(&self, worker: WorkerId, event: &SchedEvent) {
        let w = worker.0;
        let mut s = self.lock();
        if s.aborted {
            return;
        }
        match event {
            SchedEvent::WorkerStart => {
                s.started += 1;
                s.live.insert(w);
            }
            SchedEvent::WorkerExit => {
                s.live.remove(&w);
                if s.running == Some(w) {
                    self.pick(&mut s);
                }
                return;
            }
            _ => s.trace.push(Step { worker: w, event: describe(event) }),
        }
        if let Some(tx) = tx_of(event)
            && let Some(at) = s.at.get_mut(w)
        {
            *at = Some(tx);
        }
        // A worker that is only waiting yields to the others, as an idle one does.
        if matches!(event, SchedEvent::Idle | SchedEvent::ChainWait { .. }) {
            s.idle.insert(w);
        } else {
            s.idle.clear();
        }
        s.waiting.insert(w);
        if s.running == Some(w) {
            s.running = None;
        }
        if s.started >= self.workers && s.running.is_none() {
            self.pick(&mut s);
        }
        s.steps += 1;
        if s.steps > self.step_budget {
            s.aborted = true;
            self.turn.notify_all();
            drop(s);
            panic!("schedule step budget of {} exceeded: livelock or runaway", self.step_budget);
        }
        while s.running != Some(w) && !s.aborted {
            s = self.turn.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        s.waiting.remove(&w);
    }
}
