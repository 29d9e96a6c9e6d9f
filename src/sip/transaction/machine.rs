//! The four transaction state machines (RFC 3261 17.1.1, 17.1.2, 17.2.1, 17.2.2, with the
//! RFC 6026 Accepted state for INVITE), as pure functions from (state, input) to an
//! [`Action`] the layer carries out. They never touch buffers, queues or clocks.

use std::time::Duration;

use super::timer::{Timer, TimerConfig};
use super::{Error, State};

/// Which state machine a transaction runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// RFC 3261 17.1.1.
    InviteClient,
    /// RFC 3261 17.1.2.
    NonInviteClient,
    /// RFC 3261 17.2.1.
    InviteServer,
    /// RFC 3261 17.2.2.
    NonInviteServer,
}

/// What to do with one of the two timer slots of a transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Arm {
    /// Leave it as it is.
    #[default]
    Keep,
    /// Cancel it.
    Cancel,
    /// (Re)start it with this timer and duration; a zero lingering timer ends the transaction.
    Set(Timer, Duration),
}

/// How a transaction ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Normally (Timers D, I, J, K, L, M, or at once on a reliable transport).
    Terminated,
    /// Timer B, F or H fired.
    Timeout(Timer),
}

/// The effect of one input on a transaction.
#[derive(Clone, Copy, Debug, Default)]
pub struct Action {
    /// New state, if it changes.
    pub state: Option<State>,
    /// The input goes to the TU (otherwise it is absorbed).
    pub pass_up: bool,
    /// (Re)transmit the transaction's current outgoing message.
    pub send: bool,
    /// Build (once) and send the ACK for a non-2xx final response.
    pub ack: bool,
    /// Retransmission timer slot (A, E, G).
    pub retransmit: Arm,
    /// Timeout / lingering timer slot (B, D, F, H, I, J, K, L, M).
    pub deadline: Arm,
    /// End the transaction.
    pub end: Option<End>,
}

/// Initial state and action of a new transaction (the layer sends 100 Trying itself).
pub fn start(kind: Kind, reliable: bool, cfg: &TimerConfig) -> (State, Action) {
    let retransmit = |t| {
        if reliable {
            Arm::Keep
        } else {
            Arm::Set(t, cfg.t1)
        }
    };
    let deadline = |t| Arm::Set(t, cfg.t1x64());
    match kind {
        // RFC 3261 17.1.1.2: Calling; Timer A = T1 (unreliable only), Timer B = 64*T1.
        Kind::InviteClient => (
            State::Calling,
            Action {
                send: true,
                retransmit: retransmit(Timer::A),
                deadline: deadline(Timer::B),
                ..Action::default()
            },
        ),
        // RFC 3261 17.1.2.2: Trying; Timer E = T1 (unreliable only), Timer F = 64*T1.
        Kind::NonInviteClient => (
            State::Trying,
            Action {
                send: true,
                retransmit: retransmit(Timer::E),
                deadline: deadline(Timer::F),
                ..Action::default()
            },
        ),
        // RFC 3261 17.2.1: an INVITE server transaction starts in Proceeding.
        Kind::InviteServer => (
            State::Proceeding,
            Action {
                pass_up: true,
                ..Action::default()
            },
        ),
        // RFC 3261 17.2.2: a non-INVITE server transaction starts in Trying.
        Kind::NonInviteServer => (
            State::Trying,
            Action {
                pass_up: true,
                ..Action::default()
            },
        ),
    }
}

fn goto(state: State) -> Action {
    Action {
        state: Some(state),
        ..Action::default()
    }
}

