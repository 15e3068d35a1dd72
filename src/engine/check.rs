//! [`Engine::check_invariants`]: every internal invariant, for tests.

use super::{Activity, Engaged, Engine};

impl Engine {
    /// Checks every internal invariant; for tests. O(n).
    ///
    /// An operator holds at most one call and that call points back to it;
    /// every live call is in exactly one place; an operator is dispatchable
    /// exactly when logged in, not paused and idle, and only while the queue
    /// is empty; a logged-out operator is not paused; the queue's links, the
    /// index by id and the counts agree with the data.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.calls.check()?;
        if self.engaged.len() + self.calls.waiting() != self.calls.len() {
            return Err("a live call is neither waiting nor engaged".into());
        }
        if self.engaged_ids.len() != self.engaged.len() {
            return Err("the engaged calls and their shared ids disagree".into());
        }
        for (&key, engaged) in &self.engaged {
            if self.engaged_ids.get(&key).map(|id| &**id) != Some(self.calls.id(key)) {
                return Err(format!(
                    "engaged call {} has no shared id",
                    self.calls.id(key)
                ));
            }
            if self.calls.is_waiting(key) {
                return Err(format!("call {} waits and is engaged", self.calls.id(key)));
            }
            let ok = match engaged {
                Engaged::Ringing(ringers) => {
                    let ringers = ringers.to_vec();
                    !ringers.is_empty()
                        && ringers.iter().all(|&op| {
                            matches!(self.operators[op].activity,
                                Activity::Ringing { call, .. } if call == key)
                        })
                }
                Engaged::Active { operator, .. } => matches!(
                    self.operators[*operator].activity,
                    Activity::OnCall { call } if call == key
                ),
            };
            if !ok {
                return Err(format!(
                    "call {} is not where its state says",
                    self.calls.id(key)
                ));
            }
        }
        let mut offers = std::collections::HashSet::new();
        for (index, op) in self.operators.iter().enumerate() {
            if self.operator_index.get(&op.id) != Some(&index) {
                return Err(format!("operator {} is not indexed", op.id));
            }
            let ok = match op.activity {
                Activity::Ringing { call, offer } => {
                    offers.insert(offer)
                        && matches!(self.engaged.get(&call),
                            Some(Engaged::Ringing(ringers)) if ringers.contains(index))
                }
                Activity::OnCall { call } => matches!(self.engaged.get(&call),
                    Some(Engaged::Active { operator, .. }) if *operator == index),
                Activity::LoggedOut => op.pause.is_none(),
                Activity::Idle | Activity::WrapUp { .. } => true,
            };
            if !ok {
                return Err(format!("operator {} is not where its state says", op.id));
            }
        }
        if self.operator_index.len() != self.operators.len() {
            return Err("operator index and operators differ in size".into());
        }
        self.dispatchable.check(
            self.operators
                .iter()
                .map(|op| matches!(op.activity, Activity::Idle) && op.pause.is_none()),
        )?;
        if !self.dispatchable.is_empty() && self.calls.waiting() > 0 {
            return Err("an operator is available while calls wait".into());
        }
        Ok(())
    }
}
