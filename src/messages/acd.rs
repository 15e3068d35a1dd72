//! The ACD's texts (SPEC §9): operator states, pauses, wrap-up, the queue
//! cap, and the `status` and `stats` reports, in both languages.
//!
//! Kept apart from `en.rs` and `pt.rs`, which hold the seed's texts: those
//! hand every ACD event and error here.

use std::fmt::{self, Write};
use std::time::Duration;

use super::Lang;
use crate::engine::{ActivityName, EngineError, Event, StatsSnapshot, StatusSnapshot};

/// Writes an ACD event (one of the seed's writes nothing: `en.rs` and
/// `pt.rs` handle those).
pub(super) fn event(lang: Lang, event: &Event, out: &mut String) -> fmt::Result {
    let en = lang == Lang::En;
    match event {
        Event::FinishedIntoWrapUp { call, operator } => match en {
            true => write!(
                out,
                "Call {call} finished and operator {operator} in wrap-up"
            ),
            false => write!(
                out,
                "Chamada {call} concluída e operador {operator} em pós-atendimento"
            ),
        },
        Event::FinishedPaused { call, operator } => match en {
            true => write!(out, "Call {call} finished and operator {operator} paused"),
            false => write!(
                out,
                "Chamada {call} concluída e operador {operator} em pausa"
            ),
        },
        Event::Paused { operator, reason } => {
            match en {
                true => write!(out, "Operator {operator} paused")?,
                false => write!(out, "Operador {operator} em pausa")?,
            }
            match reason {
                Some(reason) => write!(out, " ({reason})"),
                None => Ok(()),
            }
        }
        Event::Unpaused { operator } => match en {
            true => write!(out, "Operator {operator} unpaused"),
            false => write!(out, "Operador {operator} saiu da pausa"),
        },
        Event::LoggedIn { operator } => match en {
            true => write!(out, "Operator {operator} logged in"),
            false => write!(out, "Operador {operator} conectado"),
        },
        Event::LoggedOut { operator } => match en {
            true => write!(out, "Operator {operator} logged out"),
            false => write!(out, "Operador {operator} desconectado"),
        },
        Event::Available { operator } => match en {
            true => write!(out, "Operator {operator} available"),
            false => write!(out, "Operador {operator} disponível"),
        },
        Event::AutoPaused { operator, count } => match (en, *count == 1) {
            (true, true) => write!(out, "Operator {operator} paused after 1 unanswered call"),
            (true, false) => write!(
                out,
                "Operator {operator} paused after {count} unanswered calls"
            ),
            (false, true) => write!(
                out,
                "Operador {operator} em pausa após 1 chamada não atendida"
            ),
            (false, false) => write!(
                out,
                "Operador {operator} em pausa após {count} chamadas não atendidas"
            ),
        },
        Event::Received { .. }
        | Event::Ringing { .. }
        | Event::Answered { .. }
        | Event::Rejected { .. }
        | Event::Finished { .. }
        | Event::Queued { .. }
        | Event::Missed { .. }
        | Event::Ignored { .. } => Ok(()),
    }
}

/// Writes an ACD engine error (the seed's four write nothing here).
pub(super) fn error(lang: Lang, error: &EngineError, out: &mut String) -> fmt::Result {
    let en = lang == Lang::En;
    match error {
        EngineError::AlreadyPaused(o) => match en {
            true => write!(out, "Operator {o} already paused"),
            false => write!(out, "Operador {o} já está em pausa"),
        },
        EngineError::NotPaused(o) => match en {
            true => write!(out, "Operator {o} not paused"),
            false => write!(out, "Operador {o} não está em pausa"),
        },
        EngineError::AlreadyLoggedIn(o) => match en {
            true => write!(out, "Operator {o} already logged in"),
            false => write!(out, "Operador {o} já está conectado"),
        },
        EngineError::NotLoggedIn(o) => match en {
            true => write!(out, "Operator {o} not logged in"),
            false => write!(out, "Operador {o} não está conectado"),
        },
        EngineError::Busy(o) => match en {
            true => write!(out, "Operator {o} is busy"),
            false => write!(out, "Operador {o} está ocupado"),
        },
        EngineError::QueueFull(c) => match en {
            true => write!(out, "Call {c} refused: queue full"),
            false => write!(out, "Chamada {c} recusada: fila cheia"),
        },
        EngineError::CallExists(_)
        | EngineError::CallNotFound(_)
        | EngineError::OperatorNotFound(_)
        | EngineError::NotRinging(_) => Ok(()),
    }
}

/// One decimal, with a decimal comma in Portuguese.
fn decimal(lang: Lang, value: f64) -> String {
    let text = format!("{value:.1}");
    match lang {
        Lang::En => text,
        Lang::Pt => text.replace('.', ","),
    }
}