/// A response received by a client transaction (RFC 3261 17.1.1.2, 17.1.2.2, RFC 6026 7.2).
pub fn client_response(
    kind: Kind,
    state: State,
    status: u16,
    reliable: bool,
    cfg: &TimerConfig,
) -> Action {
    let provisional = (100..200).contains(&status);
    let success = (200..300).contains(&status);
    match (kind, state) {
        (Kind::InviteClient, State::Calling | State::Proceeding) if provisional => {
            // RFC 3261 17.1.1.2: 1xx moves to Proceeding; retransmissions stop, and Timer B
            // applies to Calling only.
            let a = Action {
                pass_up: true,
                retransmit: Arm::Cancel,
                deadline: Arm::Cancel,
                ..Action::default()
            };
            Action {
                state: Some(State::Proceeding),
                ..a
            }
        }
        (Kind::InviteClient, State::Calling | State::Proceeding) if success => Action {
            // RFC 6026 7.2: a 2xx moves to Accepted and starts Timer M = 64*T1.
            pass_up: true,
            retransmit: Arm::Cancel,
            deadline: Arm::Set(Timer::M, cfg.t1x64()),
            ..goto(State::Accepted)
        },
        (Kind::InviteClient, State::Calling | State::Proceeding) => Action {
            // RFC 3261 17.1.1.2: 300-699 moves to Completed, is passed up, is ACKed, and
            // Timer D starts (32 s unreliable, 0 reliable).
            pass_up: true,
            ack: true,
            retransmit: Arm::Cancel,
            deadline: Arm::Set(Timer::D, cfg.linger(Timer::D, reliable)),
            ..goto(State::Completed)
        },
        // RFC 3261 17.1.1.2: a retransmitted final response in Completed is ACKed again and
        // not passed up.
        (Kind::InviteClient, State::Completed) if status >= 300 => Action {
            ack: true,
            ..Action::default()
        },
        // RFC 6026 7.2: 2xx retransmissions in Accepted go to the TU (it sends the ACK).
        (Kind::InviteClient, State::Accepted) if success => Action {
            pass_up: true,
            ..Action::default()
        },
        // RFC 3261 17.1.2.2: 1xx in Trying or Proceeding moves to Proceeding, passed up.
        (Kind::NonInviteClient, State::Trying | State::Proceeding) if provisional => Action {
            pass_up: true,
            ..goto(State::Proceeding)
        },
        (Kind::NonInviteClient, State::Trying | State::Proceeding) => Action {
            // RFC 3261 17.1.2.2: a final response moves to Completed and starts Timer K
            // (T4 unreliable, 0 reliable); retransmissions stop.
            pass_up: true,
            retransmit: Arm::Cancel,
            deadline: Arm::Set(Timer::K, cfg.linger(Timer::K, reliable)),
            ..goto(State::Completed)
        },
        // Everything else (response retransmissions) is absorbed.
        _ => Action::default(),
    }
}

/// A request matching an existing server transaction: a retransmission or an ACK
/// (RFC 3261 17.2.1, 17.2.2, RFC 6026 7.1).
pub fn server_request(
    kind: Kind,
    state: State,
    is_ack: bool,
    reliable: bool,
    cfg: &TimerConfig,
) -> Action {
    match (kind, state, is_ack) {
        // RFC 3261 17.2.1: an INVITE retransmission in Proceeding resends the most recent
        // provisional response; in Completed, the final response.
        (Kind::InviteServer, State::Proceeding | State::Completed, false) => Action {
            send: true,
            ..Action::default()
        },
        // RFC 3261 17.2.1: an ACK in Completed moves to Confirmed; Timer G stops and Timer I
        // (T4 unreliable, 0 reliable) starts. The ACK is absorbed.
        (Kind::InviteServer, State::Completed, true) => Action {
            retransmit: Arm::Cancel,
            deadline: Arm::Set(Timer::I, cfg.linger(Timer::I, reliable)),
            ..goto(State::Confirmed)
        },
        // RFC 6026 7.1: in Accepted an ACK (for the 2xx) goes to the TU; INVITE
        // retransmissions are absorbed without a response.
        (Kind::InviteServer, State::Accepted, true) => Action {
            pass_up: true,
            ..Action::default()
        },
        // RFC 3261 17.2.2: a retransmission in Proceeding or Completed resends the last
        // response; in Trying it is discarded.
        (Kind::NonInviteServer, State::Proceeding | State::Completed, false) => Action {
            send: true,
            ..Action::default()
        },
        _ => Action::default(),
    }
}

