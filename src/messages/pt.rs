//! Portuguese texts (the default; the assignment's numbered description).

use std::fmt::{self, Write};

use crate::command::{CommandError, Verb};
use crate::engine::{EngineError, Event};
use crate::error::{ClientError, ConnectFailure, RunError, ServerError};
use crate::wire::WireError;

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

pub(super) fn command_error(error: &CommandError, out: &mut String) -> fmt::Result {
    match error {
        CommandError::UnknownCommand(word) => write!(out, "Comando desconhecido: {word}"),
        CommandError::Usage(verb) => write!(out, "Uso: {}", super::usage(*verb)),
    }
}

pub(super) fn engine_error(error: &EngineError, out: &mut String) -> fmt::Result {
    match error {
        EngineError::CallExists(call) => write!(out, "Chamada {call} já existe"),
        EngineError::CallNotFound(call) => {
            write!(out, "Chamada {call} não encontrada")
        }
        EngineError::OperatorNotFound(op) => {
            write!(out, "Operador {op} não encontrado")
        }
        EngineError::NotRinging(op) => {
            write!(out, "Operador {op} não tem chamada tocando")
        }
        // The ACD's errors (SPEC §9.2) live in acd.rs.
        other => super::acd::error(super::Lang::Pt, other, out),
    }
}

pub(super) fn wire_error(error: &WireError, out: &mut String) -> fmt::Result {
    match error {
        WireError::Command(error) => command_error(error, out),
        WireError::InvalidRequest => write!(
            out,
            "Requisição inválida: esperado {{\"command\": \"<comando>\", \"id\": \"<id>\"}}"
        ),
        WireError::MessageTooLong => write!(
            out,
            "Mensagem longa demais (mais de {} bytes): fechando a conexão",
            crate::wire::MAX_MESSAGE
        ),
    }
}

pub(super) fn server_error(error: &ServerError, out: &mut String) -> fmt::Result {
    match error {
        ServerError::Full(max) => {
            write!(out, "Servidor cheio (limite {max}): tente mais tarde")
        }
    }
}

pub(super) fn client_error(error: &ClientError, out: &mut String) -> fmt::Result {
    match error {
        ClientError::CannotConnect { addr, reason } => {
            write!(out, "Não foi possível conectar a {addr}: ")?;
            connect_failure(reason, out)
        }
        ClientError::ServerGone => write!(out, "Conexão com o servidor perdida"),
        ClientError::InvalidReply => write!(out, "Resposta inválida do servidor"),
    }
}

fn connect_failure(reason: &ConnectFailure, out: &mut String) -> fmt::Result {
    match reason {
        ConnectFailure::Os(text) => out.write_str(text),
        ConnectFailure::NoAddress => out.write_str("nenhum endereço encontrado"),
    }
}

pub(super) fn run_error(error: &RunError, out: &mut String) -> fmt::Result {
    match error {
        RunError::Stdio(error) => write!(out, "falha na entrada/saída padrão: {error}"),
        RunError::Os(error) => write!(out, "{error}"),
        RunError::NoAddress(addr) => write!(out, "nenhum endereço para {addr}"),
        RunError::QueueLog { path, error } => write!(
            out,
            "não foi possível abrir o registro da fila {}: {error}",
            path.display()
        ),
    }
}

pub(super) fn describe(verb: Verb) -> (&'static str, &'static str) {
    let text = match verb {
        Verb::Call => "chega uma chamada com o id <id>; prioridade 0-9, maior primeiro (padrão 0)",
        Verb::Answer => "o operador <id> atende a chamada que toca para ele",
        Verb::Reject => "o operador <id> rejeita a chamada que toca para ele",
        Verb::Hangup => "a chamada <id> termina",
        Verb::Pause => "o operador <op> não recebe novas chamadas até sair da pausa",
        Verb::Unpause => "o operador <op> sai da pausa",
        Verb::Login => "o operador <op> entra na distribuição (um novo, no fim)",
        Verb::Logout => "o operador <op> sai da distribuição (não enquanto toca ou atende)",
        Verb::Status => "mostra a fila e cada operador",
        Verb::Stats => "mostra os contadores desde o início",
        Verb::Help => "lista os comandos, ou descreve um",
        Verb::Exit => "sai (o fim da entrada também)",
    };
    (super::usage(verb), text)
}
