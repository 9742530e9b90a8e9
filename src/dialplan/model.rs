//! The parsed, validated dialplan: routes, calendars, flows and their steps.
//!
//! Owns: the immutable data model. A [`Dialplan`] is built only by `load.rs` (which
//! validates it) and then shared as `Arc<Dialplan>`: a call keeps the `Arc` it started with,
//! so a reload never changes a call in progress. Must not touch: I/O, clocks, the
//! interpreter's per-call state.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::dialplan::calendar::Calendar;
use crate::dialplan::expr::Expr;
use crate::dialplan::pattern::Pattern;
use crate::dialplan::say::{Currency, Gender};

/// A whole validated dialplan (every file of a `dialplans/` directory).
#[derive(Debug)]
pub struct Dialplan {
    /// Languages every prompt must exist in; the first is the default.
    pub languages: Vec<String>,
    /// Routes in the order they were written (files sorted by name).
    pub routes: Vec<Route>,
    /// Business-hours calendars by name.
    pub calendars: BTreeMap<String, Calendar>,
    /// Flows by name.
    pub flows: BTreeMap<String, Flow>,
}

/// Which dialled numbers go to which flow.
#[derive(Debug, Clone)]
pub struct Route {
    /// What the dialled number must match.
    pub matcher: RouteMatch,
    /// Name of the flow to run.
    pub flow: String,
    /// Where the route was written.
    pub origin: Origin,
}

/// How a [`Route`] matches a dialled number.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RouteMatch {
    /// Exactly one of these numbers (e.g. an extension `5000`).
    Numbers(Vec<String>),
    /// An Asterisk-style pattern such as `_1XXX`.
    Pattern(Pattern),
    /// The DIDs of a trunk; calls arriving on that trunk to one of those numbers.
    Trunk {
        /// Trunk name as in the config.
        trunk: String,
        /// The trunk's DIDs (E.164 as the trunk delivers them).
        dids: Vec<String>,
    },
}

/// Where something was written: file and 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// File name (as given to the loader).
    pub file: String,
    /// 1-based line.
    pub line: usize,
}

/// A named flow: a list of steps run in order unless a step jumps.
#[derive(Debug)]
pub struct Flow {
    /// The flow's name.
    pub name: String,
    /// Language the flow switches to when it starts, if any.
    pub language: Option<String>,
    /// The steps; execution starts at index 0.
    pub steps: Vec<Step>,
    /// Where the flow was declared.
    pub origin: Origin,
}

impl Flow {
    /// Index of the step with this id.
    pub fn step_index(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id.as_deref() == Some(id))
    }
}

/// One step of a flow.
#[derive(Debug)]
pub struct Step {
    /// Optional id, the target of jumps.
    pub id: Option<String>,
    /// Explicit successor (a step id) instead of the next step in the list.
    pub next: Option<String>,
    /// What the step does.
    pub kind: StepKind,
    /// Where the step was written.
    pub origin: Origin,
}

impl Step {
    /// A readable name for messages: the id, or the kind and position.
    pub fn label(&self, index: usize) -> String {
        match &self.id {
            Some(id) => format!("'{id}'"),
            None => format!("#{} ({})", index + 1, self.kind.name()),
        }
    }
}