/// A response the TU passes to a server transaction (RFC 3261 17.2.1, 17.2.2, RFC 6026 7.1).
pub fn server_respond(
    kind: Kind,
    state: State,
    status: u16,
    reliable: bool,
    cfg: &TimerConfig,
) -> Result<Action, Error> {
    if !(100..700).contains(&status) {
        return Err(Error::Malformed);
    }
    let send = Action {
        send: true,
        ..Action::default()
    };
    let final_state = |state, deadline| Action {
        state: Some(state),
        deadline,
        ..send
    };
    Ok(match (kind, state) {
        // RFC 3261 17.2.1: provisional responses in Proceeding are sent, state unchanged.
        (Kind::InviteServer, State::Proceeding) if status < 200 => send,
        // RFC 6026 7.1: a 2xx moves to Accepted and starts Timer L = 64*T1.
        (Kind::InviteServer, State::Proceeding) if status < 300 => {
            final_state(State::Accepted, Arm::Set(Timer::L, cfg.t1x64()))
        }
        // RFC 3261 17.2.1: 300-699 moves to Completed; Timer G = T1 (unreliable only) and
        // Timer H = 64*T1.
        (Kind::InviteServer, State::Proceeding) => Action {
            retransmit: if reliable {
                Arm::Keep
            } else {
                Arm::Set(Timer::G, cfg.t1)
            },
            ..final_state(State::Completed, Arm::Set(Timer::H, cfg.t1x64()))
        },
        // RFC 6026 7.1: 2xx retransmissions from the TU in Accepted are sent.
        (Kind::InviteServer, State::Accepted) if (200..300).contains(&status) => send,
        // RFC 3261 17.2.2: 1xx in Trying or Proceeding moves to Proceeding.
        (Kind::NonInviteServer, State::Trying | State::Proceeding) if status < 200 => Action {
            state: Some(State::Proceeding),
            ..send
        },
        // RFC 3261 17.2.2: a final response moves to Completed; Timer J = 64*T1 unreliable,
        // 0 reliable.
        (Kind::NonInviteServer, State::Trying | State::Proceeding) => final_state(
            State::Completed,
            Arm::Set(Timer::J, cfg.linger(Timer::J, reliable)),
        ),
        _ => return Err(Error::InvalidState),
    })
}

/// A timer fired. `interval` is the retransmission interval that just elapsed.
pub fn timer_fired(state: State, timer: Timer, interval: Duration, cfg: &TimerConfig) -> Action {
    let resend = |next| Action {
        send: true,
        retransmit: Arm::Set(timer, next),
        ..Action::default()
    };
    match (timer, state) {
        // RFC 3261 17.1.1.2: Timer A retransmits and doubles, without a cap, until Timer B.
        (Timer::A, State::Calling) => resend(interval.saturating_mul(2)),
        // RFC 3261 17.1.2.2: Timer E in Trying doubles up to T2; in Proceeding it is T2.
        (Timer::E, State::Trying) => resend(interval.saturating_mul(2).min(cfg.t2)),
        (Timer::E, State::Proceeding) => resend(cfg.t2),
        // RFC 3261 17.2.1: Timer G retransmits the final response, doubling up to T2.
        (Timer::G, State::Completed) => resend(interval.saturating_mul(2).min(cfg.t2)),
        // RFC 3261 17.1.1.2, 17.1.2.2: Timer B / F: the TU is told of the timeout.
        (Timer::B, State::Calling) | (Timer::F, State::Trying | State::Proceeding) => Action {
            end: Some(End::Timeout(timer)),
            ..Action::default()
        },
        // RFC 3261 17.2.1: Timer H: no ACK arrived; the TU is told of the failure.
        (Timer::H, State::Completed) => Action {
            end: Some(End::Timeout(timer)),
            ..Action::default()
        },
        // RFC 3261 17.1.1.2 D, 17.1.2.2 K, 17.2.1 I, 17.2.2 J, RFC 6026 L and M.
        (Timer::D | Timer::I | Timer::J | Timer::K | Timer::L | Timer::M, _) => Action {
            end: Some(End::Terminated),
            ..Action::default()
        },
        _ => Action::default(),
    }
}
