//! Every user-facing text, one file per language.
//!
//! Modes never spell a message themselves: they hand an [`Event`] or an
//! error (any type that is [`Localized`]: one per layer) to [`Lang`], which
//! writes the exact line (no newline) of `pt.rs` or `en.rs`.

use std::fmt::Write;
use std::str::FromStr;

use crate::command::{CommandError, Verb};
use crate::engine::{EngineError, Event};
use crate::error::{ClientError, RunError, ServerError};
use crate::queue_service::ServiceError;
use crate::wire::WireError;

mod acd;
mod en;
mod pt;

/// The language of every message: Portuguese (the default, as in the
/// assignment) or English.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    /// Portuguese: `Chamada 1 recebida`.
    #[default]
    Pt,
    /// English: `Call 1 received`.
    En,
}

impl FromStr for Lang {
    type Err = String;

    fn from_str(text: &str) -> Result<Lang, String> {
        match text {
            "pt" => Ok(Lang::Pt),
            "en" => Ok(Lang::En),
            other => Err(format!("unknown language {other:?} (expected pt or en)")),
        }
    }
}

impl Lang {
    /// Appends the message of `event` to `out`, without a newline.
    pub fn write_event(self, event: &Event, out: &mut String) {
        // Writing to a String cannot fail.
        let _ = match self {
            Lang::Pt => pt::event(event, out),
            Lang::En => en::event(event, out),
        };
    }

    /// Appends the one-line message of `error` to `out`, without a newline.
    pub fn write_error(self, error: &(impl Localized + ?Sized), out: &mut String) {
        error.write_in(self, out);
    }

    /// Appends the help text (every command, or one), ending with a newline.
    pub fn write_help(self, topic: Option<Verb>, out: &mut String) {
        type Describe = fn(Verb) -> (&'static str, &'static str);
        let (intro, describe): (&str, Describe) = match self {
            Lang::Pt => (pt::HELP_INTRO, pt::describe),
            Lang::En => (en::HELP_INTRO, en::describe),
        };
        let aliases_word = match self {
            Lang::Pt => "sinônimos",
            Lang::En => "aliases",
        };
        let line = |verb: Verb, out: &mut String| {
            let (usage, text) = describe(verb);
            let _ = writeln!(
                out,
                "  {usage:<14} {text} ({aliases_word}: {})",
                verb.aliases().join(", ")
            );
        };
        match topic {
            Some(verb) => line(verb, out),
            None => {
                let _ = writeln!(out, "{intro}");
                for verb in Verb::ALL {
                    line(verb, out);
                }
            }
        }
    }
}

// Observability (SPEC §10.2): the reply to `subscribe`.
impl Lang {
    /// Appends the reply to `{"command": "subscribe"}` (`Monitoring all
    /// events`), without a newline.
    pub fn write_monitoring(self, out: &mut String) {
        out.push_str(match self {
            Lang::Pt => "Monitorando todos os eventos",
            Lang::En => "Monitoring all events",
        });
    }
}

/// An error with a one-line message in each language.
pub trait Localized {
    /// Appends the message in `lang` to `out`, without a newline.
    fn write_in(&self, lang: Lang, out: &mut String);
}

/// Implements [`Localized`] by the given function of `pt.rs` and `en.rs`.
macro_rules! localized {
    ($type:ty, $function:ident) => {
        impl Localized for $type {
            fn write_in(&self, lang: Lang, out: &mut String) {
                // Writing to a String cannot fail.
                let _ = match lang {
                    Lang::Pt => pt::$function(self, out),
                    Lang::En => en::$function(self, out),
                };
            }
        }
    };
}

localized!(CommandError, command_error);
localized!(EngineError, engine_error);
localized!(WireError, wire_error);
localized!(ServerError, server_error);
localized!(ClientError, client_error);
localized!(RunError, run_error);

impl Localized for ServiceError {
    fn write_in(&self, lang: Lang, out: &mut String) {
        match self {
            ServiceError::NotAQueueCommand(verb) => CommandError::Usage(*verb).write_in(lang, out),
            ServiceError::Engine(error) => error.write_in(lang, out),
        }
    }
}