/// A step's action and parameters.
#[derive(Debug)]
#[non_exhaustive]
pub enum StepKind {
    /// Answer the call (waits for the answer to be confirmed).
    Answer,
    /// Play prompts.
    Play {
        /// Prompt names, played in order.
        prompts: Vec<String>,
        /// Whether a DTMF digit stops the playback (the digit is kept for the next input).
        barge_in: bool,
    },
    /// Say a value as digits, a number, an amount or a date.
    Say {
        /// Expression giving the value.
        value: Expr,
        /// How to read it.
        form: SayForm,
        /// Whether a digit stops the playback.
        barge_in: bool,
    },
    /// A menu: prompts, one key per option, retries on invalid keys and timeouts.
    Menu(Menu),
    /// Collect digits into a variable.
    Collect(Collect),
    /// Set variables from expressions (dotted names set nested fields).
    Set(Vec<(String, Expr)>),
    /// Switch the call's language.
    Language(String),
    /// Conditional jumps: the first true case wins; otherwise `otherwise` or the next step.
    Branch {
        /// `(condition, target step id)` in order.
        cases: Vec<(Expr, String)>,
        /// Target when no case is true.
        otherwise: Option<String>,
    },
    /// A CTI lookup whose answer becomes a variable.
    Lookup(Lookup),
    /// Business hours: jump to `open` or `closed`.
    Hours {
        /// Calendar name.
        calendar: String,
        /// Target when open (default: next step).
        open: Option<String>,
        /// Target when closed.
        closed: String,
    },
    /// Hand the call to a routing queue; the flow ends there.
    Queue(QueueStep),
    /// Offer (or just register) a callback.
    Callback(CallbackStep),
    /// Record a voicemail that becomes a task.
    Voicemail(VoicemailStep),
    /// Ask questions answered by keys and store the answers.
    Survey(Survey),
    /// Transfer to an extension, a queue or an external number.
    Transfer {
        /// Where to.
        target: TransferTarget,
        /// Step to go to when the transfer fails (default: next step).
        on_failure: Option<String>,
    },
    /// Ring an extension.
    Dial {
        /// The extension.
        extension: String,
        /// How long to ring.
        timeout: Duration,
        /// Step to go to when nobody answers (default: next step).
        on_failure: Option<String>,
    },
    /// Continue in another flow (no return).
    Goto(String),
    /// Run another flow and come back after it ends or returns.
    Call(String),
    /// Return from a `call`ed flow (hang up at top level).
    Return,
    /// Hang up.
    HangUp,
}

impl StepKind {
    /// The YAML key of this kind.
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Answer => "answer",
            StepKind::Play { .. } => "play",
            StepKind::Say { .. } => "say",
            StepKind::Menu(_) => "menu",
            StepKind::Collect(_) => "collect",
            StepKind::Set(_) => "set",
            StepKind::Language(_) => "language",
            StepKind::Branch { .. } => "branch",
            StepKind::Lookup(_) => "lookup",
            StepKind::Hours { .. } => "hours",
            StepKind::Queue(_) => "queue",
            StepKind::Callback(_) => "callback",
            StepKind::Voicemail(_) => "voicemail",
            StepKind::Survey(_) => "survey",
            StepKind::Transfer { .. } => "transfer",
            StepKind::Dial { .. } => "dial",
            StepKind::Goto(_) => "goto",
            StepKind::Call(_) => "call",
            StepKind::Return => "return",
            StepKind::HangUp => "hangup",
        }
    }

    /// Whether the step waits for the caller or the outside world (used by the
    /// loop-without-wait check).
    pub fn waits(&self) -> bool {
        match self {
            StepKind::Play { prompts, .. } => !prompts.is_empty(),
            StepKind::Callback(c) => !c.prompts.is_empty(),
            StepKind::Say { .. }
            | StepKind::Menu(_)
            | StepKind::Collect(_)
            | StepKind::Lookup(_)
            | StepKind::Queue(_)
            | StepKind::Voicemail(_)
            | StepKind::Survey(_)
            | StepKind::Transfer { .. }
            | StepKind::Dial { .. } => true,
            _ => false,
        }
    }

    /// Whether execution never falls through to the next step in the list.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            StepKind::Goto(_) | StepKind::Return | StepKind::HangUp | StepKind::Queue(_)
        )
    }
}

/// How a `say` step reads its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SayForm {
    /// Digit by digit.
    Digits,
    /// A cardinal number, with a grammatical gender for Polish.
    Number(Gender),
    /// An amount of money (value in major units, e.g. `12.50`).
    Amount(Currency),
    /// A date `YYYY-MM-DD`.
    Date,
}

/// Parameters of a `menu` step.
#[derive(Debug)]
pub struct Menu {
    /// Prompts played on each attempt (barge-in always on).
    pub prompts: Vec<String>,
    /// Key → target step id.
    pub options: Vec<(char, String)>,
    /// Time to wait for a key after the prompts.
    pub timeout: Duration,
    /// How many times the menu is repeated after an invalid key or a timeout.
    pub retries: u32,
    /// Prompt played after an invalid key, before repeating.
    pub invalid_prompt: Option<String>,
    /// Prompt played after a timeout, before repeating.
    pub timeout_prompt: Option<String>,
    /// Target when retries run out after an invalid key (default: next step).
    pub on_invalid: Option<String>,
    /// Target when retries run out after a timeout (default: next step).
    pub on_timeout: Option<String>,
}

