//! The packages a server serves, and which one answers a request: the one it names (`model`),
//! else the package fine-tuned for its task (`finetuned_for`), else `--default-model`, else the
//! first that serves the task.

use std::sync::Arc;

use mplug2_model::tasks::Task;

use super::Engine;

/// What selection needs to know of a package (an `Engine`; a stand-in in the tests).
pub trait Servable {
    fn name(&self) -> &str;
    fn finetuned_for(&self) -> Option<&str>;
    fn serves(&self, task: Task) -> bool;
}

impl Servable for Arc<Engine> {
    fn name(&self) -> &str {
        &self.info().name
    }

    fn finetuned_for(&self) -> Option<&str> {
        self.info().finetuned_for.as_deref()
    }

    fn serves(&self, task: Task) -> bool {
        Engine::serves(self, task)
    }
}

pub struct Models<E = Arc<Engine>> {
    engines: Vec<E>,
    /// The index of `--default-model`'s package.
    default: Option<usize>,
}

/// Why no package answers a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("no model `{name}` is served; the models are: {}", .served.join(", "))]
    Unknown { name: String, served: Vec<String> },
    #[error("model `{name}` does not serve {task}; the models that do: {}", or_none(.serving))]
    NotServing {
        name: String,
        task: Task,
        serving: Vec<String>,
    },
    #[error("no model served here serves {task}")]
    NoneServes { task: Task },
}

fn or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

impl<E: Servable> Models<E> {
    /// `default`: the `--default-model` name, which must be one of the packages'.
    pub fn new(engines: Vec<E>, default: Option<&str>) -> Result<Models<E>, SelectError> {
        let default = match default {
            None => None,
            Some(name) => Some(
                engines
                    .iter()
                    .position(|engine| engine.name() == name)
                    .ok_or_else(|| SelectError::Unknown {
                        name: name.to_owned(),
                        served: names(&engines),
                    })?,
            ),
        };
        Ok(Models { engines, default })
    }

    pub fn all(&self) -> &[E] {
        &self.engines
    }

    /// Whether a package of this name is served (a metric label may carry it).
    pub fn serves_model(&self, name: &str) -> bool {
        self.engines.iter().any(|engine| engine.name() == name)
    }

    /// The package that answers a request for `tasks` naming `model`, or none.
    pub fn select(&self, model: Option<&str>, tasks: &[Task]) -> Result<&E, SelectError> {
        let serves = |engine: &&E| tasks.iter().all(|task| engine.serves(*task));
        let task = tasks.first().copied().unwrap_or(Task::Caption);
        if let Some(name) = model {
            let engine = self
                .engines
                .iter()
                .find(|engine| engine.name() == name)
                .ok_or_else(|| SelectError::Unknown {
                    name: name.to_owned(),
                    served: names(&self.engines),
                })?;
            return Some(engine)
                .filter(serves)
                .ok_or_else(|| SelectError::NotServing {
                    name: name.to_owned(),
                    task,
                    serving: self
                        .engines
                        .iter()
                        .filter(serves)
                        .map(|engine| engine.name().to_owned())
                        .collect(),
                });
        }
        let finetuned = self
            .engines
            .iter()
            .filter(serves)
            .find(|engine| engine.finetuned_for() == Some(task.name()));
        let default = self
            .default
            .map(|index| &self.engines[index])
            .filter(serves);
        finetuned
            .or(default)
            .or_else(|| self.engines.iter().find(serves))
            .ok_or(SelectError::NoneServes { task })
    }
}

fn names<E: Servable>(engines: &[E]) -> Vec<String> {
    engines
        .iter()
        .map(|engine| engine.name().to_owned())
        .collect()
}

#[cfg(test)]
#[path = "models_tests.rs"]
mod tests;
