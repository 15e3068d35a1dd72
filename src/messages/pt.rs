//! Portuguese texts (the default; the assignment's numbered description).

use std::fmt::{self, Write};

use crate::command::{UserError, Verb};
use crate::engine::{EngineError, Event};

pub(super) const HELP_INTRO: &str = "Comandos:";

pub(super) fn event(event: &Event, out: &mut String) -> fmt::Result {
    match event {
        Event::Received { call } => write!(out, "Chamada {call} recebida"),
        Event::Ringing { call, operator } => {
            write!(out, "Chamada {call} tocando para o operador {operator}")
        }
        Event::Answered { call, operator } => {
            write!(out, "Chamada {call} atendida pelo operador {operator}")
        }
        Event::Rejected { call, operator } => {
            write!(out, "Chamada {call} rejeitada pelo operador {operator}")
        }
        Event::Finished { call, operator } => {
            write!(
                out,
                "Chamada {call} concluída e operador {operator} disponível"
            )
        }
        Event::Queued { call } => write!(out, "Chamada {call} aguardando na fila"),
        Event::Missed { call } => write!(out, "Chamada {call} perdida"),
        Event::Ignored { call, operator } => {
            write!(out, "Chamada {call} ignorada pelo operador {operator}")
        }
        // The ACD's events (SPEC §9) live in acd.rs.
        other => super::acd::event(super::Lang::Pt, other, out),
    }
}

pub(super) fn error(error: &UserError, out: &mut String) -> fmt::Result {
    match error {
        UserError::UnknownCommand(word) => write!(out, "Comando desconhecido: {word}"),
        UserError::Usage(verb) => write!(out, "Uso: {}", super::usage(*verb)),
        UserError::Engine(EngineError::CallExists(call)) => write!(out, "Chamada {call} já existe"),
        UserError::Engine(EngineError::CallNotFound(call)) => {
            write!(out, "Chamada {call} não encontrada")
        }
        UserError::Engine(EngineError::OperatorNotFound(op)) => {
            write!(out, "Operador {op} não encontrado")
        }
        UserError::Engine(EngineError::NotRinging(op)) => {
            write!(out, "Operador {op} não tem chamada tocando")
        }
        // The ACD's errors (SPEC §9.2) live in acd.rs.
        UserError::Engine(other) => super::acd::error(super::Lang::Pt, other, out),
        UserError::InvalidRequest => write!(
            out,
            "Requisição inválida: esperado {{\"command\": \"<comando>\", \"id\": \"<id>\"}}"
        ),
        UserError::MessageTooLong => write!(
            out,
            "Mensagem longa demais (mais de {} bytes): fechando a conexão",
            crate::wire::MAX_MESSAGE
        ),
        UserError::ServerFull(max) => {
            write!(out, "Servidor cheio (limite {max}): tente mais tarde")
        }
        UserError::CannotConnect { addr, reason } => {
            write!(out, "Não foi possível conectar a {addr}: {reason}")
        }
        UserError::ServerGone => write!(out, "Conexão com o servidor perdida"),
        UserError::InvalidReply => write!(out, "Resposta inválida do servidor"),
    }
}

pub(super) fn describe(verb: Verb) -> (&'static str, &'static str) {
    let text = match verb {
        Verb::Call => "chega uma chamada com o id <id>",
        Verb::Answer => "o operador <id> atende a chamada que toca para ele",
        Verb::Reject => "o operador <id> rejeita a chamada que toca para ele",
        Verb::Hangup => "a chamada <id> termina",
        Verb::Help => "lista os comandos, ou descreve um",
        Verb::Exit => "sai (o fim da entrada também)",
    };
    (super::usage(verb), text)
}