/// Parameters of a `collect` step.
#[derive(Debug)]
pub struct Collect {
    /// Prompts played before collecting (barge-in always on).
    pub prompts: Vec<String>,
    /// Variable that receives the digits (also copied into `digits`).
    pub into: String,
    /// Minimum number of digits.
    pub min: usize,
    /// Maximum number of digits (collection ends when reached).
    pub max: usize,
    /// Key that ends collection early (not stored).
    pub terminator: Option<char>,
    /// Time to wait for the first digit.
    pub timeout: Duration,
    /// Time to wait between digits.
    pub inter_digit: Duration,
    /// Repeats after too few digits.
    pub retries: u32,
    /// Prompt played before repeating.
    pub invalid_prompt: Option<String>,
    /// Target when retries run out (default: next step, variable unset).
    pub on_invalid: Option<String>,
}

/// Parameters of a `lookup` step.
#[derive(Debug)]
pub struct Lookup {
    /// The CTI request's name (e.g. `customer_by_phone`).
    pub name: String,
    /// Request parameters, each an expression.
    pub params: Vec<(String, Expr)>,
    /// Variable receiving the answer.
    pub into: String,
    /// How long to wait for the answer.
    pub timeout: Duration,
    /// Target on error or timeout (default: next step).
    pub on_error: Option<String>,
}

/// Parameters of a `queue` step.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueStep {
    /// Queue name.
    pub queue: String,
    /// Skills the agent must have.
    pub skills: Vec<String>,
    /// Priority (higher first).
    pub priority: i32,
    /// What the caller hears while waiting.
    pub announce: Announce,
}

/// Queue announcement settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Announce {
    /// Tell the caller their position.
    pub position: bool,
    /// Tell the estimated wait.
    pub wait_time: bool,
    /// How often to repeat the announcement.
    pub every: Duration,
    /// Music-on-hold class (`sounds/moh/<class>.wav`; default `default`).
    pub music: Option<String>,
    /// The key a waiting caller presses to keep their place and be called back.
    pub keep_place: KeepPlace,
}

/// Whether and by which key a waiting caller may keep their place and be called back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepPlace {
    /// The queue's key (`[queues.callback] keep_place_key`, default `1`).
    Queue,
    /// This key.
    Key(char),
    /// Not offered.
    Off,
}

/// Parameters of a `callback` step.
#[derive(Debug)]
pub struct CallbackStep {
    /// Queue the callback task goes to.
    pub queue: String,
    /// Offer prompts; empty means register the callback without asking.
    pub prompts: Vec<String>,
    /// Key that accepts the offer.
    pub accept: char,
    /// How long to wait for the key.
    pub timeout: Duration,
    /// Keep the caller's place in the queue.
    pub keep_position: bool,
    /// Number to call back (expression; default `caller.number`).
    pub number: Expr,
    /// Target when the offer is declined or times out (default: next step).
    pub on_decline: Option<String>,
    /// Target when the callback cannot be stored (default: next step).
    pub on_failure: Option<String>,
}

/// Parameters of a `voicemail` step.
#[derive(Debug, Clone, PartialEq)]
pub struct VoicemailStep {
    /// Queue the voicemail task goes to.
    pub queue: String,
    /// Prompts before the beep.
    pub prompts: Vec<String>,
    /// Longest recording.
    pub max_duration: Duration,
    /// Silence from the caller that ends the recording.
    pub max_silence: Duration,
}

/// Parameters of a `survey` step.
#[derive(Debug, Clone, PartialEq)]
pub struct Survey {
    /// Survey name.
    pub name: String,
    /// Questions in order.
    pub questions: Vec<Question>,
    /// Time to wait for an answer.
    pub timeout: Duration,
}

/// One survey question.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// Question name (the stored answer's key).
    pub name: String,
    /// Prompts asking it.
    pub prompts: Vec<String>,
    /// Accepted keys.
    pub keys: Vec<char>,
}

/// Where a `transfer` step sends the call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferTarget {
    /// An internal extension.
    Extension(String),
    /// A routing queue.
    Queue(String),
    /// An external number through a trunk.
    External {
        /// The number.
        number: String,
        /// Trunk name.
        trunk: String,
    },
}