/// The usage shown for a verb in `Usage:` errors and in help.
fn usage(verb: Verb) -> &'static str {
    match verb {
        Verb::Call => "call <id> [priority]",
        Verb::Answer => "answer <id>",
        Verb::Reject => "reject <id>",
        Verb::Hangup => "hangup <id>",
        Verb::Pause => "pause <op> [reason]",
        Verb::Unpause => "unpause <op>",
        Verb::Login => "login <op>",
        Verb::Logout => "logout <op>",
        Verb::Status => "status",
        Verb::Stats => "stats",
        Verb::Help => "help [cmd]",
        Verb::Exit => "exit",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    fn event_text(lang: Lang, event: Event) -> String {
        let mut out = String::new();
        lang.write_event(&event, &mut out);
        out
    }

    #[test]
    fn every_event_matches_the_spec_in_both_languages() {
        let c: Rc<str> = Rc::from("7");
        let o: Rc<str> = Rc::from("B");
        let cases = [
            (
                Event::Received { call: c.clone() },
                "Chamada 7 recebida",
                "Call 7 received",
            ),
            (
                Event::Ringing {
                    call: c.clone(),
                    operator: o.clone(),
                },
                "Chamada 7 tocando para o operador B",
                "Call 7 ringing for operator B",
            ),
            (
                Event::Answered {
                    call: c.clone(),
                    operator: o.clone(),
                },
                "Chamada 7 atendida pelo operador B",
                "Call 7 answered by operator B",
            ),
            (
                Event::Rejected {
                    call: c.clone(),
                    operator: o.clone(),
                },
                "Chamada 7 rejeitada pelo operador B",
                "Call 7 rejected by operator B",
            ),
            (
                Event::Finished {
                    call: c.clone(),
                    operator: o.clone(),
                },
                "Chamada 7 concluída e operador B disponível",
                "Call 7 finished and operator B available",
            ),
            (
                Event::Queued { call: c.clone() },
                "Chamada 7 aguardando na fila",
                "Call 7 waiting in queue",
            ),
            (
                Event::Missed { call: c.clone() },
                "Chamada 7 perdida",
                "Call 7 missed",
            ),
            (
                Event::Ignored {
                    call: c.clone(),
                    operator: o.clone(),
                },
                "Chamada 7 ignorada pelo operador B",
                "Call 7 ignored by operator B",
            ),
        ];
        for (event, pt, en) in cases {
            assert_eq!(event_text(Lang::Pt, event.clone()), pt);
            assert_eq!(event_text(Lang::En, event), en);
        }
    }

    #[test]
    fn every_error_matches_the_spec_in_both_languages() {
        use crate::engine::EngineError as E;
        let cases: [(Box<dyn Localized>, &str, &str); 6] = [
            (
                Box::new(CommandError::UnknownCommand("dance".into())),
                "Comando desconhecido: dance",
                "Unknown command: dance",
            ),
            (
                Box::new(CommandError::Usage(Verb::Answer)),
                "Uso: answer <id>",
                "Usage: answer <id>",
            ),
            (
                Box::new(E::CallExists("1".into())),
                "Chamada 1 já existe",
                "Call 1 already exists",
            ),
            (
                Box::new(E::CallNotFound("9".into())),
                "Chamada 9 não encontrada",
                "Call 9 not found",
            ),
            (
                Box::new(E::OperatorNotFound("Z".into())),
                "Operador Z não encontrado",
                "Operator Z not found",
            ),
            (
                Box::new(E::NotRinging("A".into())),
                "Operador A não tem chamada tocando",
                "Operator A has no ringing call",
            ),
        ];
        for (error, pt, en) in cases {
            let mut text = String::new();
            Lang::Pt.write_error(&*error, &mut text);
            assert_eq!(text, pt);
            text.clear();
            Lang::En.write_error(&*error, &mut text);
            assert_eq!(text, en);
        }
    }

    #[test]
    fn help_lists_every_verb_and_describes_one() {
        for lang in [Lang::Pt, Lang::En] {
            let mut all = String::new();
            lang.write_help(None, &mut all);
            assert_eq!(all.lines().count(), 1 + Verb::ALL.len());
            let mut one = String::new();
            lang.write_help(Some(Verb::Hangup), &mut one);
            assert_eq!(one.lines().count(), 1);
            assert!(all.contains(&one));
        }
    }
}