/// A threshold: whole seconds without decimals (`20`), else one decimal.
fn threshold(lang: Lang, value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        decimal(lang, value)
    }
}

fn whole_seconds(time: Duration) -> u64 {
    time.as_secs()
}

impl Lang {
    /// Appends the `status` report (SPEC §9.5), every line ending in `\n`.
    pub fn write_status(self, status: &StatusSnapshot, out: &mut String) {
        let _ = write_status(self, status, out);
    }

    /// Appends the `stats` report (SPEC §9.6), every line ending in `\n`.
    pub fn write_stats(self, stats: &StatsSnapshot, out: &mut String) {
        let _ = write_stats(self, stats, out);
    }
}

fn write_status(lang: Lang, status: &StatusSnapshot, out: &mut String) -> fmt::Result {
    let en = lang == Lang::En;
    let (waiting, wait) = (status.waiting, whole_seconds(status.longest_wait));
    match en {
        true => writeln!(out, "Queue: {waiting} waiting, longest wait {wait} s")?,
        false => writeln!(out, "Fila: {waiting} aguardando, maior espera {wait} s")?,
    }
    for op in &status.operators {
        let id = &op.id;
        let call = op.call.as_deref().unwrap_or_default();
        match en {
            true => write!(out, "Operator {id}: ")?,
            false => write!(out, "Operador {id}: ")?,
        }
        match (op.state, en) {
            (ActivityName::Idle, true) => write!(out, "idle")?,
            (ActivityName::Idle, false) => write!(out, "livre")?,
            (ActivityName::Ringing, true) => write!(out, "ringing call {call}")?,
            (ActivityName::Ringing, false) => write!(out, "tocando chamada {call}")?,
            (ActivityName::OnCall, true) => write!(out, "on call {call}")?,
            (ActivityName::OnCall, false) => write!(out, "em atendimento da chamada {call}")?,
            (ActivityName::WrapUp, true) => write!(out, "in wrap-up")?,
            (ActivityName::WrapUp, false) => write!(out, "em pós-atendimento")?,
            (ActivityName::LoggedOut, true) => write!(out, "logged out")?,
            (ActivityName::LoggedOut, false) => write!(out, "desconectado")?,
        }
        if op.paused {
            out.push_str(if en { ", paused" } else { ", em pausa" });
            if let Some(reason) = &op.reason {
                write!(out, " ({reason})")?;
            }
        }
        out.push('\n');
    }
    if !status.queue.is_empty() {
        out.push_str(if en { "Waiting: " } else { "Aguardando: " });
        out.push_str(&status.queue.join(", "));
        let rest = status.waiting.saturating_sub(status.queue.len());
        if rest > 0 {
            match en {
                true => write!(out, " and {rest} more")?,
                false => write!(out, " e mais {rest}")?,
            }
        }
        out.push('\n');
    }
    Ok(())
}

fn write_stats(lang: Lang, stats: &StatsSnapshot, out: &mut String) -> fmt::Result {
    let en = lang == Lang::En;
    let (r, a, f, m) = (stats.received, stats.answered, stats.finished, stats.missed);
    let (rej, ign) = (stats.rejected, stats.ignored);
    let avg = decimal(lang, stats.wait_avg_s);
    let max = decimal(lang, stats.wait_max_s);
    let within = threshold(lang, stats.service_level.seconds);
    let level = match stats.service_level.percent {
        Some(percent) => format!("{}%", decimal(lang, percent)),
        None => "n/a".to_string(),
    };
    if en {
        writeln!(
            out,
            "Calls: {r} received, {a} answered, {f} finished, {m} missed"
        )?;
        writeln!(out, "Rings: {rej} rejected, {ign} ignored")?;
        writeln!(out, "Wait: average {avg} s, longest {max} s")?;
        writeln!(out, "Service level: {level} within {within} s")?;
    } else {
        writeln!(
            out,
            "Chamadas: {r} recebidas, {a} atendidas, {f} concluídas, {m} perdidas"
        )?;
        writeln!(out, "Toques: {rej} rejeitados, {ign} ignorados")?;
        writeln!(out, "Espera: média {avg} s, máxima {max} s")?;
        writeln!(out, "Nível de serviço: {level} em até {within} s")?;
    }
    for op in &stats.operators {
        let (id, a, rej, ign) = (&op.id, op.answered, op.rejected, op.ignored);
        let talk = decimal(lang, op.talk_s);
        match en {
            true => writeln!(
                out,
                "Operator {id}: {a} answered, {rej} rejected, {ign} ignored, talk {talk} s"
            )?,
            false => writeln!(
                out,
                "Operador {id}: {a} atendidas, {rej} rejeitadas, {ign} ignoradas, conversa {talk} s"
            )?,
        }
    }
    Ok(())
}
