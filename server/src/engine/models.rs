//! The packages a server serves, and which one answers a request: the one it names (`model`),
//! else the package fine-tuned for its task (`finetuned_for`), else `--default-model`, else the
//! first that serves the task.

use std::sync::Arc;

use mplug2_model::tasks::Task;

use super::Engine;

pub struct Models {
    engines: Vec<Arc<Engine>>,
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

impl Models {
    /// `default`: the `--default-model` name, which must be one of the packages'.
    pub fn new(engines: Vec<Arc<Engine>>, default: Option<&str>) -> Result<Models, SelectError> {
        let default = match default {
            None => None,
            Some(name) => Some(
                engines
                    .iter()
                    .position(|engine| engine.info().name == name)
                    .ok_or_else(|| SelectError::Unknown {
                        name: name.to_owned(),
                        served: names(&engines),
                    })?,
            ),
        };
        Ok(Models { engines, default })
    }

    pub fn all(&self) -> &[Arc<Engine>] {
        &self.engines
    }

    /// Whether a package of this name is served (a metric label may carry it).
    pub fn serves_model(&self, name: &str) -> bool {
        self.engines.iter().any(|engine| engine.info().name == name)
    }

    /// The package that answers a request for `tasks` naming `model`, or none.
    pub fn select(&self, model: Option<&str>, tasks: &[Task]) -> Result<&Arc<Engine>, SelectError> {
        let serves = |engine: &&Arc<Engine>| tasks.iter().all(|task| engine.serves(*task));
        let task = tasks.first().copied().unwrap_or(Task::Caption);
        if let Some(name) = model {
            let engine = self
                .engines
                .iter()
                .find(|engine| engine.info().name == name)
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
                        .map(|engine| engine.info().name.clone())
                        .collect(),
                });
        }
        let finetuned = self
            .engines
            .iter()
            .filter(serves)
            .find(|engine| engine.info().finetuned_for.as_deref() == Some(task.name()));
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

fn names(engines: &[Arc<Engine>]) -> Vec<String> {
    engines
        .iter()
        .map(|engine| engine.info().name.clone())
        .collect()
}
